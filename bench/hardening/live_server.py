"""A real `allocator serve` on 127.0.0.1 for the hardening scripts (load, crash): its own
temporary data folder (so its own SQLite database and keys), started, waited for, killed.

The data folder's path is in every process of the server's environment (the server, its
worker processes, multiprocessing's resource tracker): `processes_of` finds them by it, so a
worker that outlived its server is found even when it was started after the last look.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
LANCASHIRE = REPO / "data" / "lancashire" / "case"
FIELDS = ("schools", "places", "children", "preferences", "travel_times", "policy")
# The service's commands without the rest of the CLI (faster to start).
CLI = "import typer; from cli.service import register; app = typer.Typer(); register(app); app()"
DATA_DIR = "ALLOCATOR_DATA_DIR"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def case_form(folder: Path) -> dict[str, tuple[str, bytes, str]]:
    """Multipart fields for the contract files present in `folder`."""
    form = {}
    for field in FIELDS:
        for path in (folder / f"{field}.csv", folder / f"{field}.toml"):
            if path.is_file():
                form[field] = (path.name, path.read_bytes(), "text/plain")
    return form


class LiveServer:
    """`allocator serve` on a free loopback port, data in `work/data`, log in `work/server-N.log`."""

    def __init__(self, work: Path, **settings: str) -> None:
        self.work = work
        self.data_dir = work / "data"
        self.env = {**os.environ, DATA_DIR: str(self.data_dir), **settings}
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.data_dir / "allocator.sqlite3"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def create_key(self, role: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", CLI, "keys", "create", "--role", role],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()

    def start(self, timeout: float = 90, **settings: str) -> None:
        """Start (again), with `settings` (ALLOCATOR_* variables) for this start only."""
        self.starts += 1
        self.port = free_port()
        self._log = (self.work / f"server-{self.starts}.log").open("wb")
        command = [sys.executable, "-c", CLI, "serve", "--port", str(self.port)]
        env = {**self.env, **settings}
        self.process = subprocess.Popen(command, env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"the server stopped at start (exit {code}); see {self._log.name}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /v1/health within {timeout:.0f} s")

    def client(self, token: str, timeout: float = 120) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the server process alone (its workers get no signal), and reap it."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close_log()

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful stop), then SIGKILL after 30 s; then end any process of
        this server still alive (by pid: only processes this script started)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._close_log()
        for leftover in processes_of(self.data_dir):
            leftover.kill()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def alive(process: psutil.Process) -> bool:
    """Still running (a zombie has ended: it only waits to be reaped)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def processes_of(data_dir: Path) -> list[psutil.Process]:
    """Live processes (other than this one) whose environment names this data folder."""
    found = []
    marker = str(data_dir)
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.environ().get(DATA_DIR) == marker and alive(process):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def wait_for_runs(client: httpx.Client, run_ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Poll until every run has ended (or the time is up); each run's last state."""
    deadline = time.monotonic() + timeout
    ended: dict[str, dict[str, Any]] = {}
    while len(ended) < len(run_ids) and time.monotonic() < deadline:
        for run_id in run_ids:
            if run_id not in ended:
                run: dict[str, Any] = client.get(f"/v1/runs/{run_id}").json()
                if run["status"] not in ("queued", "running"):
                    ended[run_id] = run
        time.sleep(0.1)
    return ended
