"""Panel decisions: about a finished run of the case, checked against it and the case, then
recorded with who and when. Nothing is stored from a refused decision.

A decision names the run it is about (`run_id`), a finished run of the same case (else 409
`run_of_another_case` or `run_not_finished`; 422 `run_unknown` for no such run):
* `accept` takes the school that run proposed for the child;
* `override` names another school than the one proposed;
* `refuse` refuses the school that run proposed.
Anything else is 409 `decision_does_not_match_run`.

An `accept` or `override` becomes a lock for the next run, so it is checked the way the
run will use it: the case is loaded with every lock (old and new) applied, and any
problem (a wrong need or age) is a 422 `decision_conflicts` listing the loader's problems;
a school whose places of the child's need are all locked already is a 409 `no_place_left`.

The check and the insert cannot interleave with another decision about the case: the insert
happens in a transaction that holds the case (`Database.serialised()` and `hold_case`), and
the check is repeated there whenever another decision was stored since it was first made. So
concurrent decisions never lock more children than there are places; each loser gets the 409.
"""

from typing import Any, Literal

from api.errors import ApiError, not_found
from api.jobs import FINISHED
from api.services.case_files import children_rows, load_files, school_rows
from api.storage import audit
from api.storage.audit import entries_for_case
from api.storage.cases import case_files, get_case
from api.storage.database import Database
from api.storage.decisions import LOCKING, add_decision, decisions_for_case, hold_case, locks_for_case
from api.storage.placements import has_placements, placement_of
from api.storage.runs import get_run, status_of
from api.storage.tables import AuditEntry, DecisionRecord
from models.problems import CaseInvalid

Decision = Literal["accept", "override", "refuse"]


def check_decision(
    database: Database, case_id: str, decision: dict[str, Any]
) -> tuple[dict[str, bytes], dict[str, str]]:
    """Every check `record_decision` makes before it holds the case (see the module docstring);
    returns the case's files and the panel's locks as they were read. Nothing is stored."""
    child_id, school_id, run_id = decision["child_id"], decision["school_id"], decision["run_id"]
    with database.session() as session:
        if get_case(session, case_id) is None:
            raise not_found("case", case_id)
        files = case_files(session, case_id)
        locks = locks_for_case(session, case_id)
        run = get_run(session, run_id)
        if run is None:
            raise ApiError(422, "run_unknown", f"there is no run '{run_id}'")
        if run.case_id != case_id:
            raise ApiError(409, "run_of_another_case", f"run '{run_id}' is a run of case '{run.case_id}'")
        if status_of(run) not in FINISHED:
            raise ApiError(
                409, "run_not_finished", f"run '{run_id}' has not finished with an allocation ({run.status})"
            )
        if not has_placements(session, run_id):
            raise ApiError(409, "run_has_no_allocation", f"a '{run.kind}' run proposes no placements")
        placement = placement_of(session, run_id, child_id)
        proposed = None if placement is None else placement.school_id
    if child_id not in children_rows(files):
        raise ApiError(422, "child_unknown", f"child '{child_id}' is not in case '{case_id}'")
    if school_id not in school_rows(files):
        raise ApiError(422, "school_unknown", f"school '{school_id}' is not in case '{case_id}'")
    _check_against_run(decision["decision"], child_id, school_id, run_id, proposed)
    if decision["decision"] in LOCKING:
        _check_lock(files, locks, child_id, school_id)
    return files, locks


def record_decision(database: Database, case_id: str, decision: dict[str, Any], key_id: str) -> DecisionRecord:
    """`decision` holds child_id, school_id, decision, reason and run_id (already typed)."""
    child_id, school_id, run_id = decision["child_id"], decision["school_id"], decision["run_id"]
    # The lock is checked before the case is held, so that the hold stays short ...
    files, locks = check_decision(database, case_id, decision)
    locking = decision["decision"] in LOCKING
    with database.serialised() as session:
        if not hold_case(session, case_id):
            raise not_found("case", case_id)
        now_locked = locks_for_case(session, case_id)
        if locking and now_locked != locks:  # ... and again if another decision came in between
            _check_lock(files, now_locked, child_id, school_id)
        record = add_decision(
            session, case_id, child_id, school_id, decision["decision"], decision["reason"], key_id, run_id
        )
        audit.record(
            session,
            case_id,
            key_id,
            "decision_recorded",
            {
                "decision_id": record.decision_id,
                "child_id": child_id,
                "school_id": school_id,
                "decision": record.decision,
                "reason": record.reason,
                "run_id": run_id,
            },
        )
    return record


def _check_lock(files: dict[str, bytes], locks: dict[str, str], child_id: str, school_id: str) -> None:
    """The case must load with the child locked at the school besides `locks` (the panel's other
    locks): 409 `no_place_left` when every place of the child's need there is already locked,
    422 `decision_conflicts` with the loader's problems for anything else."""
    try:
        load_files(files, {**locks, child_id: school_id})
    except CaseInvalid as error:
        full = _places_all_locked(files, locks, child_id, school_id)
        if full is not None:
            raise ApiError(409, "no_place_left", full, error.lines()) from None
        raise ApiError(422, "decision_conflicts", "the placement cannot be kept as a lock", error.lines()) from None


def _places_all_locked(files: dict[str, bytes], locks: dict[str, str], child_id: str, school_id: str) -> str | None:
    """Why the school has no place left for the child (every place of the child's need there is
    locked to other children, by the panel or the upload), or None when a place is left or the
    lock fails for another reason (no such need there, the child's age)."""
    try:
        case = load_files(files, {name: school for name, school in locks.items() if name != child_id}).case
    except CaseInvalid:  # the other locks no longer load (stored before decisions were serialised)
        return None
    child = next(found for found in case.children if found.child_id == child_id)
    school = next(found for found in case.schools if found.school_id == school_id)
    places = sum(offer.places for offer in case.places if (offer.school_id, offer.need) == (school_id, child.need))
    if places <= 0 or not school.takes_age(child.age):
        return None
    taken = sum(
        1
        for other in case.children
        if other.child_id != child_id and other.locked_school_id == school_id and other.need == child.need
    )
    if taken < places:
        return None
    return (
        f"'{school_id}' has {places} {child.need.value} place(s) and all are locked to other children; "
        f"no place is left for child '{child_id}'"
    )


def _check_against_run(decision: Decision, child_id: str, school_id: str, run_id: str, proposed: str | None) -> None:
    """409 `decision_does_not_match_run` unless the decision fits what the run proposed."""
    where = f"run '{run_id}' proposed {f'{proposed!r}' if proposed else 'no school'} for child '{child_id}'"
    if decision == "override":
        if school_id == proposed:
            raise ApiError(409, "decision_does_not_match_run", f"{where}: accept it instead of overriding it")
    elif school_id != proposed:
        raise ApiError(409, "decision_does_not_match_run", f"{where}, not '{school_id}': {decision} names that school")


def list_decisions(database: Database, case_id: str) -> list[DecisionRecord]:
    with database.session() as session:
        if get_case(session, case_id) is None:
            raise not_found("case", case_id)
        return decisions_for_case(session, case_id)


def audit_log(database: Database, case_id: str) -> list[AuditEntry]:
    with database.session() as session:
        if get_case(session, case_id) is None:
            raise not_found("case", case_id)
        return entries_for_case(session, case_id)
