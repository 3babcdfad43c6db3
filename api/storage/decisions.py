"""Panel decisions and the locks they imply.

The latest decision about a child wins: `accept` or `override` locks the child to that
school (`locked_school_id` in the next run); `refuse` leaves the child unlocked.

Decisions about one case are checked and stored one at a time: `hold_case` locks the case's row
(PostgreSQL: SELECT ... FOR NO KEY UPDATE, which still lets runs of the case be inserted) inside
a `Database.serialised()` session (SQLite: BEGIN IMMEDIATE), so the locks read after it are
the latest, and no other decision about the case can be stored before this transaction ends.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.clock import now
from api.storage.tables import CaseRecord, DecisionRecord

LOCKING = ("accept", "override")


def hold_case(session: Session, case_id: str) -> bool:
    """Lock the case's row until the session's transaction ends; False when there is no such case."""
    query = select(CaseRecord.case_id).where(CaseRecord.case_id == case_id).with_for_update(key_share=True)
    return session.scalar(query) is not None


def add_decision(
    session: Session,
    case_id: str,
    child_id: str,
    school_id: str,
    decision: str,
    reason: str,
    decided_by: str,
    run_id: str | None = None,
) -> DecisionRecord:
    record = DecisionRecord(
        case_id=case_id,
        child_id=child_id,
        school_id=school_id,
        decision=decision,
        reason=reason,
        run_id=run_id,
        decided_at=now(),
        decided_by=decided_by,
    )
    session.add(record)
    session.flush()
    return record


def decisions_for_case(session: Session, case_id: str) -> list[DecisionRecord]:
    query = select(DecisionRecord).where(DecisionRecord.case_id == case_id).order_by(DecisionRecord.decision_id)
    return list(session.scalars(query))


def locks_for_case(session: Session, case_id: str) -> dict[str, str]:
    """child_id -> locked school_id, from the latest decision about each child."""
    latest: dict[str, DecisionRecord] = {}
    for record in decisions_for_case(session, case_id):
        latest[record.child_id] = record
    return {child: record.school_id for child, record in latest.items() if record.decision in LOCKING}
