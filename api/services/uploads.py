"""An uploaded case, from request body to stored case, off the service's event loop.

The body (multipart/form-data with one part per contract file, or `{"files": {name: text}}`)
is turned into case files here (`case_fields`), then checked and stored by
`api.services.cases.create_case`. Where that happens keeps the service answering while a large
case is checked: reading a 50 MB case holds Python's interpreter lock for stretches of 0.1 s at
a time (parsing, copying, decoding), and a thread of the service would stall every other request
for as long.

* `ALLOCATOR_EXECUTOR=process` (the default): the body is written into shared memory chunk by
  chunk as it arrives (no copy of the whole body in the service), then a worker process (spawned
  at start; `ALLOCATOR_UPLOAD_WORKERS`, default 1) parses, checks and stores it and answers with
  the case id or the refusal. A worker ends when the service does: it watches its parent.
* `thread` (as the tests run): the same functions, in a thread of the service.

Nothing is written to disk but the stored case: a body is held in memory (shared memory is
owner-only, 0600, and removed as soon as the upload is answered).
"""

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.shared_memory import SharedMemory

from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from python_multipart.multipart import parse_options_header

from api.errors import ApiError
from api.schemas.requests import CaseUpload
from api.services.cases import RowLimits, create_case
from api.storage.database import Database, open_database

MULTIPART, JSON = "multipart/form-data", "application/json"

NICENESS = 10
"""Upload workers run at a lower CPU priority than the service, so that checking a large case
does not slow the answers to other requests on a busy machine."""

log = logging.getLogger("allocator.api")


def case_fields(content_type: str, body: bytes | bytearray) -> dict[str, bytes]:
    """Upload field name -> file content, from a multipart or JSON body (`content_type` is the
    request's Content-Type header)."""
    if content_type.split(";")[0].strip().lower() == MULTIPART:
        return _form_fields(content_type, body)
    return _json_fields(body)


def _json_fields(body: bytes | bytearray) -> dict[str, bytes]:
    try:
        upload = CaseUpload.model_validate(json.loads(body))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "json_invalid", "the request body is not valid JSON") from None
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()]
        raise ApiError(422, "request_invalid", "the request is not valid", problems) from None
    return {name: text.encode() for name, text in upload.files.items()}


def _form_fields(content_type: str, body: bytes | bytearray) -> dict[str, bytes]:
    """The parts of a multipart/form-data body (RFC 7578) by their `name`, with or without a file
    name: 400 `form_invalid` when it cannot be read, 422 `request_invalid` for a name given twice.

    Parts are found with `bytes.find` and each content is copied once (python-multipart, feeding
    callbacks, holds the interpreter about 0.3 s for a 50 MB part)."""
    boundary = parse_options_header(content_type)[1].get(b"boundary")
    if not boundary:
        raise _form_invalid("no boundary in its Content-Type")
    delimiter = b"\r\n--" + boundary
    if body.startswith(delimiter[2:]):
        position = len(delimiter) - 2
    else:
        found = body.find(delimiter)
        if found < 0:
            raise _form_invalid("no part starts with the boundary")
        position = found + len(delimiter)
    view = memoryview(body)
    fields: dict[str, bytes] = {}
    while not body.startswith(b"--", position):
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise _form_invalid("a boundary is not followed by a line break")
        headers_end = body.find(b"\r\n\r\n", line_end)
        if headers_end < 0:
            raise _form_invalid("a part's headers do not end")
        end = body.find(delimiter, headers_end + 4)
        if end < 0:
            raise _form_invalid("it ends before its closing boundary")
        name = _field_name(bytes(view[line_end + 2 : headers_end]))
        if name in fields:
            raise ApiError(422, "request_invalid", "the request is not valid", [f"{name}: given more than once"])
        fields[name] = view[headers_end + 4 : end].tobytes()
        position = end + len(delimiter)
    return fields


def _field_name(headers: bytes) -> str:
    """The `name` of a part's Content-Disposition header."""
    for line in headers.split(b"\r\n"):
        header, _, value = line.partition(b":")
        if header.strip().lower() == b"content-disposition":
            name = parse_options_header(value.strip())[1].get(b"name")
            if name is not None:
                return name.decode("utf-8", "replace")
    raise _form_invalid('a part has no Content-Disposition "name"')


def _form_invalid(why: str) -> ApiError:
    return ApiError(400, "form_invalid", f"the multipart form cannot be read: {why}")


@dataclass(frozen=True)
class Stored:
    case_id: str
    input_sha256: str


def store_upload(
    database: Database, content_type: str, body: bytes | bytearray, actor: str, limits: RowLimits
) -> Stored:
    """Parse, check and store an uploaded case. Raises ApiError for a refused upload."""
    case = create_case(database, case_fields(content_type, body), actor, limits)
    return Stored(case.case_id, case.input_sha256)


