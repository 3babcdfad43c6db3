"""Runs and their lifecycle: queued -> running -> optimal | feasible | failed, or cancelled.

A run's stored `status` is one of its own states (`RunState`) or, once it has finished with an
allocation, the solver's status (`models.results.RunStatus`: optimal or feasible).
Moves are conditional updates (`... WHERE status = <expected>`), so a run cancelled while
running keeps `cancelled` and its late result is discarded.
"""

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from api.storage.clock import now
from api.storage.tables import RunRecord
from models.results import RunStatus


class RunState(StrEnum):
    """A run's states other than the status it finished with."""

    QUEUED = "queued"
    RUNNING = "running"
    FAILED = "failed"
    CANCELLED = "cancelled"


UNFINISHED = (RunState.QUEUED, RunState.RUNNING)


def status_of(run: RunRecord) -> RunState | RunStatus:
    """The stored status as its enum."""
    try:
        return RunState(run.status)
    except ValueError:
        return RunStatus(run.status)


def add_run(session: Session, case_id: str, kind: str, options: dict[str, Any], created_by: str) -> RunRecord:
    run = RunRecord(
        run_id=f"run_{secrets.token_hex(8)}",
        case_id=case_id,
        kind=kind,
        options=options,
        status=RunState.QUEUED.value,
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


def move(session: Session, run_id: str, expected: tuple[RunState, ...], **values: Any) -> bool:
    """Set `values` on the run only if its status is one of `expected`; True when it moved."""
    values = {name: value.value if isinstance(value, StrEnum) else value for name, value in values.items()}
    expected_values = [state.value for state in expected]
    statement = (
        update(RunRecord).where(RunRecord.run_id == run_id, RunRecord.status.in_(expected_values)).values(**values)
    )
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def start(session: Session, run_id: str) -> bool:
    return move(session, run_id, (RunState.QUEUED,), status=RunState.RUNNING, started_at=now())


def finish(session: Session, run_id: str, started: datetime | None, **values: Any) -> bool:
    finished = now()
    seconds = (finished - started).total_seconds() if started else None
    return move(session, run_id, (RunState.RUNNING,), finished_at=finished, seconds=seconds, **values)


def cancel(session: Session, run_id: str) -> bool:
    return move(session, run_id, UNFINISHED, status=RunState.CANCELLED, finished_at=now())


@dataclass(frozen=True)
class Interrupted:
    """A run failed because it was interrupted: which run, the state it was left in, and why."""

    run_id: str
    case_id: str
    kind: str
    was: RunState
    error: str


def fail_interrupted(session: Session, cause: str, run_ids: Collection[str] | None = None) -> list[Interrupted]:
    """Fail the runs left queued or running (every one, or those of `run_ids`) because of `cause`,
    e.g. "the service stopped": each gets an error saying so and whether it had started."""
    unfinished = [state.value for state in UNFINISHED]
    query = select(RunRecord.run_id, RunRecord.case_id, RunRecord.kind, RunRecord.status).where(
        RunRecord.status.in_(unfinished)
    )
    if run_ids is not None:
        query = query.where(RunRecord.run_id.in_(list(run_ids)))
    failed = []
    for run_id, case_id, kind, status in session.execute(query.order_by(RunRecord.created_at, RunRecord.run_id)):
        was = RunState(status)
        when = "before the run started" if was is RunState.QUEUED else "while the run was running"
        error = f"interrupted: {cause} {when}; start the run again"
        if move(session, run_id, (was,), status=RunState.FAILED, error=error, finished_at=now()):
            failed.append(Interrupted(run_id, case_id, kind, was, error))
    return failed
