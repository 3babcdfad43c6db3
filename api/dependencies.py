"""`Annotated` dependencies: settings, database, run queue, and the caller's key and role.

They are `async` so that they run on the event loop instead of costing a thread hop each;
the one that may touch the database (a key not seen recently) hands that to a thread."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.access import Permission, RecentKeys, may
from api.errors import ApiError
from api.services.keys import verify_key
from api.services.run_queue import RunQueue
from api.services.runs import FinishedRuns
from api.settings import Settings
from api.storage.database import Database


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def _queue(request: Request) -> RunQueue:
    queue: RunQueue = request.app.state.queue
    return queue


async def _finished_runs(request: Request) -> FinishedRuns:
    finished: FinishedRuns = request.app.state.finished_runs
    return finished


SettingsDep = Annotated[Settings, Depends(_settings)]
FinishedRunsDep = Annotated[FinishedRuns, Depends(_finished_runs)]
DatabaseDep = Annotated[Database, Depends(_database)]
QueueDep = Annotated[RunQueue, Depends(_queue)]

_bearer = HTTPBearer(auto_error=False, description="an API key: `Authorization: Bearer alc_...`")


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: str


async def _recent_keys(request: Request) -> RecentKeys:
    recent: RecentKeys = request.app.state.recent_keys
    return recent


RecentKeysDep = Annotated[RecentKeys, Depends(_recent_keys)]


async def _caller(
    database: DatabaseDep,
    recent: RecentKeysDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorised", "send an API key as 'Authorization: Bearer <key>'")
    token = credentials.credentials
    known = recent.get(token)
    if known is not None:
        return Caller(*known)
    caller = Caller(*await run_in_threadpool(verify_key, database, token))
    recent.put(token, caller.key_id, caller.role)
    return caller


CallerDep = Annotated[Caller, Depends(_caller)]


def require(permission: Permission) -> object:
    """A dependency that lets the request through only for a role holding `permission`."""

    async def check(caller: CallerDep) -> Caller:
        if not may(caller.role, permission):
            raise ApiError(403, "forbidden", f"the {caller.role} role may not {permission.value.replace('_', ' ')}")
        return caller

    return Depends(check)


Reader = Annotated[Caller, require(Permission.READ)]
Uploader = Annotated[Caller, require(Permission.UPLOAD)]
Decider = Annotated[Caller, require(Permission.DECIDE)]
KeyManager = Annotated[Caller, require(Permission.MANAGE_KEYS)]
