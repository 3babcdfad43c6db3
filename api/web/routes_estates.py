"""Estates pages: `/cases/{case_id}/estates` (the case's candidate sites on a map, its estates
runs, and the forms to rank the sites, plan new places or try a what-if: shown to the estates
role only) and `/runs/{run_id}/estates` (a sites, plan-places or what-if run: its progress until
it ends, then the ranking with the candidate map, the plan, or the what-if beside the baseline).

A form is checked as the case page's start-run form is (`routes_cases._run_body`); a problem
is shown in the error summary on this page (422), nothing stored. A POST by another role, or
without the CSRF token, is 403 (`posted_by`)."""

import csv
import io
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from api.access import Permission
from api.dependencies import DatabaseDep, QueueDep, SettingsDep
from api.errors import ApiError
from api.jobs import SCENARIO_NAME
from api.services.browse import loaded_case, runs_of_case
from api.services.compare import summary_changes
from api.services.runs import output_file, read_run, start_run
from api.settings import Settings
from api.storage.placements import placements_of_run
from api.storage.runs import UNFINISHED
from api.storage.tables import RunRecord
from api.web.forms import FieldError, error_context, located_problem
from api.web.map import map_data_for_run, map_data_for_sites, tile_layer
from api.web.pages import KIND_NAMES, not_found_page, status_text
from api.web.routes_cases import _run_body
from api.web.session import Posted, ReaderPage, WebCaller, posted_by
from api.web.templating import render
from data.expansions import parse_expansions
from data.scenario import parse_scenario
from models.case import SchoolKind
from models.problems import CaseInvalid

router = APIRouter(include_in_schema=False)

ESTATES_KINDS = ("sites", "plan-places", "whatif")
PERMISSIONS = {"sites": Permission.SITES, "plan-places": Permission.PLAN_PLACES, "whatif": Permission.WHATIF}
FIELDS = ("time_limit", "add", "expansions", "scenario")
UNFINISHED_STATES = {state.value for state in UNFINISHED}
SITE_COLUMNS = (
    ("placed_gain", "More children placed"),
    ("travel_saved_minutes", "Travel time saved, in minutes"),
    ("children_newly_in_reach", "Children newly within reach"),
    ("independent_placements_avoided", "Independent school places avoided"),
    ("cost_saved_gbp_year", "Cost saved a year (£)"),
)


def _hub(
    request: Request,
    database: Any,
    settings: Settings,
    caller: WebCaller,
    case_id: str,
    errors: list[FieldError],
    values: dict[str, str],
    status: int,
) -> Response:
    try:
        loaded = loaded_case(database, case_id)
    except ApiError:
        return not_found_page(request, caller, "case")
    runs = [run for run in runs_of_case(database, case_id) if run.kind in ESTATES_KINDS]
    tiles = tile_layer(settings.tile_url, settings.tile_attribution)
    return render(
        request,
        "estates/case.html",
        caller,
        status_code=status,
        title=f"Estates: case {case_id}",
        case_id=case_id,
        runs=runs,
        kind_names=KIND_NAMES,
        status_text=status_text,
        has_sites=any(school.kind is SchoolKind.CANDIDATE for school in loaded.case.schools),
        map_data=map_data_for_sites(loaded.case, [], tiles),
        forms=[kind for kind in ESTATES_KINDS if caller.may(PERMISSIONS[kind])],
        **error_context(errors),
        values=values,
        error_kind=values.get("kind", ""),
    )


@router.get("/cases/{case_id}/estates")
async def estates_page(
    request: Request, case_id: str, database: DatabaseDep, settings: SettingsDep, caller: ReaderPage
) -> Response:
    return await run_in_threadpool(_hub, request, database, settings, caller, case_id, [], {}, 200)


async def _start(
    request: Request, kind: str, case_id: str, posted: Posted, database: Any, queue: Any, settings: Settings
) -> Response:
    caller = posted.caller
    body, errors = _run_body(posted)
    values = {"kind": kind, **{name: posted.text(name) for name in FIELDS}}
    if body.get("kind") != kind:
        errors = [FieldError("The form was not one of this page's", "#time_limit")]
    elif not errors:
        errors = await run_in_threadpool(_text_problems, database, case_id, body)
    if not errors:
        try:
            run = await run_in_threadpool(
                start_run, database, queue, settings, case_id, body, caller.key_id, caller.role
            )
        except ApiError as error:
            if error.status == 404:
                return not_found_page(request, caller, "case")
            problems = error.problems or [error.message]
            errors = [FieldError(problem, "#time_limit") for problem in problems]
        else:
            return RedirectResponse(f"/runs/{run.run_id}/estates", status_code=303)
    # The fields' ids on this page carry the form's kind (three forms share field names).
    errors = [FieldError(e.text, e.href.replace("#", f"#{kind}-", 1)) for e in errors]
    return await run_in_threadpool(_hub, request, database, settings, caller, case_id, errors, values, 422)


