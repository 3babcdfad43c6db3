"""`/`: sign in with an API key; `/sign-out`."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from api.dependencies import DatabaseDep, SettingsDep
from api.storage.database import Database
from api.web.session import (
    COOKIE,
    CSRF_FIELD,
    SIGN_IN_COOKIE,
    PostedForm,
    csrf_for,
    csrf_matches,
    live_caller,
    local_path,
    set_cookie,
    sign_in,
    sign_out,
)
from api.web.templating import render

router = APIRouter(include_in_schema=False)

KEY_FIELD = "api_key"


def _sign_in_page(request: Request, next_path: str, errors: list[dict[str, str]], status_code: int) -> Response:
    secret = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request,
        "sign_in.html",
        None,
        status_code=status_code,
        title="Sign in",
        errors=errors,
        next_path=next_path,
        sign_in_token=csrf_for(secret),
    )
    set_cookie(response, request, SIGN_IN_COOKIE, secret)
    return response


@router.get("/")
async def sign_in_page(
    request: Request, database: DatabaseDep, settings: SettingsDep, next: Annotated[str | None, Query()] = None
) -> Response:
    target = local_path(next)
    session_id = request.cookies.get(COOKIE)
    if session_id:
        caller = await run_in_threadpool(live_caller, database, settings, session_id)
        if caller is not None:
            return RedirectResponse(target, status_code=303)
    return _sign_in_page(request, target, [], 200)


@router.post("/")
async def sign_in_submit(request: Request, database: DatabaseDep) -> Response:
    async with request.form() as form:
        return await _sign_in_with(request, database, form)


async def _sign_in_with(request: Request, database: Database, form: FormData) -> Response:
    secret = request.cookies.get(SIGN_IN_COOKIE, "")
    token = form.get(CSRF_FIELD)
    if not secret or not isinstance(token, str) or not csrf_matches(secret, token):
        return render(
            request,
            "message.html",
            None,
            status_code=403,
            title="You cannot do that",
            message="The sign-in form has expired. Go back to the sign-in page, reload it and try again.",
        )
    next_raw = form.get("next")
    target = local_path(next_raw if isinstance(next_raw, str) else None)
    key = form.get(KEY_FIELD)
    key = key.strip() if isinstance(key, str) else ""
    if not key:
        errors = [{"text": "Enter your API key", "href": f"#{KEY_FIELD}"}]
        return _sign_in_page(request, target, errors, 422)
    session_id = await run_in_threadpool(sign_in, database, key)
    if session_id is None:
        # The same words whether the key is malformed, unknown, revoked or wrong.
        errors = [{"text": "The API key is not valid. Check it and try again", "href": f"#{KEY_FIELD}"}]
        return _sign_in_page(request, target, errors, 401)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, COOKIE, session_id)
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out_submit(request: Request, posted: PostedForm, database: DatabaseDep) -> Response:
    del posted  # checked: signed in, CSRF token valid
    session_id = request.cookies.get(COOKIE, "")
    await run_in_threadpool(sign_out, database, session_id)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
