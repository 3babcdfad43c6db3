"""Issue 10, point 6 (uploads): a case is read and checked off the event loop, so the service
answers while a large case is checked; the body cap holds while the body streams in; and the
rows of a case are bounded (413 `case_too_large`, each file located at its first line too many).
"""

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from api.services import uploads
from api.settings import Settings
from api.storage.tables import AuditEntry, CaseFile, CaseRecord
from tests.api.conftest import Service, start_service
from tests.conftest import REPO as ROOT
from tests.conftest import VALID_CASE

JSON_CASE = {name.rsplit(".", 1)[0]: text for name, text in VALID_CASE.items()}


def stored(service: Service) -> tuple[int, int, int]:
    with service.database.session() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (CaseRecord, CaseFile, AuditEntry)
        )


def test_health_answers_while_a_case_is_being_checked(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    checking, release = threading.Event(), threading.Event()
    original = uploads.store_upload

    def slow_check(*args: Any) -> Any:
        checking.set()
        release.wait(30)  # held until /v1/health has answered: on the event loop it never would
        return original(*args)

    monkeypatch.setattr(uploads, "store_upload", slow_check)
    uploaded: list[int] = []
    upload = threading.Thread(
        target=lambda: uploaded.append(
            service.client.post("/v1/cases", json={"files": JSON_CASE}, headers=service.auth("panel")).status_code
        )
    )
    upload.start()
    try:
        assert checking.wait(10)
        health: list[int] = []
        probe = threading.Thread(target=lambda: health.append(service.client.get("/v1/health").status_code))
        probe.start()
        probe.join(10)
        assert health == [200], "GET /v1/health did not answer while a case was being checked"
    finally:
        release.set()
        upload.join(30)
    assert uploaded == [201]


@pytest.fixture
def small_limits(settings: Settings) -> Iterator[Service]:
    """At most 2 schools, 2 children and 1 travel row per case (VALID_CASE has 3, 3 and 1)."""
    yield from start_service(settings.model_copy(update={"max_schools": 2, "max_children": 2, "max_travel_rows": 1}))


def test_too_many_rows_is_413_located_at_the_first_line_past_the_limit(small_limits: Service) -> None:
    service = small_limits
    travel = "child_id,school_id,minutes\nK1,S1,5\nK2,S2,9"  # no newline at the end: still 2 rows
    files = {**JSON_CASE, "travel_times": travel}
    as_json = service.client.post("/v1/cases", json={"files": files}, headers=service.auth("panel"))
    form = {name: (f"{name}.csv", text.encode(), "text/csv") for name, text in files.items()}
    as_form = service.client.post("/v1/cases", files=form, headers=service.auth("panel"))
    expected = [
        "schools.csv:4: -: more than 2 rows; the service takes at most 2 (ALLOCATOR_MAX_SCHOOLS)",
        "children.csv:4: -: more than 2 rows; the service takes at most 2 (ALLOCATOR_MAX_CHILDREN)",
        "travel_times.csv:3: -: more than 1 rows; the service takes at most 1 (ALLOCATOR_MAX_TRAVEL_ROWS)",
    ]
    for response in (as_json, as_form):
        assert (response.status_code, response.json()["code"]) == (413, "case_too_large"), response.text
        assert response.json()["problems"] == expected
    assert stored(service) == (0, 0, 0)


def test_a_case_at_the_row_limits_is_taken(settings: Settings) -> None:
    at_limits = settings.model_copy(update={"max_schools": 3, "max_children": 3, "max_travel_rows": 1})
    for service in start_service(at_limits):
        response = service.client.post("/v1/cases", json={"files": JSON_CASE}, headers=service.auth("panel"))
        assert response.status_code == 201, response.text


def raw_post(app: FastAPI, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[int, dict[str, Any], int]:
    """POST /v1/cases straight to the ASGI app, the body in chunks without a content-length:
    (status, JSON answer, body bytes the app asked for before it answered)."""
    pulled = 0
    answer: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] = answer.get("body", b"") + message.get("body", b"")

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/v1/cases",
        "raw_path": b"/v1/cases",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1234),
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return answer["status"], json.loads(answer["body"]), pulled


