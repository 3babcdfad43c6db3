"""`/runs/{run_id}`: the run's figures, report (charts and map), children table (filtered,
sorted and paged in SQL) and downloads; its progress as JSON for the page's script."""

import json
from functools import partial
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.dependencies import DatabaseDep, SettingsDep
from api.errors import ApiError
from api.services.browse import (
    SORT_COLUMNS,
    ChildrenQuery,
    FilterChoices,
    Outcome,
    Recent,
    children_page,
    filter_choices,
    loaded_case,
    placed_by_school,
    runs_of_case,
    school_names,
)
from api.services.compare import RunComparison, compare_runs
from api.services.runs import output_file, read_run
from api.settings import Settings
from api.storage.runs import UNFINISHED
from api.storage.tables import RunRecord
from api.web.map import map_data_for_run, tile_layer
from api.web.pages import KIND_NAMES, OUTCOME_WORDS, Pager, not_found_page, status_text, urgency_text
from api.web.session import ReaderPage, WebCaller
from api.web.templating import render
from models.case import Policy

router = APIRouter(include_in_schema=False)

ROWS_PER_PAGE = 50
DOWNLOADS = {
    "allocation.csv": "text/csv; charset=utf-8",
    "explanations.csv": "text/csv; charset=utf-8",
    "summary.json": "application/json",
    "report.html": "text/html; charset=utf-8",
}
UNFINISHED_STATES = {state.value for state in UNFINISHED}


def _file_names(run: RunRecord) -> list[str]:
    """The run's files, summary.json included (kept as the run's summary)."""
    names = set(run.file_names or [])
    if run.summary is not None:
        names.add("summary.json")
    return sorted(names)


def _run(database: Any, run_id: str) -> RunRecord | None:
    try:
        return read_run(database, run_id)
    except ApiError:
        return None


@router.get("/runs/{run_id}/progress")
async def run_progress(run_id: str, database: DatabaseDep, caller: ReaderPage) -> Response:
    """The run's status for the page's script: `{"status", "finished", "text"}`."""
    del caller
    run = await run_in_threadpool(_run, database, run_id)
    if run is None:
        return JSONResponse({"code": "run_not_found"}, status_code=404)
    finished = run.status not in UNFINISHED_STATES
    return JSONResponse(
        {"status": run.status, "finished": finished, "text": status_text(run.status)},
        headers={"Cache-Control": "no-store"},
    )


def _figures(summary: dict[str, Any], names: dict[str, str], policy: Policy | None) -> list[tuple[str, str]]:
    """The summary's headline figures in words."""
    rows = []
    words = {
        "placed": "Children placed",
        "unplaced": "Children not placed",
        "preference_cost": "Preference cost (sum of the ranks of the schools given; lower is better)",
        "travel_minutes": "Travel time of all placed children, in minutes",
    }
    for key, label in words.items():
        if isinstance(summary.get(key), int | float):
            rows.append((label, f"{summary[key]:,}"))
    for tier, placed in sorted((summary.get("placed_by_priority") or {}).items(), key=lambda item: -int(item[0])):
        of = (summary.get("children_by_priority") or {}).get(tier, placed)
        rows.append((f"Placed: {urgency_text(int(tier), policy).lower()}", f"{placed:,} of {of:,}"))
    if "opened_sites" in summary:
        rows.append(("Candidate sites opened", ", ".join(names.get(s, s) for s in summary["opened_sites"]) or "None"))
    costs = summary.get("cost_gbp_year") or {}
    if isinstance(costs.get("total"), int | float):
        rows.append(("Cost a year", f"£{costs['total']:,.0f}"))
    if summary.get("status"):
        rows.append(("Result", status_text(str(summary["status"]))))
    return rows


