"""`/cases` (newest first, upload), `/cases/{case_id}` (schools, children, runs, decisions, start
a run) and `/cases/{case_id}/audit` (the audit trail as a timeline)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.access import Permission, may
from api.dependencies import DatabaseDep, QueueDep, SettingsDep
from api.errors import ApiError
from api.services import decisions as decision_service
from api.services.browse import loaded_case, newest_cases, runs_of_case
from api.services.case_files import FIELD_FILES
from api.services.cases import RowLimits, create_case, read_case
from api.services.kinds import KINDS
from api.services.runs import start_run
from api.web.forms import FieldError, error_context, upload_errors, upload_field_id
from api.web.pages import KIND_NAMES, Pager, not_found_page, status_text
from api.web.session import Posted, PostedForm, ReaderPage, UploadPost, WebCaller
from api.web.templating import render
from api.web.workbook import WORKBOOK_FIELD, workbook_fields

router = APIRouter(include_in_schema=False)

CHILDREN_PER_PAGE = 50
UPLOAD_FIELDS = [(name, file_name, upload_field_id(file_name)) for name, file_name in FIELD_FILES.items()]
REQUIRED_FILES = ("schools", "places", "children")


def _cases_page(request: Request, database: Any, caller: WebCaller, errors: list[FieldError], status: int) -> Response:
    cases = newest_cases(database)
    return render(
        request,
        "cases.html",
        caller,
        status_code=status,
        title="Cases",
        cases=cases,
        errors=[error.item() for error in errors],
        upload_fields=UPLOAD_FIELDS,
        may_upload=caller.may(Permission.UPLOAD),
    )


@router.get("/cases")
async def cases_page(request: Request, database: DatabaseDep, caller: ReaderPage) -> Response:
    return await run_in_threadpool(_cases_page, request, database, caller, [], 200)


async def _uploaded(posted: Posted) -> dict[str, tuple[str, bytes]]:
    """Field name -> (file name, content) of every file input given a non-empty file."""
    found = {}
    for name in [*FIELD_FILES, WORKBOOK_FIELD]:
        value = posted.form.get(name)
        if isinstance(value, UploadFile) and value.filename:
            found[name] = (value.filename, await value.read())
    return found


@router.post("/cases")
async def upload_case(request: Request, posted: UploadPost, database: DatabaseDep, settings: SettingsDep) -> Response:
    caller = posted.caller
    uploaded = await _uploaded(posted)
    errors: list[FieldError] = []
    fields: dict[str, bytes] = {}
    if WORKBOOK_FIELD in uploaded:
        if set(uploaded) != {WORKBOOK_FIELD}:
            errors.append(FieldError("Upload either CSV files or one Excel workbook, not both", "#file-workbook"))
        else:
            file_name, content = uploaded[WORKBOOK_FIELD]
            if not file_name.lower().endswith(".xlsx"):
                errors.append(FieldError("The workbook must be an Excel .xlsx file", "#file-workbook"))
            else:
                try:
                    fields = await run_in_threadpool(workbook_fields, file_name, content)
                except ApiError as error:
                    # Problems are located at sheet and row; each links to the workbook's input.
                    errors.extend(FieldError(e.text, "#file-workbook") for e in upload_errors(error, "#file-workbook"))
    else:
        for name in REQUIRED_FILES:
            if name not in uploaded:
                errors.append(
                    FieldError(f"Choose the {FIELD_FILES[name]} file", f"#{upload_field_id(FIELD_FILES[name])}")
                )
        for name, (file_name, _) in uploaded.items():
            if file_name.rsplit("/", 1)[-1] != FIELD_FILES[name]:
                href = f"#{upload_field_id(FIELD_FILES[name])}"
                errors.append(FieldError(f"The file chosen for {FIELD_FILES[name]} is named {file_name}", href))
        fields = {name: content for name, (_, content) in uploaded.items()}
    if not errors:
        limits = RowLimits(settings.max_children, settings.max_schools, settings.max_travel_rows)
        try:
            case = await run_in_threadpool(create_case, database, fields, caller.key_id, limits)
        except ApiError as error:
            errors.extend(upload_errors(error, "#file-schools"))
        else:
            return RedirectResponse(f"/cases/{case.case_id}?uploaded=1", status_code=303)
    return await run_in_threadpool(_cases_page, request, database, caller, errors, 422)


def _case_page(
    request: Request,
    database: Any,
    caller: WebCaller,
    case_id: str,
    page: int,
    errors: list[FieldError],
    values: dict[str, str],
    status: int,
) -> Response:
    try:
        case, file_names = read_case(database, case_id)
    except ApiError:
        return not_found_page(request, caller, "case")
    loaded = loaded_case(database, case_id)
    children = loaded.case.children
    pages = max(1, -(-len(children) // CHILDREN_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = children[(page - 1) * CHILDREN_PER_PAGE : page * CHILDREN_PER_PAGE]
    runs = runs_of_case(database, case_id)
    names = {school.school_id: school.name for school in loaded.case.schools}
    decisions = decision_service.list_decisions(database, case_id)
    kinds = [(name, KIND_NAMES[name]) for name, kind in KINDS.items() if may(caller.role, kind.permission)]
    return render(
        request,
        "case.html",
        caller,
        status_code=status,
        title=f"Case {case_id}",
        case=case,
        file_names=file_names,
        schools=loaded.case.schools,
        places=loaded.case.places,
        children=shown,
        children_total=len(children),
        page=page,
        pages=pages,
        pager_base=Pager("children", f"/cases/{case_id}"),
        runs=runs,
        status_text=status_text,
        kind_names=KIND_NAMES,
        school_names=names,
        decisions=decisions,
        kinds=kinds,
        **error_context(errors),
        values=values,
        uploaded=request.query_params.get("uploaded") == "1",
    )


@router.get("/cases/{case_id}")
async def case_page(
    request: Request,
    case_id: str,
    database: DatabaseDep,
    caller: ReaderPage,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    return await run_in_threadpool(_case_page, request, database, caller, case_id, page, [], {}, 200)


def _run_body(posted: Posted) -> tuple[dict[str, Any], list[FieldError]]:
    """The start-run form as a run request, or the problems with its fields."""
    errors = []
    kind = posted.text("kind")
    body: dict[str, Any] = {"kind": kind}
    if kind not in KINDS:
        errors.append(FieldError("Choose what to run", "#kind"))
    limit = posted.text("time_limit")
    if limit:
        try:
            seconds = float(limit)
        except ValueError:
            seconds = -1
        if not 0 < seconds <= 3600:
            errors.append(FieldError("The time limit must be a number of seconds between 1 and 3600", "#time_limit"))
        else:
            body["time_limit"] = seconds
    if kind == "plan-places":
        add = posted.text("add")
        if not add.isdigit() or not 1 <= int(add) <= 100_000:
            errors.append(FieldError("Enter how many new places to plan, a whole number from 1 to 100,000", "#add"))
        else:
            body["add"] = int(add)
        expansions = posted.text("expansions")
        if not expansions:
            errors.append(FieldError("Enter the schools that could grow (expansions.csv)", "#expansions"))
        body["expansions"] = expansions + "\n"
    if kind == "whatif":
        scenario = posted.text("scenario")
        if not scenario:
            errors.append(FieldError("Enter the scenario (TOML)", "#scenario"))
        body["scenario"] = scenario + "\n"
    return body, errors


@router.post("/cases/{case_id}/runs")
async def start_run_submit(
    request: Request,
    case_id: str,
    posted: PostedForm,
    database: DatabaseDep,
    queue: QueueDep,
    settings: SettingsDep,
) -> Response:
    caller = posted.caller
    body, errors = _run_body(posted)
    values = {name: posted.text(name) for name in ("kind", "time_limit", "add", "expansions", "scenario")}
    if not errors:
        try:
            run = await run_in_threadpool(
                start_run, database, queue, settings, case_id, body, caller.key_id, caller.role
            )
        except ApiError as error:
            if error.status == 403:
                return render(
                    request,
                    "message.html",
                    caller,
                    status_code=403,
                    title="You cannot do that",
                    message=error.message,
                )
            if error.status == 404:
                return not_found_page(request, caller, "case")
            href = {"kind_unknown": "#kind"}.get(error.code, "#kind")
            errors = [FieldError(problem, href) for problem in error.problems] or [FieldError(error.message, href)]
        else:
            return RedirectResponse(f"/runs/{run.run_id}", status_code=303)
    return await run_in_threadpool(_case_page, request, database, caller, case_id, 1, errors, values, 422)


AUDIT_WORDS = {
    "case_uploaded": "Case uploaded",
    "run_queued": "Run started",
    "run_finished": "Run finished",
    "run_cancelled": "Run cancelled",
    "decision_recorded": "Panel decision recorded",
}


@router.get("/cases/{case_id}/audit")
async def audit_page(request: Request, case_id: str, database: DatabaseDep, caller: ReaderPage) -> Response:
    try:
        await run_in_threadpool(read_case, database, case_id)
    except ApiError:
        return not_found_page(request, caller, "case")
    entries = await run_in_threadpool(decision_service.audit_log, database, case_id)
    return render(
        request,
        "audit.html",
        caller,
        title=f"Audit trail of case {case_id}",
        case_id=case_id,
        entries=list(reversed(entries)),
        words=AUDIT_WORDS,
    )
