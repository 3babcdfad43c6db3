"""Executing one run, off the request path (in a worker process or thread).

`execute_run(database_url, run_id)`:
1. queued -> running (skipped if the run was cancelled meanwhile);
2. load the stored case with the panel's current locks applied to children.csv;
3. call the kind's function (`api.jobs`); 4. running -> optimal | feasible | failed, storing
summary, outputs, placements, input hash and versions. If the run was cancelled while running,
the result is discarded (the conditional update in step 4 does not match). Audit entries record
each end.

Worker processes die with the service: `api.services.lifeline.watch_parent` (each worker's
initializer) ends the worker at once when the service process is gone, so no orphan goes on
with a run after a `kill -9` of the service (the runs it held are failed at the next start).
"""

import platform
import time
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from api.jobs import RunOutput
from api.services.case_files import load_files
from api.services.kinds import KINDS
from api.storage import audit, runs
from api.storage.cases import case_files
from api.storage.database import Database, open_database
from api.storage.decisions import locks_for_case
from api.storage.placements import add_placements
from api.storage.runs import RunState
from data.loader import LoadedCase
from models.problems import CaseInvalid
from models.results import Allocation, ChildExplanation, RunSummary
from report.bundle import REPORT_FILE
from report.page import build_report

_databases: dict[str, Database] = {}
ALLOCATION_FILE = "allocation.csv"


def database_for(url: str) -> Database:
    """One engine per database URL in this process (worker processes reuse theirs)."""
    if url not in _databases:
        _databases[url] = open_database(url, run_migrations=False)
    return _databases[url]


def software_versions() -> dict[str, str]:
    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return {
        "send-allocator": installed("send-allocator"),
        "ortools": installed("ortools"),
        "python": platform.python_version(),
    }


def execute_timed(database_url: str, run_id: str) -> tuple[str, float]:
    """`execute_run`, and the seconds it took (the queue's Retry-After is estimated from them)."""
    started = time.monotonic()
    status = execute_run(database_url, run_id)
    return status, time.monotonic() - started


def execute_run(database_url: str, run_id: str) -> str:
    """Run `run_id` to its end; returns the final status as stored."""
    database = database_for(database_url)
    with database.session() as session:
        if not runs.start(session, run_id):
            run = runs.get_run(session, run_id)
            return run.status if run else "missing"
        run = runs.get_run(session, run_id)
        assert run is not None
        files = case_files(session, run.case_id)
        locks = locks_for_case(session, run.case_id)
        if locks:
            run.options = {**run.options, "locks": locks}
        options = {name: value for name, value in run.options.items() if name != "locks"}
        kind, case_id, started = run.kind, run.case_id, run.started_at
    try:
        values = _outcome(kind, options, files, locks)
    except Exception as error:  # noqa: BLE001 - the run must not stay `running` for ever
        values = {"status": RunState.FAILED, "error": f"internal error: {type(error).__name__}"}
    placements = values.pop("placements", [])
    with database.session() as session:
        stored = runs.finish(session, run_id, started, **values)
        if stored:
            add_placements(session, run_id, placements)
        status = str(values["status"]) if stored else RunState.CANCELLED.value
        details = {"run_id": run_id, "kind": kind, "status": status, "input_sha256": values.get("input_sha256")}
        if not stored:
            details["note"] = "cancelled while running; result discarded"
        audit.record(session, case_id, None, "run_finished", details)
    return status


def _outcome(kind: str, options: dict[str, Any], files: dict[str, bytes], locks: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {"software": software_versions()}
    try:
        loaded = load_files(files, locks)
    except CaseInvalid as error:
        # A lock can no longer be honoured (e.g. places changed); the problems say which.
        return {**values, "status": RunState.FAILED, "error": "; ".join(error.lines())}
    values["input_sha256"] = loaded.input_sha256
    try:
        output = KINDS[kind].execute(loaded, options)
    except CaseInvalid as error:  # problems in option texts (scenario, expansions)
        return {**values, "status": RunState.FAILED, "error": "; ".join(error.lines())}
    except Exception as error:  # noqa: BLE001 - a failed run is a result, stored for the user
        return {**values, "status": RunState.FAILED, "error": f"{type(error).__name__}: {error}"}
    if kind == "solve":
        output = with_report(loaded, output)
    values.update(
        summary=output.summary,
        allocation_csv=output.files.get(ALLOCATION_FILE),
        files={name: text for name, text in output.files.items() if name != ALLOCATION_FILE},
        file_names=sorted(output.files),
        software={**values["software"], **output.summary.get("software", {})},
    )
    return {**values, "status": output.status, "placements": placement_rows(loaded, output)}


def with_report(loaded: LoadedCase, output: RunOutput) -> RunOutput:
    """A solve run over HTTP also keeps the report (report.html, as `allocator demo` writes it
    without the candidate-sites section), so the web pages can show its charts and map and offer
    it as a download. `allocator solve` itself still writes only allocation.csv and summary.json."""
    allocation = Allocation(placements=output.placements, summary=RunSummary.model_validate(output.summary))
    report = build_report(loaded.case, allocation, title="Placement round")
    return replace(output, files={**output.files, REPORT_FILE: report})


def placement_rows(loaded: LoadedCase, output: RunOutput) -> list[dict[str, Any]]:
    """The run's placements as `placements` rows, with each child's need, district and priority
    from the case as the run read it (children a what-if run added have none)."""
    children = {child.child_id: child for child in loaded.case.children}
    rows = []
    for position, placement in enumerate(output.placements):
        child = children.get(placement.child_id)
        explained = output.explanations[position] if position < len(output.explanations) else None
        rows.append(
            {
                **explanation_columns(explained),
                "position": position,
                "child_id": placement.child_id,
                "school_id": placement.school_id,
                "travel_minutes": placement.travel_minutes,
                "preference_rank": placement.preference_rank,
                "reason": None if placement.reason is None else placement.reason.value,
                "explanation": placement.explanation,
                "need": "" if child is None else child.need.value,
                "district": None if child is None else child.district,
                "priority": 0 if child is None else child.priority,
                "locked": placement.locked,
            }
        )
    return rows


def explanation_columns(row: ChildExplanation | None) -> dict[str, Any]:
    """The `placements` columns of a child's explanations.csv row (all None without one)."""
    if row is None:
        return dict.fromkeys(EXPLANATION_FIELDS)
    return {
        "outcome": row.outcome.value,
        "first_choice_school_id": row.first_choice_school_id,
        "forced": row.forced,
        "add_place_school_id": row.add_place_school_id,
        "extra_minutes": row.extra_minutes,
        "priority_needed": row.priority_needed,
        "plain_explanation": row.explanation,
    }


EXPLANATION_FIELDS = (
    "outcome",
    "first_choice_school_id",
    "forced",
    "add_place_school_id",
    "extra_minutes",
    "priority_needed",
    "plain_explanation",
)


def warm_up() -> None:
    """Submitted once per worker at start so the first run does not pay for imports."""
