"""The run queue (issue 10): bounded (429 `queue_full` with Retry-After, nothing stored), runs a
stopped service left unfinished are failed and audited at the next start and can be started
again, worker processes end with the service, and a worker killed on its own costs only its run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from api.services.run_queue import FIRST_RETRY_AFTER
from api.settings import Settings
from api.storage import runs
from api.storage.tables import AuditEntry, RunRecord
from bench.cases import write_case
from tests.api.conftest import Gate, Service, case_form, start_service
from tests.conftest import REPO


def counts(service: Service) -> tuple[int, int]:
    """(runs, audit entries) stored."""
    with service.database.session() as session:
        stored_runs = session.scalar(select(func.count()).select_from(RunRecord)) or 0
        entries = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return int(stored_runs), int(entries)


def interrupted_entries(service: Service) -> dict[str, dict[str, object]]:
    """run_id -> details of each run_interrupted audit entry (a run with two would show once)."""
    with service.database.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "run_interrupted")).all()
        return {str(entry.details["run_id"]): entry.details for entry in entries}


def test_a_full_queue_answers_429_with_retry_after_and_stores_nothing(settings: Settings, gate: type[Gate]) -> None:
    """One worker and one waiting place: the third run is refused until a place frees."""
    for service in start_service(settings.model_copy(update={"max_queued_runs": 1})):
        case_id = service.upload("estates")
        headers = service.auth("estates")
        url = f"/v1/cases/{case_id}/runs"
        running = service.client.post(url, json={"kind": "whatif"}, headers=headers)
        assert running.status_code == 202 and gate.started.wait(10)
        waiting = service.client.post(url, json={"kind": "whatif"}, headers=headers)
        assert waiting.status_code == 202
        before = counts(service)

        refused = service.client.post(url, json={"kind": "whatif"}, headers=headers)
        assert refused.status_code == 429
        assert refused.json() == {
            "code": "queue_full",
            "message": f"the run queue is full (2 runs running or waiting); try again in {FIRST_RETRY_AFTER} s",
            "problems": [],
        }
        assert refused.headers["Retry-After"] == str(FIRST_RETRY_AFTER)  # no run has ended yet to measure
        assert counts(service) == before, "a refused run stores no run and no audit entry"
        # A request refused for another reason keeps its own answer and takes no place.
        unknown = service.client.post("/v1/cases/case_nope/runs", json={"kind": "whatif"}, headers=headers)
        assert (unknown.status_code, unknown.json()["code"]) == (404, "case_not_found")

        # Cancelling the waiting run frees its place; cancelling the running one does not (its
        # worker is still busy until the run's function returns).
        assert service.client.delete(f"/v1/runs/{waiting.json()['run_id']}", headers=headers).status_code == 200
        again = service.client.post(url, json={"kind": "whatif"}, headers=headers)
        assert again.status_code == 202
        assert service.client.post(url, json={"kind": "whatif"}, headers=headers).status_code == 429
        gate.release.set()
        for run_id in (running.json()["run_id"], again.json()["run_id"]):
            assert service.wait(run_id)["status"] == "optimal"
        # With runs measured, Retry-After is their median time over the workers, at least 1 s.
        gate.release.clear()
        gate.started.clear()
        held = [service.client.post(url, json={"kind": "whatif"}, headers=headers) for _ in range(2)]
        assert [answer.status_code for answer in held] == [202, 202] and gate.started.wait(10)
        measured = service.client.post(url, json={"kind": "whatif"}, headers=headers)
        assert measured.status_code == 429 and measured.headers["Retry-After"] == "1"
        gate.release.set()
        for answer in held:
            assert service.wait(answer.json()["run_id"])["status"] == "optimal"


def test_the_429_is_in_the_openapi_document(service: Service) -> None:
    operation = service.client.get("/openapi.json").json()["paths"]["/v1/cases/{case_id}/runs"]["post"]
    assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_runs_left_unfinished_are_failed_and_audited_at_the_next_start(settings: Settings, database_url: str) -> None:
    """A service that stopped with a run queued and one running: at the next start both are failed
    with a reason and one `run_interrupted` entry each; the finished run and the rest of the audit
    are untouched; the same run started again finishes; a further restart adds nothing."""
    settings = settings.model_copy(update={"database_url": database_url})
    for service in start_service(settings):
        case_id = service.upload()
        finished = service.solve(case_id, time_limit=10)
        assert finished["status"] == "optimal"
        with service.database.session() as session:
            queued = runs.add_run(session, case_id, "solve", {"time_limit": 10.0}, "key_test").run_id
            running = runs.add_run(session, case_id, "solve", {"time_limit": 10.0}, "key_test").run_id
            assert runs.start(session, running)
        audit_before = service.client.get(f"/v1/cases/{case_id}/audit", headers=service.auth("officer")).json()
    for service in start_service(settings):
        headers = service.auth("officer")
        assert service.client.get(f"/v1/runs/{finished['run_id']}", headers=headers).json() == finished
        for run_id, was, when in ((queued, "queued", "before"), (running, "running", "while")):
            run = service.client.get(f"/v1/runs/{run_id}", headers=headers).json()
            assert run["status"] == "failed" and run["finished_at"] and run["summary"] is None
            assert run["error"].startswith(f"interrupted: the service stopped {when} the run")
            assert interrupted_entries(service)[run_id] == {
                "run_id": run_id,
                "kind": "solve",
                "was": was,
                "reason": run["error"],
            }
        audit_after = service.client.get(f"/v1/cases/{case_id}/audit", headers=headers).json()
        assert audit_after[: len(audit_before)] == audit_before
        assert [entry["action"] for entry in audit_after[len(audit_before) :]] == ["run_interrupted"] * 2
        assert all(entry["actor"] is None for entry in audit_after[len(audit_before) :])
        again = service.solve(case_id, time_limit=10)
        assert again["status"] == "optimal" and again["input_sha256"] == finished["input_sha256"]
    for service in start_service(settings):
        assert len(interrupted_entries(service)) == 2, "a restart with nothing unfinished audits nothing"


WORKER_POOL = """
import sys, time
from api.services.run_queue import RunQueue
from api.settings import Settings
from api.storage.database import open_database
url = sys.argv[1]
queue = RunQueue(Settings(executor="process", workers=2), open_database(url), url)
print("ready", flush=True)
time.sleep(300)
"""


def test_worker_processes_end_when_the_service_is_killed(tmp_path: Path) -> None:
    """A process holding a pool of 2 workers is SIGKILLed: every process it started ends within
    seconds (without the watch they wait on the pool's queue for ever)."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    holder = subprocess.Popen(
        [sys.executable, "-c", WORKER_POOL, url], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    started: list[psutil.Process] = []
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready", holder.stderr
        deadline = time.monotonic() + 60
        workers: list[psutil.Process] = []
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            children = psutil.Process(holder.pid).children(recursive=True)
            workers = [child for child in children if "spawn_main" in " ".join(child.cmdline())]
        assert len(workers) == 2, "the pool did not start its two workers"
        started = psutil.Process(holder.pid).children(recursive=True)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        _, still = psutil.wait_procs(started, timeout=5)
        assert [p for p in still if p.status() != psutil.STATUS_ZOMBIE] == [], "processes outlived their parent"
    finally:
        if holder.poll() is None:
            holder.kill()
        for leftover in started:  # only if the test failed: processes this test started
            if leftover.is_running() and leftover.status() != psutil.STATUS_ZOMBIE:
                leftover.kill()
        holder.communicate()  # reaps it and closes its pipes (which its workers share)


@pytest.mark.slow
def test_a_killed_worker_fails_its_run_and_the_queue_goes_on(tmp_path: Path) -> None:
    """A worker process killed on its own (as the kernel's out-of-memory killer would): its run is
    failed and audited, the runs waiting behind it run in a new pool, and new runs are accepted."""
    big = write_case(tmp_path / "big", 10_000, 100, full_travel=False)
    settings = Settings(data_dir=tmp_path / "data", executor="process", workers=1, max_upload_bytes=5_000_000)
    before = time.time() - 1  # psutil's start times are rounded to clock ticks
    for service in start_service(settings):
        headers = service.auth("panel")
        response = service.client.post("/v1/cases", files=case_form(big), headers=headers)
        assert response.status_code == 201, response.text
        big_id = response.json()["case_id"]
        small_id = service.upload()
        # the run pool's own workers (uploads are checked in a pool of their own)
        run_pool = service.client.app.state.queue.executor  # type: ignore[attr-defined]
        own_workers = {
            p.pid for p in psutil.Process().children() if p.pid in run_pool._processes and p.create_time() >= before
        }
        doomed = service.client.post(f"/v1/cases/{big_id}/runs", json={"kind": "solve"}, headers=headers).json()
        waiting = [
            service.client.post(f"/v1/cases/{small_id}/runs", json={"kind": "solve"}, headers=headers).json()["run_id"]
            for _ in range(3)
        ]
        deadline = time.monotonic() + 60
        while service.client.get(f"/v1/runs/{doomed['run_id']}", headers=headers).json()["status"] == "queued":
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.02)
        (worker,) = [p for p in psutil.Process().children() if p.pid in own_workers]
        os.kill(worker.pid, signal.SIGKILL)

        failed = service.wait(doomed["run_id"])
        assert failed["status"] == "failed"
        assert failed["error"] == (
            "interrupted: its worker process stopped while the run was running; start the run again"
        )
        assert interrupted_entries(service)[doomed["run_id"]]["was"] == "running"
        for run_id in waiting:  # each mended by its own thread, at the same time
            assert service.wait(run_id)["status"] == "optimal"
            assert run_id not in interrupted_entries(service)
        assert service.solve(small_id)["status"] == "optimal"