@pytest.mark.parametrize("kind", ["application/json", "multipart/form-data; boundary=B"])
def test_an_upload_past_the_cap_is_refused_while_it_streams(service: Service, kind: str) -> None:
    """5 MB sent in 64 kB chunks against the fixture's 200 kB cap: the answer comes once the cap
    is passed, not after the whole body was read."""
    chunk = b"x" * 65_536

    def body() -> Iterator[bytes]:
        for _ in range(80):
            yield chunk

    app = service.client.app
    assert isinstance(app, FastAPI)
    status, answer, pulled = raw_post(app, {**service.auth("panel"), "content-type": kind}, body())
    assert (status, answer["code"]) == (413, "upload_too_large")
    assert pulled <= 200_000 + len(chunk)
    assert stored(service) == (0, 0, 0)


def multipart(parts: list[bytes], boundary: bytes = b"B", close: bool = True) -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return body + (b"--" + boundary + b"--\r\n" if close else b"")


def part(name: str, content: bytes, filename: str | None = None) -> bytes:
    file = f'; filename="{filename}"' if filename else ""
    return f'Content-Disposition: form-data; name="{name}"{file}\r\n\r\n'.encode() + content


def test_multipart_fields_with_or_without_file_names_read_the_same(service: Service) -> None:
    as_files = [part(name, text.encode(), f"{name}.csv") for name, text in JSON_CASE.items()]
    as_fields = [part(name, text.encode()) for name, text in JSON_CASE.items()]
    hashes = set()
    for parts in (as_files, as_fields):
        response = service.client.post(
            "/v1/cases",
            content=multipart(parts),
            headers={**service.auth("panel"), "content-type": "multipart/form-data; boundary=B"},
        )
        assert response.status_code == 201, response.text
        hashes.add(response.json()["input_sha256"])
    by_json = service.client.post("/v1/cases", json={"files": JSON_CASE}, headers=service.auth("panel"))
    assert hashes == {by_json.json()["input_sha256"]}


def test_unreadable_multipart_bodies_are_400_form_invalid(service: Service) -> None:
    whole = [part(name, text.encode(), f"{name}.csv") for name, text in JSON_CASE.items()]
    bodies = {
        "no boundary": (multipart(whole), "multipart/form-data"),
        "no closing boundary": (multipart(whole, close=False), "multipart/form-data; boundary=B"),
        "a part without a name": (
            multipart([*whole, b"Content-Disposition: form-data\r\n\r\nx"]),
            "multipart/form-data; boundary=B",
        ),
        "not multipart at all": (b"schools=1", "multipart/form-data; boundary=B"),
    }
    for what, (content, kind) in bodies.items():
        response = service.client.post(
            "/v1/cases", content=content, headers={**service.auth("panel"), "content-type": kind}
        )
        assert (response.status_code, response.json()["code"]) == (400, "form_invalid"), (what, response.text)
        assert response.json()["message"].startswith("the multipart form cannot be read: ")
    twice = service.client.post(
        "/v1/cases",
        content=multipart([*whole, part("schools", b"x", "again.csv")]),
        headers={**service.auth("panel"), "content-type": "multipart/form-data; boundary=B"},
    )
    assert (twice.status_code, twice.json()["problems"]) == (422, ["schools: given more than once"])
    assert stored(service) == (0, 0, 0)


# --- checked in a worker process (ALLOCATOR_EXECUTOR=process, as `allocator serve` runs) ------


