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
problem (a wrong need or age, more locks than places) is a 422 `decision_conflicts`
listing the loader's problems.
"""

from typing import Any, Literal

from api.errors import ApiError, not_found
from api.jobs import FINISHED
from api.services.case_files import children_rows, load_files, school_rows
from api.storage import audit
from api.storage.audit import entries_for_case
from api.storage.cases import case_files, get_case
from api.storage.database import Database
from api.storage.decisions import LOCKING, add_decision, decisions_for_case, locks_for_case
from api.storage.placements import has_placements, placement_of
from api.storage.runs import get_run, status_of
from api.storage.tables import AuditEntry, DecisionRecord
from models.problems import CaseInvalid

Decision = Literal["accept", "override", "refuse"]


def record_decision(database: Database, case_id: str, decision: dict[str, Any], key_id: str) -> DecisionRecord:
    """`decision` holds child_id, school_id, decision, reason and run_id (already typed)."""
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
        try:
            load_files(files, {**locks, child_id: school_id})
        except CaseInvalid as error:
            raise ApiError(422, "decision_conflicts", "the placement cannot be kept as a lock", error.lines()) from None
    with database.session() as session:
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
