"""Cases: upload (multipart or JSON), read, schools and children (paginated)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request

from api.dependencies import DatabaseDep, Reader, SettingsDep, Uploader
from api.errors import ApiError
from api.routers import V1
from api.schemas.requests import CaseUpload
from api.schemas.responses import CaseCreated, CaseOut, ErrorBody, Page
from api.services import cases as service
from api.services.cases import RowLimits
from api.services.uploads import JSON, MULTIPART, UploadChecker, upload_checker
from api.settings import Settings

Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]

UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "body too large (`upload_too_large`) or too many rows (`case_too_large`)"},
    415: {"model": ErrorBody, "description": "neither multipart/form-data nor JSON (`unsupported_media_type`)"},
    503: {"model": ErrorBody, "description": "the worker checking the case stopped (`upload_check_failed`)"},
}

UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        name: {"type": "string", "format": "binary"}
                        for name in ("schools", "places", "children", "preferences", "travel_times", "policy")
                    },
                    "required": ["schools", "places", "children"],
                }
            },
            "application/json": {"schema": CaseUpload.model_json_schema()},
        },
    }
}


@asynccontextmanager
async def _uploads(app: FastAPI) -> AsyncIterator[None]:
    """With the app (after its own start, which opens the database): where uploads are checked."""
    settings: Settings = app.state.settings
    processes = settings.upload_workers if settings.executor == "process" else None
    async with upload_checker(app.state.database, processes) as checker:
        app.state.upload_checker = checker
        yield


router = APIRouter(prefix=f"{V1}/cases", tags=["cases"], lifespan=_uploads)


@router.post("", status_code=201, openapi_extra=UPLOAD_DOC, responses=UPLOAD_ERRORS)
async def upload_case(request: Request, caller: Uploader, settings: SettingsDep) -> CaseCreated:
    """Upload a case: one multipart file field per contract file, or `{"files": {name: text}}`.

    The body is taken as it arrives (413 `upload_too_large` as soon as it passes
    ALLOCATOR_MAX_UPLOAD_BYTES) and held in memory only; it is parsed, checked and stored off
    the event loop (api/services/uploads.py), so the service answers while a large case is checked."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() not in (MULTIPART, JSON):
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data or application/json")
    checker: UploadChecker = request.app.state.upload_checker
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    async with checker.body(int(declared) if declared.isdigit() and int(declared) <= limit else None) as body:
        async for chunk in request.stream():
            if body.size + len(chunk) > limit:
                raise ApiError(413, "upload_too_large", f"the request body is larger than {limit} bytes")
            body.add(chunk)
        limits = RowLimits(settings.max_children, settings.max_schools, settings.max_travel_rows)
        stored = await checker.store(body, content_type, caller.key_id, limits)
    return CaseCreated(case_id=stored.case_id, input_sha256=stored.input_sha256)


@router.get("/{case_id}")
def read_case(case_id: str, _caller: Reader, database: DatabaseDep) -> CaseOut:
    found, names = service.read_case(database, case_id)
    return CaseOut(
        case_id=found.case_id,
        input_sha256=found.input_sha256,
        schools=found.schools,
        children=found.children,
        files=names,
        created_at=found.created_at,
        created_by=found.created_by,
    )


@router.get("/{case_id}/schools")
def list_schools(
    case_id: str, _caller: Reader, database: DatabaseDep, offset: Offset = 0, limit: Limit = 100
) -> Page[dict[str, Any]]:
    rows = service.case_records(database, case_id, "schools")
    return Page(total=len(rows), offset=offset, limit=limit, items=rows[offset : offset + limit])


@router.get("/{case_id}/children")
def list_children(
    case_id: str, _caller: Reader, database: DatabaseDep, offset: Offset = 0, limit: Limit = 100
) -> Page[dict[str, Any]]:
    rows = service.case_records(database, case_id, "children")
    return Page(total=len(rows), offset=offset, limit=limit, items=rows[offset : offset + limit])
