"""Runs: start (202), status and summary, allocation (paginated, filtered), one child, cancel."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.concurrency import run_in_threadpool

from api.dependencies import CallerDep, DatabaseDep, FinishedRunsDep, QueueDep, Reader, SettingsDep
from api.errors import not_found
from api.routers import V1
from api.schemas.requests import RunRequest
from api.schemas.responses import AllocationRow, ChildPlacement, DecisionOut, Page, RunOut, RunQueued
from api.services.runs import allocation_rows, cancel_run, filter_rows, output_file, read_run, start_run
from api.storage.decisions import decisions_for_case
from api.storage.tables import RunRecord

router = APIRouter(prefix=V1, tags=["runs"])


@router.post("/cases/{case_id}/runs", status_code=202)
def create_run(
    case_id: str,
    request: Annotated[RunRequest, Body()],
    caller: CallerDep,
    database: DatabaseDep,
    queue: QueueDep,
    settings: SettingsDep,
) -> RunQueued:
    """Queue a run of `kind` on the case; it runs in the worker pool. Poll GET /v1/runs/{run_id}."""
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
    rows = filter_rows(allocation_rows(database, read_run(database, run_id)), school, need, district, unplaced)
    items = [AllocationRow(**row) for row in rows[offset : offset + limit]]
    return Page(total=len(rows), offset=offset, limit=limit, items=items)


@router.get("/runs/{run_id}/children/{child_id}")
def child(run_id: str, child_id: str, _caller: Reader, database: DatabaseDep) -> ChildPlacement:
    """Where the run placed the child, or why not, with the panel's decisions about the child."""
    run = read_run(database, run_id)
    found: list[dict[str, Any]] = [row for row in allocation_rows(database, run) if row["child_id"] == child_id]
    if not found:
        raise not_found("child", child_id)
    with database.session() as session:
        decisions = [d for d in decisions_for_case(session, run.case_id) if d.child_id == child_id]
    return ChildPlacement(
        **found[0], run_id=run_id, decisions=[DecisionOut.model_validate(d, from_attributes=True) for d in decisions]
    )


@router.get("/runs/{run_id}/files/{name}")
def run_file(run_id: str, name: str, _caller: Reader, database: DatabaseDep) -> dict[str, str]:
    """One output file of a finished run, as `{"name": ..., "content": ...}`."""
    read_run(database, run_id)
    return {"name": name, "content": output_file(database, run_id, name)}