def test_uploads_are_checked_and_stored_by_a_worker_process(settings: Settings) -> None:
    for service in start_service(settings.model_copy(update={"executor": "process", "max_children": 5})):
        checker = service.client.app.state.upload_checker  # type: ignore[attr-defined]
        list(checker._pool.map(int, ["1"]))  # wait for the worker to be up
        workers = [psutil.Process(pid) for pid in checker._pool._processes]
        assert checker.processes == 1 and len(workers) == 1
        panel = service.auth("panel")
        made = service.client.post("/v1/cases", json={"files": JSON_CASE}, headers=panel)
        assert made.status_code == 201, made.text
        listed = service.client.get(f"/v1/cases/{made.json()['case_id']}/children", headers=panel).json()
        assert [child["child_id"] for child in listed["items"]] == ["K1", "K2", "K3"]
        form = {name: (f"{name}.csv", text.encode(), "text/csv") for name, text in JSON_CASE.items()}
        by_form = service.client.post("/v1/cases", files=form, headers=panel)
        assert by_form.json()["input_sha256"] == made.json()["input_sha256"]
        bad = service.client.post(
            "/v1/cases", json={"files": {**JSON_CASE, "children": "child_id,need\nK1,XYZ\n"}}, headers=panel
        )
        assert (bad.status_code, bad.json()["code"]) == (422, "case_invalid")
        assert any(line.startswith("children.csv:") for line in bad.json()["problems"])
        big = "child_id,need,age,lat,lon\n" + "K1,ASD,7,53.8,-2.4\n" * 6
        too_many = service.client.post("/v1/cases", json={"files": {**JSON_CASE, "children": big}}, headers=panel)
        assert (too_many.status_code, too_many.json()["problems"]) == (
            413,
            ["children.csv:7: -: more than 5 rows; the service takes at most 5 (ALLOCATOR_MAX_CHILDREN)"],
        )
        assert stored(service) == (2, 2 * len(JSON_CASE), 2)  # the refused uploads stored nothing
        # A worker that dies (here: killed) fails the upload in hand with 503, nothing stored; the
        # next upload is checked by a new worker.
        workers[0].kill()
        workers[0].wait(10)
        lost = service.client.post("/v1/cases", json={"files": JSON_CASE}, headers=panel)
        assert (lost.status_code, lost.json()["code"]) == (503, "upload_check_failed"), lost.text
        again = service.client.post("/v1/cases", json={"files": JSON_CASE}, headers=panel)
        assert again.status_code == 201, again.text
        workers.extend(psutil.Process(pid) for pid in checker._pool._processes)
        # No room in shared memory: checked in a thread of the service instead, same answer.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(uploads, "_reserved", lambda size: None)
            in_thread = service.client.post("/v1/cases", json={"files": JSON_CASE}, headers=panel)
        assert in_thread.status_code == 201 and in_thread.json()["input_sha256"] == made.json()["input_sha256"]
        assert stored(service) == (4, 4 * len(JSON_CASE), 4)  # 2 more; the upload lost with its worker stored nothing
    assert not any(worker.is_running() for worker in workers), "an upload worker outlived the service"


def test_shared_memory_that_cannot_be_reserved_is_given_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full /dev/shm refuses the reservation (ENOSPC) at once, instead of a SIGBUS on a later
    write; the segment is removed and the upload goes to a thread."""
    made: list[str] = []
    real = uploads.SharedMemory

    def tracked(*args: Any, **options: Any) -> Any:
        memory = real(*args, **options)
        made.append(memory.name)
        return memory

    def full(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(uploads, "SharedMemory", tracked)
    monkeypatch.setattr(uploads.os, "posix_fallocate", full)
    assert uploads._reserved(1_000_000) is None
    assert len(made) == 1 and not (Path("/dev/shm") / made[0].lstrip("/")).exists()
    body = uploads.Body(None, shared=True)
    body.add(b"abc")
    assert body.shared() is None and bytes(body.buffer) == b"abc"


KILLED_PARENT = """
import os, sys
from api.services.uploads import UploadChecker
from api.storage.database import open_database
checker = UploadChecker(open_database(sys.argv[1]), 1)
list(checker._pool.map(int, ["1"]))  # the worker is up
print(*checker._pool._processes, flush=True)
sys.stdin.read()
"""


def test_an_upload_worker_ends_when_its_service_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT, f"sqlite:///{tmp_path / 'db.sqlite3'}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert parent.stdin is not None and parent.stdout is not None
    workers = [psutil.Process(int(pid)) for pid in parent.stdout.readline().split()]
    assert workers and all(worker.is_running() for worker in workers)
    parent.kill()  # kill -9: no shutdown runs in the service
    parent.wait(10)
    parent.stdin.close()
    parent.stdout.close()
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"upload workers outlived a killed service: {alive}"


@pytest.mark.slow
def test_upload_health_script_quick_meets_its_target() -> None:
    """`python -m bench.hardening.upload_health --quick` (a 5 MB case against a real server)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.hardening.upload_health", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "round 1: upload 201 case_" in done.stdout and "GET /v1/health during it:" in done.stdout
    assert "median round: health p95" in done.stdout
