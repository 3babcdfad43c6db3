"""Signing in to the web pages, the session that follows, and CSRF tokens.

A browser signs in with an API key once (POST `/`); it then holds a random session id in the
`allocator_session` cookie (HttpOnly, SameSite=Strict, Secure when the request came over HTTPS).
The database keeps only sha256 of that id, with the key id and role; the key itself is neither
kept nor ever put in a page or URL. A session ends when signed out, after
`ALLOCATOR_SESSION_IDLE_MINUTES` without a request, `ALLOCATOR_SESSION_MAX_HOURS` after sign-in,
or when its key is revoked.

Every form carries a CSRF token: HMAC-SHA256 of the session id (so it is per session and needs
no storage); the sign-in form, before any session, uses a random `allocator_signin` cookie the
same way. `posted_form` checks it on every POST and answers 403 before anything is done.

Pages depend on `SignedIn` (any role) or `page_for(permission)`: without a live session the
browser is sent to `/?next=<the page asked for>` and back there after signing in.
"""

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from api.access import Permission, may
from api.dependencies import DatabaseDep, SettingsDep
from api.settings import Settings
from api.storage import audit, web_sessions
from api.storage import keys as key_store
from api.storage.clock import now
from api.storage.database import Database

COOKIE = "allocator_session"
SIGN_IN_COOKIE = "allocator_signin"
CSRF_FIELD = "csrf_token"
TOUCH_EVERY = timedelta(seconds=60)
"""A session's last-seen time is written at most this often (each write costs a transaction)."""


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to sign-in (see api/web/__init__.py)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Exception):
    """403: the role may not do this, or a POST without a valid CSRF token. Nothing was done."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class WebCaller:
    """The signed-in person's key id, role and the CSRF token their forms carry."""

    key_id: str
    role: str
    csrf_token: str

    def may(self, permission: Permission) -> bool:
        return may(self.role, permission)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def csrf_for(secret: str) -> str:
    return hmac.new(secret.encode(), b"allocator csrf", hashlib.sha256).hexdigest()


def csrf_matches(secret: str, token: str) -> bool:
    return hmac.compare_digest(csrf_for(secret), token)


def sign_in(database: Database, token: str) -> str | None:
    """A new session id for a valid, unrevoked key (audited `signed_in`), else None (audited
    `sign_in_refused`, with nothing about the key typed)."""
    with database.session() as session:
        key = key_store.find_active_key(session, token.strip())
        if key is None:
            audit.record(session, None, None, "sign_in_refused", {"via": "web"})
            return None
        session_id = secrets.token_urlsafe(32)
        web_sessions.add_session(session, _digest(session_id), key.key_id, key.role, now())
        audit.record(session, None, key.key_id, "signed_in", {"role": key.role, "via": "web"})
        return session_id


def sign_out(database: Database, session_id: str) -> None:
    with database.session() as session:
        record = web_sessions.delete_session(session, _digest(session_id))
        if record is not None:
            audit.record(session, None, record.key_id, "signed_out", {"role": record.role, "via": "web"})


def live_caller(database: Database, settings: Settings, session_id: str) -> WebCaller | None:
    """The caller of a live session, its last-seen time moved on; None when ended or expired."""
    at = now()
    idle = timedelta(minutes=settings.session_idle_minutes)
    longest = timedelta(hours=settings.session_max_hours)
    with database.session() as session:
        record = web_sessions.live_session(session, _digest(session_id))
        if record is None:
            return None
        if at - record.last_seen_at > idle or at - record.created_at > longest:
            session.delete(record)
            web_sessions.delete_expired(session, at - idle, at - longest)
            return None
        if at - record.last_seen_at > TOUCH_EVERY:
            record.last_seen_at = at
        return WebCaller(record.key_id, record.role, csrf_for(session_id))


def local_path(candidate: str | None) -> str:
    """`candidate` when it is a path on this site (`/cases`, not `//host` or `https://...`),
    else `/cases`."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return "/cases"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or any(ord(character) < 32 for character in candidate):
        return "/cases"
    return candidate


def sign_in_url(request: Request) -> str:
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/?next=" + quote(asked, safe="")


async def _signed_in(request: Request, database: DatabaseDep, settings: SettingsDep) -> WebCaller:
    session_id = request.cookies.get(COOKIE)
    caller = None if not session_id else await run_in_threadpool(live_caller, database, settings, session_id)
    if caller is None:
        raise SignInRequired(sign_in_url(request))
    return caller


SignedIn = Annotated[WebCaller, Depends(_signed_in)]


def page_for(permission: Permission) -> object:
    """A dependency: the signed-in caller when their role holds `permission`, else 403."""

    async def check(caller: SignedIn) -> WebCaller:
        if not caller.may(permission):
            raise PageForbidden(f"Your role ({caller.role}) cannot {_ACTIONS[permission]}.")
        return caller

    return Depends(check)


_ACTIONS = {
    Permission.READ: "read cases and runs",
    Permission.UPLOAD: "upload cases",
    Permission.SOLVE: "start allocation runs",
    Permission.DECIDE: "record panel decisions",
    Permission.SITES: "rank candidate sites",
    Permission.PLAN_PLACES: "plan new places",
    Permission.WHATIF: "run what-if scenarios",
    Permission.MANAGE_KEYS: "manage keys",
}


@dataclass(frozen=True)
class Posted:
    """A POSTed form whose CSRF token was checked, and who sent it."""

    caller: WebCaller
    form: FormData

    def text(self, name: str) -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""


async def _posted(request: Request, caller: SignedIn) -> AsyncIterator[Posted]:
    form = await request.form()
    try:
        token = form.get(CSRF_FIELD)
        if not isinstance(token, str) or not hmac.compare_digest(caller.csrf_token, token):
            raise PageForbidden(
                "The form has expired or did not come from this service. Go back, reload and try again."
            )
        yield Posted(caller, form)
    finally:
        await form.close()


PostedForm = Annotated[Posted, Depends(_posted)]
"""Use on every POST route (it reads the form, checks CSRF, and returns the caller)."""


def posted_by(permission: Permission) -> object:
    """A POST dependency: CSRF checked, and 403 unless the role holds `permission`."""

    async def check(posted: PostedForm) -> Posted:
        if not posted.caller.may(permission):
            raise PageForbidden(f"Your role ({posted.caller.role}) cannot {_ACTIONS[permission]}.")
        return posted

    return Depends(check)


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    """A browser-session cookie: HttpOnly, SameSite=Strict, path /, Secure when the request came
    over HTTPS."""
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(name, value, path="/", secure=secure, httponly=True, samesite="strict")


ReaderPage = Annotated[WebCaller, page_for(Permission.READ)]
UploadPost = Annotated[Posted, posted_by(Permission.UPLOAD)]
DecidePost = Annotated[Posted, posted_by(Permission.DECIDE)]