def _text_problems(database: Any, case_id: str, body: dict[str, Any]) -> list[FieldError]:
    """The expansions or scenario text read against the case as the run will read it, so that a
    problem is shown on the form (each line located) instead of ending in a failed run."""
    try:
        case = loaded_case(database, case_id).case
    except ApiError:
        return []  # the start says the case is not there
    try:
        if body["kind"] == "plan-places":
            parse_expansions(body["expansions"], case)
        elif body["kind"] == "whatif":
            parse_scenario(body["scenario"], case, SCENARIO_NAME)
    except CaseInvalid as error:
        field = "#expansions" if body["kind"] == "plan-places" else "#scenario"
        return [FieldError(located_problem(line, field).text, field) for line in error.lines()]
    return []


def _post_route(kind: str) -> None:
    permission = PERMISSIONS[kind]

    async def submit(
        request: Request,
        case_id: str,
        database: DatabaseDep,
        queue: QueueDep,
        settings: SettingsDep,
        posted: Annotated[Posted, posted_by(permission)],
    ) -> Response:
        return await _start(request, kind, case_id, posted, database, queue, settings)

    router.add_api_route(f"/cases/{{case_id}}/estates/{kind}", submit, methods=["POST"], name=f"start_{kind}")


for _kind in ESTATES_KINDS:
    _post_route(_kind)


def _csv_rows(database: Any, run_id: str, name: str) -> list[dict[str, str]]:
    try:
        text = output_file(database, run_id, name)
    except ApiError:
        return []
    return list(csv.DictReader(io.StringIO(text)))


def _placed_at(database: Any, run_id: str) -> dict[str, int]:
    with database.session() as session:
        rows = placements_of_run(session, run_id)
    return dict(Counter(row.school_id for row in rows if row.school_id is not None))


def _latest_solve(database: Any, run: RunRecord) -> RunRecord | None:
    """The newest finished solve of the case started before `run`: the baseline of a plan."""
    solves = [
        other
        for other in runs_of_case(database, run.case_id)
        if other.kind == "solve" and other.summary is not None and other.created_at <= run.created_at
    ]
    return max(solves, key=lambda other: other.created_at, default=None)


def _result(database: Any, settings: Settings, run: RunRecord) -> dict[str, Any]:
    """What the finished run's page shows, by kind."""
    loaded = loaded_case(database, run.case_id)
    names = {school.school_id: school.name for school in loaded.case.schools}
    tiles = tile_layer(settings.tile_url, settings.tile_attribution)
    summary = run.summary or {}
    if run.kind == "sites":
        return {
            "ranking": _csv_rows(database, run.run_id, "sites.csv"),
            "site_columns": SITE_COLUMNS,
            "map_data": map_data_for_sites(loaded.case, summary.get("sites_ranked") or [], tiles),
        }
    if run.kind == "plan-places":
        baseline = _latest_solve(database, run)
        return {
            "plan": [
                {**row, "name": names.get(row["school_id"], row["school_id"])}
                for row in _csv_rows(database, run.run_id, "plan.csv")
            ],
            "baseline_run": baseline,
            "changes": summary_changes(baseline.summary or {}, summary) if baseline is not None else (),
            "map_data": map_data_for_run(
                loaded.case, _placed_at(database, run.run_id), summary.get("opened_sites") or [], tiles
            ),
        }
    scenario = summary.get("scenario") or {}
    reasons = Counter(row["why"] for row in _csv_rows(database, run.run_id, "moves.csv"))
    return {
        "changes": summary_changes(summary.get("baseline") or {}, scenario),
        "children_moving": summary.get("children_moving", 0),
        "reasons": sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
        "map_data": map_data_for_run(
            loaded.case, _placed_at(database, run.run_id), scenario.get("opened_sites") or [], tiles
        ),
    }


def _run_page(request: Request, database: Any, settings: Settings, caller: WebCaller, run_id: str) -> Response:
    try:
        run = read_run(database, run_id)
    except ApiError:
        return not_found_page(request, caller, "run")
    if run.kind not in ESTATES_KINDS:
        return RedirectResponse(f"/runs/{run_id}", status_code=303)
    unfinished = run.status in UNFINISHED_STATES
    finished = not unfinished and run.summary is not None
    return render(
        request,
        "estates/run.html",
        caller,
        title=f"{KIND_NAMES[run.kind]}: run {run_id}",
        run=run,
        kind_name=KIND_NAMES[run.kind],
        status=status_text(run.status),
        unfinished=unfinished,
        finished=finished,
        **(_result(database, settings, run) if finished else {}),
    )


@router.get("/runs/{run_id}/estates")
async def estates_run_page(
    request: Request, run_id: str, database: DatabaseDep, settings: SettingsDep, caller: ReaderPage
) -> Response:
    return await run_in_threadpool(_run_page, request, database, settings, caller, run_id)
