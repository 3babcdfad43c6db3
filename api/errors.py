"""Domain errors mapped to HTTP answers with a stable `code`.

Every error body is `{"code": ..., "message": ..., "problems": [...]}`; `problems` lists
`file:line: column: message` for an invalid case, or `field: message` for a bad request.
No handler echoes request bodies or child rows back into logs.
"""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.problems import CaseInvalid

log = logging.getLogger("allocator.api")


class ApiError(Exception):
    """An answer other than success: HTTP status, stable code, a sentence, optional problems."""

    def __init__(self, status: int, code: str, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.problems = problems or []


def not_found(what: str, identifier: str) -> ApiError:
    return ApiError(404, f"{what}_not_found", f"no {what.replace('_', ' ')} '{identifier}'")


def case_invalid(error: CaseInvalid) -> ApiError:
    return ApiError(422, "case_invalid", f"{len(error.problems)} problem(s) in the case", error.lines())


def error_body(code: str, message: str, problems: list[str] | None = None) -> dict[str, object]:
    return {"code": code, "message": message, "problems": problems or []}


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "upload_too_large",
    415: "unsupported_media_type",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return JSONResponse(
            error_body(error.code, error.message, error.problems), status_code=error.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = list(error.errors())
        if any(detail.get("type") == "json_invalid" for detail in details):
            return JSONResponse(error_body("json_invalid", "the request body is not valid JSON"), status_code=400)
        problems = [_describe(detail) for detail in details]
        return JSONResponse(error_body("request_invalid", "the request is not valid", problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # Type only: the message could carry input values.
        log.error("internal error %s on %s %s", type(error).__name__, request.method, _template(request))
        return JSONResponse(error_body("internal_error", "unexpected error; it has been logged"), status_code=500)


def _describe(detail: object) -> str:
    assert isinstance(detail, dict)
    where = ".".join(str(part) for part in detail.get("loc", ()) if part != "body") or "body"
    return f"{where}: {detail.get('msg', 'invalid')}"


def _template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))
