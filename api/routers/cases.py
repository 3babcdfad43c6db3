"""Cases: upload (multipart or JSON), read, schools and children (paginated)."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.dependencies import DatabaseDep, Reader, SettingsDep, Uploader
from api.errors import ApiError
from api.routers import V1
from api.schemas.requests import CaseUpload
from api.schemas.responses import CaseCreated, CaseOut, Page
from api.services import cases as service

router = APIRouter(prefix=f"{V1}/cases", tags=["cases"])

Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]

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


@router.post("", status_code=201, openapi_extra=UPLOAD_DOC)
async def upload_case(request: Request, caller: Uploader, database: DatabaseDep, settings: SettingsDep) -> CaseCreated:
    """Upload a case: one multipart file field per contract file, or `{"files": {name: text}}`."""
    fields = await _read_fields(request, settings.max_upload_bytes)
    case = service.create_case(database, fields, caller.key_id)
    return CaseCreated(case_id=case.case_id, input_sha256=case.input_sha256)


async def _read_fields(request: Request, max_bytes: int) -> dict[str, bytes]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return await _form_fields(request, max_bytes)
    if content_type == "application/json":
        try:
            upload = CaseUpload.model_validate(json.loads(await request.body()))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "json_invalid", "the request body is not valid JSON") from None
        except ValidationError as error:
            problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()]
            raise ApiError(422, "request_invalid", "the request is not valid", problems) from None
        return {name: text.encode() for name, text in upload.files.items()}
    raise ApiError(415, "unsupported_media_type", "send multipart/form-data or application/json")


async def _form_fields(request: Request, max_bytes: int) -> dict[str, bytes]:
    try:
        form = await request.form(max_part_size=max_bytes)
    except Exception as error:  # noqa: BLE001 - starlette raises several kinds for a bad form
        raise ApiError(400, "form_invalid", f"the multipart form cannot be read: {type(error).__name__}") from None
    fields: dict[str, bytes] = {}
    try:
        for name, value in form.multi_items():
            if name in fields:
                raise ApiError(422, "request_invalid", "the request is not valid", [f"{name}: given more than once"])
            fields[name] = await value.read() if isinstance(value, UploadFile) else value.encode()
    finally:
        await form.close()
    return fields


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