# --- the worker process ---------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """An ApiError, as a worker process answers it (exceptions with their own arguments do not
    cross processes intact)."""

    status: int
    code: str
    message: str
    problems: list[str] = field(default_factory=list)


_worker_databases: dict[str, Database] = {}


def _store_in_worker(
    database_url: str, memory: str, size: int, content_type: str, actor: str, limits: RowLimits
) -> Stored | Refused:
    """In a worker process: the upload in shared memory `memory`, stored; the case id or why not."""
    shared = SharedMemory(memory)
    try:
        body = bytes(_buffer(shared)[:size])
    finally:
        shared.close()
    database = _worker_databases.get(database_url)
    if database is None:
        database = _worker_databases[database_url] = open_database(database_url, run_migrations=False)
    try:
        return store_upload(database, content_type, body, actor, limits)
    except ApiError as error:
        return Refused(error.status, error.code, error.message, error.problems)


def _worker_start(parent: int) -> None:
    """Worker start: yield the CPU to the service's requests (nice 10), and end this process
    when the service that started it is gone (even by kill -9)."""
    os.nice(NICENESS)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _ready() -> None:
    """Submitted once at start, so that the first upload does not wait for the imports."""


def _buffer(memory: SharedMemory) -> memoryview:
    view = memory.buf
    assert view is not None, "shared memory used after close"
    return view


def _reserved(size: int) -> SharedMemory | None:
    """Owner-only shared memory of `size` bytes with its pages reserved now, or None when there is
    no room: a write past what tmpfs can hold would end the service (SIGBUS), so the upload is
    then checked in a thread instead."""
    try:
        memory = SharedMemory(create=True, size=max(1, size))
    except OSError:
        return None
    try:
        if hasattr(os, "posix_fallocate"):  # Linux; SharedMemory keeps its descriptor private
            os.posix_fallocate(memory._fd, 0, memory.size)  # type: ignore[attr-defined]
    except OSError:
        memory.close()
        memory.unlink()
        return None
    return memory


class Body:
    """The request body as it arrives: in shared memory when it is to go to a worker process and
    its length is declared, else in a bytearray."""

    def __init__(self, declared: int | None, shared: bool) -> None:
        self.size = 0
        self.memory = _reserved(declared) if shared and declared else None
        self.buffer = bytearray()

    def add(self, chunk: bytes) -> None:
        if self.memory is not None:
            if self.size + len(chunk) > self.memory.size:
                raise ApiError(400, "bad_request", "the body is longer than its Content-Length")
            _buffer(self.memory)[self.size : self.size + len(chunk)] = chunk
        else:
            self.buffer += chunk
        self.size += len(chunk)

    def shared(self) -> SharedMemory | None:
        """The body in shared memory (copied there now when its length was not declared), or None
        when there is no room for it there."""
        if self.memory is None:
            self.memory = _reserved(self.size)
            if self.memory is None:
                return None
            _buffer(self.memory)[: self.size] = self.buffer
            self.buffer = bytearray()
        return self.memory

    def close(self) -> None:
        if self.memory is not None:
            self.memory.close()
            self.memory.unlink()
            self.memory = None


class UploadChecker:
    """Where uploads are parsed, checked and stored: worker processes, or threads of the service."""

    def __init__(self, database: Database, processes: int | None) -> None:
        self.database = database
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        if processes:
            self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        assert self.processes
        pool = ProcessPoolExecutor(
            self.processes, mp_context=get_context("spawn"), initializer=_worker_start, initargs=(os.getpid(),)
        )
        for _ in range(self.processes):
            pool.submit(_ready)
        return pool

    @asynccontextmanager
    async def body(self, declared: int | None) -> AsyncIterator[Body]:
        """Somewhere to collect a body of `declared` bytes (None: not declared); set up and given
        back in a thread (reserving 50 MB of pages takes a while)."""
        collected = await run_in_threadpool(Body, declared, self._pool is not None)
        try:
            yield collected
        finally:
            await run_in_threadpool(collected.close)

    async def store(self, body: Body, content_type: str, actor: str, limits: RowLimits) -> Stored:
        """Parse, check and store the body; raises ApiError for a refused upload."""
        memory = None if self._pool is None else await run_in_threadpool(body.shared)
        if self._pool is None or memory is None:
            return await run_in_threadpool(store_upload, self.database, content_type, body.buffer, actor, limits)
        url = self.database.engine.url.render_as_string(hide_password=False)
        try:
            future = self._pool.submit(_store_in_worker, url, memory.name, body.size, content_type, actor, limits)
            answer = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            log.error("an upload worker stopped; starting another")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            raise ApiError(503, "upload_check_failed", "the case could not be checked; send it again") from None
        if isinstance(answer, Refused):
            raise ApiError(answer.status, answer.code, answer.message, answer.problems)
        return answer

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


@asynccontextmanager
async def upload_checker(database: Database, processes: int | None) -> AsyncIterator[UploadChecker]:
    """An UploadChecker for the service's lifetime (its worker processes end with it)."""
    checker = UploadChecker(database, processes)
    try:
        yield checker
    finally:
        await asyncio.to_thread(checker.close)
