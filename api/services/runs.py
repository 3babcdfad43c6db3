"""Starting, cancelling and reading runs."""

import csv
import io
import threading
from collections import OrderedDict
from typing import Any

from pydantic import ValidationError

from api.access import may
from api.errors import ApiError, not_found
from api.services.case_files import children_rows
from api.services.kinds import KINDS
from api.services.run_queue import RunQueue
from api.settings import Settings
from api.storage import audit, runs
from api.storage.cases import case_files, get_case
from api.storage.database import Database
from api.storage.tables import RunRecord


def start_run(
    database: Database, queue: RunQueue, settings: Settings, case_id: str, body: dict[str, Any], key_id: str, role: str
) -> RunRecord:
    """Check the request, store the run as queued, hand it to the pool. Time limits are capped."""
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
    if kind.load() is None:
        raise ApiError(422, "kind_unavailable", f"'{kind_name}' runs are not available in this installation")
    asked = options.get("time_limit")
    options["time_limit"] = min(float(asked or settings.default_time_limit), settings.run_time_limit)
    with database.session() as session:
        case = get_case(session, case_id)
        if case is None:
            raise not_found("case", case_id)
        run = runs.add_run(session, case_id, kind_name, options, key_id)
        audit.record(
            session,
            case_id,
            key_id,
            "run_queued",
            {"run_id": run.run_id, "kind": kind_name, "options": options, "case_input_sha256": case.input_sha256},
        )
    queue.submit(run.run_id)
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


def allocation_rows(database: Database, run: RunRecord) -> list[dict[str, Any]]:
    """allocation.csv rows (children.csv order) with each child's need, district and priority."""
    if run.status in runs.UNFINISHED:
        raise ApiError(409, "run_not_finished", f"run '{run.run_id}' is {run.status}")
    with database.session() as session:
        allocation = runs.output_file(session, run.run_id, "allocation.csv")
        if allocation is None:
            raise ApiError(404, "allocation_not_found", f"run '{run.run_id}' has no allocation ({run.status})")
        children = children_rows(case_files(session, run.case_id))
    locks = run.options.get("locks", {})
    rows = []
    for cells in csv.DictReader(io.StringIO(allocation, newline="")):
        child = children.get(cells["child_id"], {})
        code, _, sentence = cells["reason"].partition(": ")
        rows.append(
            {
                "child_id": cells["child_id"],
                "need": child.get("need", ""),
                "district": child.get("district") or None,
                "priority": int(child.get("priority") or 0),
                "placed": bool(cells["school_id"]),
                "school_id": cells["school_id"] or None,
                "travel_minutes": int(cells["travel_minutes"]) if cells["travel_minutes"] else None,
                "preference_rank": int(cells["preference_rank"]) if cells["preference_rank"] else None,
                "locked": bool(child.get("locked_school_id")) or cells["child_id"] in locks,
                "reason": code or None,
                "explanation": sentence,
            }
        )
    return rows


def filter_rows(
    rows: list[dict[str, Any]], school: str | None, need: str | None, district: str | None, unplaced: bool | None
) -> list[dict[str, Any]]:
    def keep(row: dict[str, Any]) -> bool:
        return (
            (school is None or row["school_id"] == school)
            and (need is None or row["need"] == need)
            and (district is None or row["district"] == district)
            and (unplaced is None or row["placed"] != unplaced)
        )

    return [row for row in rows if keep(row)]


def output_file(database: Database, run_id: str, name: str) -> str:
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
        if run.status not in runs.UNFINISHED:
            with self._lock:
                self._runs[run.run_id] = run
                while len(self._runs) > self.size:
                    self._runs.popitem(last=False)
        return run
