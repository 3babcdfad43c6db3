"""Panel decisions and the locks they imply.

The latest decision about a child wins: `accept` or `override` locks the child to that
school (`locked_school_id` in the next run); `refuse` leaves the child unlocked.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.clock import now
from api.storage.tables import DecisionRecord

LOCKING = ("accept", "override")


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
