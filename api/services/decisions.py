"""Panel decisions: checked against the case, then recorded with who and when.

An `accept` or `override` becomes a lock for the next run, so it is checked the way the
run will use it: the case is loaded with every lock (old and new) applied, and any
problem (an unknown school, a wrong need or age, more locks than places) is a 422
`decision_conflicts` listing the loader's problems.
"""

from typing import Any

from api.errors import ApiError, not_found
from api.services.case_files import children_rows, load_files, school_rows
from api.storage import audit
from api.storage.cases import case_files, get_case
from api.storage.database import Database
from api.storage.decisions import LOCKING, add_decision, locks_for_case
from api.storage.runs import get_run
from api.storage.tables import DecisionRecord
from models.problems import CaseInvalid


def record_decision(database: Database, case_id: str, decision: dict[str, Any], key_id: str) -> DecisionRecord:
    """`decision` holds child_id, school_id, decision, reason and optionally run_id (already typed)."""
    child_id, school_id = decision["child_id"], decision["school_id"]
    with database.session() as session:
        if get_case(session, case_id) is None:
            raise not_found("case", case_id)
        files = case_files(session, case_id)
        locks = locks_for_case(session, case_id)
        run_id = decision.get("run_id")
        if run_id is not None:
            run = get_run(session, run_id)
            if run is None or run.case_id != case_id:
                raise ApiError(422, "run_unknown", f"run '{run_id}' is not a run of case '{case_id}'")
    if child_id not in children_rows(files):
        raise ApiError(422, "child_unknown", f"child '{child_id}' is not in case '{case_id}'")
    if school_id not in school_rows(files):
        raise ApiError(422, "school_unknown", f"school '{school_id}' is not in case '{case_id}'")
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