def _query(
    outcome: str | None, need: str | None, district: str | None, school: str | None, priority: str | None, sort: str
) -> ChildrenQuery:
    """The table's query from its URL parameters; values that cannot be right are ignored."""
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    return ChildrenQuery(
        outcome=outcome if outcome in get_args(Outcome) else None,  # type: ignore[arg-type]
        need=need or None,
        district=district or None,
        school=school or None,
        priority=int(priority) if priority and priority.isdigit() and len(priority) < 4 else None,
        sort=column if column in SORT_COLUMNS else "position",
        descending=descending,
    )


def _run_page(
    request: Request, database: Any, settings: Settings, caller: WebCaller, run_id: str, page: int, query: ChildrenQuery
) -> Response:
    run = _run(database, run_id)
    if run is None:
        return not_found_page(request, caller, "run")
    unfinished = run.status in UNFINISHED_STATES
    context: dict[str, Any] = {
        "run": run,
        "kind_name": KIND_NAMES.get(run.kind, run.kind),
        "status": status_text(run.status),
        "unfinished": unfinished,
        "figures": _figures(
            run.summary or {},
            school_names(database, run.case_id) if run.summary else {},
            loaded_case(database, run.case_id).case.policy if run.summary else None,
        ),
        "downloads": [name for name in _file_names(run) if name in DOWNLOADS],
        "has_report": "report.html" in (run.file_names or []),
        "others": [
            other
            for other in runs_of_case(database, run.case_id)
            if other.run_id != run_id and other.kind == "solve" and other.summary is not None
        ]
        if run.kind == "solve" and run.summary is not None
        else [],
    }
    if not unfinished and run.summary is not None and run.kind == "solve":
        names = school_names(database, run.case_id)
        policy = loaded_case(database, run.case_id).case.policy
        tiles = tile_layer(settings.tile_url, settings.tile_attribution)
        summary = run.summary or {}
        context["map_data"] = _MAPS.get(
            (id(database), run_id, tiles),
            lambda: map_data_for_run(
                loaded_case(database, run.case_id).case,
                placed_by_school(database, run_id),
                summary.get("opened_sites") or [],
                tiles,
            ),
        )
        total, rows = children_page(database, run_id, query, (page - 1) * ROWS_PER_PAGE, ROWS_PER_PAGE)
        pages = max(1, -(-total // ROWS_PER_PAGE))
        params = [
            (name, str(value))
            for name, value in (
                ("outcome", query.outcome),
                ("need", query.need),
                ("district", query.district),
                ("school", query.school),
                ("priority", query.priority),
            )
            if value is not None
        ]
        sort_param = ("-" if query.descending else "") + query.sort
        context.update(
            table=True,
            total=total,
            rows=rows,
            page=min(page, pages),
            pages=pages,
            pager_base=Pager("children", f"/runs/{run_id}", (*params, ("sort", sort_param))),
            filter_params=params,
            query=query,
            names=names,
            selects=_selects(filter_choices(database, run_id), names, query, policy),
            outcome_words=OUTCOME_WORDS,
            urgency_text=partial(urgency_text, policy=policy),
            sort_link=lambda column: _sort_link(run_id, params, query, column),
            aria_sort=lambda column: _aria_sort(query, column),
        )
    return render(request, "run.html", caller, title=f"Run {run_id}", **context)


def _selects(
    choices: FilterChoices, names: dict[str, str], query: ChildrenQuery, policy: Policy
) -> list[tuple[str, str, Any, str]]:
    """(id, label, items, chosen) of each filter drop-down."""

    def items(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"value": "", "text": "Any"}] + [{"value": value, "text": text} for value, text in pairs]

    schools = sorted(((s, names.get(s, s)) for s in choices.schools), key=lambda pair: pair[1])
    return [
        ("outcome", "Outcome", items(list(OUTCOME_WORDS.items())), query.outcome or ""),
        ("need", "Need", items([(n, n) for n in choices.needs]), query.need or ""),
        ("district", "District", items([(d, d) for d in choices.districts]), query.district or ""),
        ("school", "Placed at", items(schools), query.school or ""),
        (
            "priority",
            "Urgency",
            items([(str(p), urgency_text(p, policy)) for p in choices.priorities]),
            "" if query.priority is None else str(query.priority),
        ),
    ]


def _sort_link(run_id: str, params: list[tuple[str, str]], query: ChildrenQuery, column: str) -> str:
    descending = query.sort == column and not query.descending
    return f"/runs/{run_id}?{urlencode([*params, ('sort', ('-' if descending else '') + column)])}"


def _aria_sort(query: ChildrenQuery, column: str) -> str:
    if query.sort != column:
        return "none"
    return "descending" if query.descending else "ascending"


@router.get("/runs/{run_id}")
async def run_page(
    request: Request,
    run_id: str,
    database: DatabaseDep,
    settings: SettingsDep,
    caller: ReaderPage,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    outcome: str | None = None,
    need: str | None = None,
    district: str | None = None,
    school: str | None = None,
    priority: str | None = None,
    sort: Annotated[str, Query(max_length=20)] = "position",
) -> Response:
    query = _query(outcome, need, district, school, priority, sort)
    return await run_in_threadpool(_run_page, request, database, settings, caller, run_id, page, query)


def _file(database: Any, run_id: str, name: str) -> str | None:
    if name == "summary.json":
        run = _run(database, run_id)
        if run is None or run.summary is None:
            return None
        return json.dumps(run.summary, indent=2, sort_keys=True) + "\n"
    try:
        return output_file(database, run_id, name)
    except ApiError:
        return None


@router.get("/runs/{run_id}/files/{name}")
async def download(request: Request, run_id: str, name: str, database: DatabaseDep, caller: ReaderPage) -> Response:
    """A run's file as a download (Content-Disposition: attachment) with its own media type."""
    content = None if name not in DOWNLOADS else await run_in_threadpool(_file, database, run_id, name)
    if content is None:
        return not_found_page(request, caller, "file")
    disposition = f'attachment; filename="{run_id}-{name}"'
    return Response(content, media_type=DOWNLOADS[name], headers={"Content-Disposition": disposition})


@router.get("/runs/{run_id}/report")
async def report(run_id: str, database: DatabaseDep, caller: ReaderPage) -> Response:
    """The run's report.html, shown in the run page's frame: no script may run in it."""
    del caller
    content = await run_in_threadpool(_file, database, run_id, "report.html")
    if content is None:
        return Response("no report", status_code=404, media_type="text/plain")
    headers = {"Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"}
    return Response(content, media_type="text/html; charset=utf-8", headers=headers)


_COMPARED: Recent[RunComparison] = Recent(64)
_MAPS: Recent[dict[str, Any]] = Recent(64)


def compared(database: Any, run_a: str, run_b: str) -> RunComparison:
    """`compare_runs`, kept for the next request: only finished runs are compared, and a finished
    run, its case and its options never change."""
    return _COMPARED.get((id(database), run_a, run_b), lambda: compare_runs(database, run_a, run_b))


def _compare_page(request: Request, database: Any, caller: WebCaller, run_a: str, run_b: str) -> Response:
    try:
        comparison = compared(database, run_a, run_b)
    except ApiError as error:
        if error.status == 404:
            return not_found_page(request, caller, "run")
        return render(
            request,
            "message.html",
            caller,
            status_code=409,
            title="These runs cannot be compared",
            message=error.message,
        )
    tiers = sorted(((int(t), n) for t, n in comparison.diff.moves_by_priority.items()), reverse=True)
    return render(
        request,
        "compare.html",
        caller,
        title=f"Run {run_b} compared with run {run_a}",
        comparison=comparison,
        tiers=tiers,
        urgency_text=partial(urgency_text, policy=loaded_case(database, read_run(database, run_a).case_id).case.policy),
    )


@router.get("/runs/{run_a}/compare/{run_b}")
async def compare_page(request: Request, run_a: str, run_b: str, database: DatabaseDep, caller: ReaderPage) -> Response:
    return await run_in_threadpool(_compare_page, request, database, caller, run_a, run_b)
