"""Starting, cancelling and reading runs, their allocation pages and one child's placement."""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.access import may
from api.errors import ApiError, not_found
from api.jobs import FINISHED
from api.services.kinds import KINDS
from api.services.run_queue import RunQueue
from api.settings import Settings
from api.storage import audit, runs
from api.storage.cases import get_case
from api.storage.database import Database
from api.storage.decisions import decisions_for_case
from api.storage.placements import PlacementFilter, has_placements, placement_of, placement_page
from api.storage.tables import DecisionRecord, PlacementRecord, RunRecord


def start_run(
    database: Database, queue: RunQueue, settings: Settings, case_id: str, body: dict[str, Any], key_id: str, role: str
) -> RunRecord:
    """Check the request, take a place in the queue (429 `queue_full` past its bound, before
    anything is stored), store the run as queued, hand it to the pool. Time limits are capped."""
    kind_name = body.get("kind")
    if not isinstance(kind_name, str) or kind_name not in KINDS:
        raise ApiError(422, "kind_unknown", f"kind must be one of {', '.join(KINDS)}")
    kind = KINDS[kind_name]
    if not may(role, kind.permission):
        raise ApiError(403, "forbidden", f"the {role} role may not start '{kind_name}' runs")
    options_in = {name: value for name, value in body.items() if name != "kind"}
    try:
        options = kind.options.model_validate(options_in).model_dump(exclude_none=True)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        raise ApiError(422, "options_invalid", f"options of a '{kind_name}' run are not valid", problems) from None
    asked = options.get("time_limit")
    options["time_limit"] = min(float(asked or settings.default_time_limit), settings.run_time_limit)
    with queue.place() as place:
        with database.session() as session:
            case = get_case(session, case_id)
            if case is None:
                raise not_found("case", case_id)
            place.take()
            run = runs.add_run(session, case_id, kind_name, options, key_id)
            details = {"run_id": run.run_id, "kind": kind_name, "options": options}
            audit.record(session, case_id, key_id, "run_queued", {**details, "case_input_sha256": case.input_sha256})
        place.submit(run.run_id)
    return run


def read_run(database: Database, run_id: str) -> RunRecord:
    with database.session() as session:
        run = runs.get_run(session, run_id)
    if run is None:
        raise not_found("run", run_id)
    return run


def cancel_run(database: Database, queue: RunQueue, run_id: str, key_id: str, role: str) -> RunRecord:
    run = read_run(database, run_id)
    if not may(role, KINDS[run.kind].permission):
        raise ApiError(403, "forbidden", f"the {role} role may not cancel '{run.kind}' runs")
    queue.withdraw(run_id)
    with database.session() as session:
        if not runs.cancel(session, run_id):
            raise ApiError(409, "run_finished", f"run '{run_id}' has already ended ({run.status})")
        audit.record(session, run.case_id, key_id, "run_cancelled", {"run_id": run_id, "was": run.status})
    return read_run(database, run_id)


def finished_run(database: Database, run_id: str) -> RunRecord:
    """The run; 404 when there is none, 409 while it has not finished, 404 when it ended
    without an allocation."""
    run = read_run(database, run_id)
    if runs.status_of(run) in runs.UNFINISHED:
        raise ApiError(409, "run_not_finished", f"run '{run.run_id}' is {run.status}")
    with database.session() as session:
        found = runs.status_of(run) in FINISHED and has_placements(session, run.run_id)
    if not found:
        raise ApiError(404, "allocation_not_found", f"run '{run.run_id}' has no allocation ({run.status})")
    return run


def allocation_page(
    database: Database, run_id: str, where: PlacementFilter, offset: int, limit: int
) -> tuple[int, list[PlacementRecord]]:
    """The run's placements matching `where`, in children.csv order: (how many, the page)."""
    finished_run(database, run_id)
    with database.session() as session:
        return placement_page(session, run_id, where, offset, limit)


def placement_or_404(session: Session, run_id: str, child_id: str) -> PlacementRecord:
    """The child's row in the run's allocation; 404 when the run has no such child."""
    placement = placement_of(session, run_id, child_id)
    if placement is None:
        raise not_found("child", child_id)
    return placement


@dataclass(frozen=True)
class ChildPlacement:
    run: RunRecord
    placement: PlacementRecord
    decisions: list[DecisionRecord]


def child_placement(database: Database, run_id: str, child_id: str) -> ChildPlacement:
    """Where the run placed the child (or why not), with the panel's decisions about the child."""
    run = finished_run(database, run_id)
    with database.session() as session:
        placement = placement_or_404(session, run_id, child_id)
        decisions = [d for d in decisions_for_case(session, run.case_id) if d.child_id == child_id]
    return ChildPlacement(run, placement, decisions)


def output_file(database: Database, run_id: str, name: str) -> str:
    read_run(database, run_id)
    with database.session() as session:
        content = runs.output_file(session, run_id, name)
    if content is None:
        raise ApiError(404, "file_not_found", f"run '{run_id}' has no file '{name}'")
    return content


class FinishedRuns:
    """The last `size` finished runs read, kept in memory: a finished run never changes
    (cancelling it is refused), so its status and summary can be served without the database."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._runs: OrderedDict[str, RunRecord] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run_id: str) -> RunRecord | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None:
                self._runs.move_to_end(run_id)
            return run

    def remember(self, run: RunRecord) -> RunRecord:
        if runs.status_of(run) not in runs.UNFINISHED:
            with self._lock:
                self._runs[run.run_id] = run
                while len(self._runs) > self.size:
                    self._runs.popitem(last=False)
        return run
