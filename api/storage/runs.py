"""Runs and their lifecycle: queued -> running -> optimal | feasible | failed, or cancelled.

Moves are conditional updates (`... WHERE status = <expected>`), so a run cancelled while
running keeps `cancelled` and its late result is discarded.
"""

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from api.storage.clock import now
from api.storage.tables import RunRecord

QUEUED = "queued"
RUNNING = "running"
CANCELLED = "cancelled"
FAILED = "failed"
UNFINISHED = (QUEUED, RUNNING)


def add_run(session: Session, case_id: str, kind: str, options: dict[str, Any], created_by: str) -> RunRecord:
    run = RunRecord(
        run_id=f"run_{secrets.token_hex(8)}",
        case_id=case_id,
        kind=kind,
        options=options,
        status=QUEUED,
        created_at=now(),
        created_by=created_by,
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: str) -> RunRecord | None:
    return session.get(RunRecord, run_id)


def output_file(session: Session, run_id: str, name: str) -> str | None:
    """One output file of a run (allocation.csv is kept in its own column), or None."""
    if name == "allocation.csv":
        return session.scalar(select(RunRecord.allocation_csv).where(RunRecord.run_id == run_id))
    files = session.scalar(select(RunRecord.files).where(RunRecord.run_id == run_id)) or {}
    content = files.get(name)
    return None if content is None else str(content)


def move(session: Session, run_id: str, expected: tuple[str, ...], **values: Any) -> bool:
    """Set `values` on the run only if its status is one of `expected`; True when it moved."""
    statement = update(RunRecord).where(RunRecord.run_id == run_id, RunRecord.status.in_(expected)).values(**values)
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def start(session: Session, run_id: str) -> bool:
    return move(session, run_id, (QUEUED,), status=RUNNING, started_at=now())


def finish(session: Session, run_id: str, started: datetime | None, **values: Any) -> bool:
    finished = now()
    seconds = (finished - started).total_seconds() if started else None
    return move(session, run_id, (RUNNING,), finished_at=finished, seconds=seconds, **values)


def cancel(session: Session, run_id: str) -> bool:
    return move(session, run_id, UNFINISHED, status=CANCELLED, finished_at=now())


def fail_interrupted(session: Session) -> list[str]:
    """Runs left queued or running by a stopped service are failed; returns their ids."""
    stale = list(session.scalars(select(RunRecord.run_id).where(RunRecord.status.in_(UNFINISHED))))
    for run_id in stale:
        move(session, run_id, UNFINISHED, status=FAILED, error="the service stopped before the run finished")
    return stale
