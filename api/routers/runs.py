"""Runs: start (202), status and summary, allocation (paginated, filtered), one child, cancel."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Query
from fastapi.concurrency import run_in_threadpool

from api.dependencies import CallerDep, DatabaseDep, FinishedRunsDep, QueueDep, Reader, SettingsDep
from api.routers import V1
from api.schemas.requests import RunRequest
from api.schemas.responses import (
    AllocationRow,
    ChildPlacement,
    DecisionOut,
    ErrorBody,
    ExplanationRow,
    Page,
    RunOut,
    RunQueued,
)
from api.services.explanations import explanation_page
from api.services.runs import (
    PlacementFilter,
    allocation_page,
    cancel_run,
    child_placement,
    output_file,
    read_run,
    start_run,
)
from api.storage.tables import PlacementRecord, RunRecord

router = APIRouter(prefix=V1, tags=["runs"])


RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}
QUEUE_FULL: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorBody,
        "description": "every worker is busy and ALLOCATOR_MAX_QUEUED_RUNS runs wait (`queue_full`); nothing stored",
        "headers": {"Retry-After": RETRY_AFTER},
    }
}


@router.post("/cases/{case_id}/runs", status_code=202, responses=QUEUE_FULL)
def create_run(
    case_id: str,
    request: Annotated[RunRequest, Body()],
    caller: CallerDep,
    database: DatabaseDep,
    queue: QueueDep,
    settings: SettingsDep,
) -> RunQueued:
    """Queue a run of `kind` on the case; it runs in the worker pool. Poll GET /v1/runs/{run_id}.
    A full queue is 429 `queue_full` with `Retry-After` (seconds), and nothing is stored."""
    run = start_run(
        database, queue, settings, case_id, request.model_dump(exclude_unset=True), caller.key_id, caller.role
    )
    return RunQueued(run_id=run.run_id, status=run.status)


def run_out(run: RunRecord) -> RunOut:
    return RunOut(
        run_id=run.run_id,
        case_id=run.case_id,
        kind=run.kind,
        status=run.status,
        options=run.options,
        summary=run.summary,
        error=run.error,
        files=run.file_names or [],
        input_sha256=run.input_sha256,
        software=run.software,
        created_at=run.created_at,
        created_by=run.created_by,
        started_at=run.started_at,
        finished_at=run.finished_at,
        seconds=run.seconds,
    )


@router.get("/runs/{run_id}")
async def read(run_id: str, _caller: Reader, database: DatabaseDep, finished: FinishedRunsDep) -> RunOut:
    """Status, options, summary (once finished), input hash and versions of a run."""
    run = finished.get(run_id) or finished.remember(await run_in_threadpool(read_run, database, run_id))
    return run_out(run)


@router.delete("/runs/{run_id}")
def cancel(run_id: str, caller: CallerDep, database: DatabaseDep, queue: QueueDep) -> RunOut:
    """Cancel: a queued run never starts; a running one is marked cancelled and its result dropped."""
    return run_out(cancel_run(database, queue, run_id, caller.key_id, caller.role))


def allocation_row(placement: PlacementRecord) -> AllocationRow:
    return AllocationRow(
        child_id=placement.child_id,
        need=placement.need,
        district=placement.district,
        priority=placement.priority,
        placed=placement.school_id is not None,
        school_id=placement.school_id,
        travel_minutes=placement.travel_minutes,
        preference_rank=placement.preference_rank,
        locked=placement.locked,
        reason=placement.reason,
        explanation=placement.explanation,
    )


Row = TypeVar("Row")


def _page(
    found: tuple[int, list[PlacementRecord]], offset: int, limit: int, row: Callable[[PlacementRecord], Row]
) -> Page[Row]:
    """One page of placement rows, each shown by `row`, with how many match in all."""
    total, records = found
    return Page(total=total, offset=offset, limit=limit, items=[row(p) for p in records])


@router.get("/runs/{run_id}/allocation")
def allocation(
    run_id: str,
    _caller: Reader,
    database: DatabaseDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    school: str | None = None,
    need: str | None = None,
    district: str | None = None,
    unplaced: bool | None = None,
) -> Page[AllocationRow]:
    """The run's placements in children.csv order, filtered by school, need, district or placed."""
    where = PlacementFilter(school=school, need=need, district=district, unplaced=unplaced)
    return _page(allocation_page(database, run_id, where, offset, limit), offset, limit, allocation_row)


@router.get("/runs/{run_id}/children/{child_id}")
def child(run_id: str, child_id: str, _caller: Reader, database: DatabaseDep) -> ChildPlacement:
    """Where the run placed the child, or why not, with the panel's decisions about the child."""
    found = child_placement(database, run_id, child_id)
    placement = found.placement
    return ChildPlacement(
        **allocation_row(placement).model_dump(),
        run_id=run_id,
        decisions=[DecisionOut.model_validate(d, from_attributes=True) for d in found.decisions],
        outcome=placement.outcome,
        first_choice_school_id=placement.first_choice_school_id,
        forced=placement.forced,
        add_place_school_id=placement.add_place_school_id,
        extra_minutes=placement.extra_minutes,
        priority_needed=placement.priority_needed,
        plain_explanation=placement.plain_explanation,
    )


@router.get("/runs/{run_id}/explanations")
def explanations(
    run_id: str,
    _caller: Reader,
    database: DatabaseDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    outcome: str | None = None,
) -> Page[ExplanationRow]:
    """explanations.csv's rows in children.csv order, optionally of one `outcome`."""
    return _page(explanation_page(database, run_id, outcome, offset, limit), offset, limit, explanation_row)


def explanation_row(placement: PlacementRecord) -> ExplanationRow:
    return ExplanationRow(
        child_id=placement.child_id,
        outcome=placement.outcome or "",
        school_id=placement.school_id,
        first_choice_school_id=placement.first_choice_school_id,
        forced=placement.forced,
        add_place_school_id=placement.add_place_school_id,
        extra_minutes=placement.extra_minutes,
        priority_needed=placement.priority_needed,
        explanation=placement.plain_explanation or "",
    )


@router.get("/runs/{run_id}/files/{name:path}")
def run_file(run_id: str, name: str, _caller: Reader, database: DatabaseDep) -> dict[str, str]:
    """One output file of a finished run, as `{"name": ..., "content": ...}`."""
    return {"name": name, "content": output_file(database, run_id, name)}
