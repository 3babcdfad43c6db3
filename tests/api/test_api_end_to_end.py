"""End to end: a real `allocator serve` (uvicorn) on 127.0.0.1, worker processes, the
Lancashire case uploaded over HTTP, a solve, a panel decision and the audit log."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.api.conftest import case_form
from tests.conftest import REPO, SAMPLE_CASE

LANCASHIRE = REPO / "data" / "lancashire" / "case"
CLI = "import typer; from cli.service import register; app = typer.Typer(); register(app); app()"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def allocator(*args: str, env: dict[str, str], stdout: int | IO[str], stderr: int | IO[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *args], env=env, cwd=REPO, text=True, stdout=stdout, stderr=stderr
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    env = {**os.environ, "ALLOCATOR_DATA_DIR": str(tmp_path), "ALLOCATOR_WORKERS": "1"}
    made = allocator("keys", "create", "--role", "panel", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    token = made.communicate(timeout=60)[0].strip()
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = allocator("serve", "--port", str(port), env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, token, env
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.mark.slow
def test_upload_solve_decide_and_audit_over_a_real_server(server: tuple[str, str, dict[str, str]]) -> None:
    url, token, _env = server
    headers = {"Authorization": f"Bearer {token}"}
    folder = LANCASHIRE if (LANCASHIRE / "children.csv").is_file() else SAMPLE_CASE
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        assert client.get("/docs").status_code == 200
        case_id = client.post("/v1/cases", files=case_form(folder)).json()["case_id"]
        run_id = client.post(f"/v1/cases/{case_id}/runs", json={"kind": "solve", "time_limit": 30}).json()["run_id"]
        deadline = time.monotonic() + 120
        while (run := client.get(f"/v1/runs/{run_id}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert run["status"] in ("optimal", "feasible"), run["error"]
        placed = client.get(f"/v1/runs/{run_id}/allocation", params={"unplaced": False, "limit": 1}).json()["items"][0]
        decision = {
            "child_id": placed["child_id"],
            "school_id": placed["school_id"],
            "decision": "accept",
            "reason": "agreed at panel",
            "run_id": run_id,
        }
        assert client.post(f"/v1/cases/{case_id}/decisions", json=decision).status_code == 201
        audit = client.get(f"/v1/cases/{case_id}/audit").json()
        assert client.get(f"/v1/runs/{run_id}/children/{placed['child_id']}").json()["locked"] is False
    assert [entry["action"] for entry in audit] == ["case_uploaded", "run_queued", "run_finished", "decision_recorded"]
    assert audit[2]["details"]["input_sha256"] == run["input_sha256"]
    # The server logs a request just after answering it: wait for the line rather than race it.
    log_file = Path(_env["ALLOCATOR_DATA_DIR"]) / "server.log"
    expected = "GET /v1/runs/{run_id}/children/{child_id} 200"
    deadline = time.monotonic() + 10
    while expected not in (server_log := log_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert expected in server_log
    assert placed["child_id"] not in server_log
