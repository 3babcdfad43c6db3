"""Fixtures for the HTTP service: an app per test on a fresh database (SQLite in tmp_path,
or a fresh PostgreSQL database on a loopback cluster started by start_postgres.sh), keys for
every role, and helpers to upload the sample case and wait for runs."""

import os
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.access import Permission, Role
from api.app import create_app
from api.jobs import RunOptions, RunOutput
from api.services import kinds
from api.services.kinds import RunKind
from api.settings import Settings
from api.storage.database import Database
from api.storage.keys import create_key
from data.loader import LoadedCase
from models.results import RunStatus
from tests.conftest import SAMPLE_CASE

HERE = Path(__file__).resolve().parent
FIELDS = ("schools", "places", "children", "preferences", "travel_times", "policy")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """Base URL of a loopback PostgreSQL cluster (ALLOCATOR_TEST_POSTGRES_URL, else started here)."""
    given = os.environ.get("ALLOCATOR_TEST_POSTGRES_URL")
    if given:
        return given
    try:
        done = subprocess.run(
            ["bash", str(HERE / "start_postgres.sh")], capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"PostgreSQL could not be started: {error}")
    if done.returncode != 0:
        pytest.skip(f"PostgreSQL could not be started (tests/api/start_postgres.sh): {done.stderr.strip()[-300:]}")
    return done.stdout.strip().splitlines()[-1]


def _fresh_postgres_database(base_url: str) -> tuple[str, Callable[[], None]]:
    name = f"t_{secrets.token_hex(6)}"
    admin = base_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base_url.rsplit("/", 1)[0] + f"/{name}", drop


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    url, drop = _fresh_postgres_database(request.getfixturevalue("postgres_server"))
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", executor="thread", workers=1, max_upload_bytes=200_000)


@dataclass
class Service:
    """A running app (TestClient) with one key per role."""

    client: TestClient
    keys: dict[str, str]

    @property
    def database(self) -> Database:
        """The app's storage (create_app keeps it on app.state)."""
        app = self.client.app
        assert isinstance(app, FastAPI)
        database: Database = app.state.database
        return database

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def upload(self, role: str = "panel", folder: Path = SAMPLE_CASE) -> str:
        response = self.client.post("/v1/cases", files=case_form(folder), headers=self.auth(role))
        assert response.status_code == 201, response.text
        case_id: str = response.json()["case_id"]
        return case_id

    def solve(self, case_id: str, role: str = "panel", **options: Any) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/cases/{case_id}/runs", json={"kind": "solve", **options}, headers=self.auth(role)
        )
        assert response.status_code == 202, response.text
        return self.wait(response.json()["run_id"])

    def wait(self, run_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run: dict[str, Any] = self.client.get(f"/v1/runs/{run_id}", headers=self.auth("officer")).json()
            if run["status"] not in ("queued", "running") or time.monotonic() > deadline:
                return run
            time.sleep(0.05)


def case_form(folder: Path) -> dict[str, tuple[str, bytes, str]]:
    """Multipart fields for the contract files present in `folder`."""
    form = {}
    for field in FIELDS:
        for path in (folder / f"{field}.csv", folder / f"{field}.toml"):
            if path.is_file():
                form[field] = (path.name, path.read_bytes(), "text/plain")
    return form


def start_service(settings: Settings) -> Iterator[Service]:
    app = create_app(settings)
    with TestClient(app) as client:
        keys = {}
        with app.state.database.session() as session:
            for role in Role:
                keys[role.value] = create_key(session, role, f"test {role.value}")[1]
        yield Service(client, keys)


@pytest.fixture
def service(settings: Settings) -> Iterator[Service]:
    """The app on SQLite in tmp_path, runs in a thread pool."""
    yield from start_service(settings)


@pytest.fixture
def service_on_each_database(settings: Settings, database_url: str) -> Iterator[Service]:
    """The app on SQLite and on PostgreSQL."""
    yield from start_service(settings.model_copy(update={"database_url": database_url}))


class Gate:
    """A kind that blocks until released, to hold a run in `running`."""

    started = threading.Event()
    release = threading.Event()

    @classmethod
    def run(cls, loaded: LoadedCase, options: RunOptions) -> RunOutput:
        cls.started.set()
        cls.release.wait(30)
        return RunOutput(
            {"allocation.csv": "child_id,school_id,travel_minutes,preference_rank,reason\n"},
            {"status": "optimal"},
            RunStatus.OPTIMAL,
        )


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Gate]]:
    Gate.started.clear()
    Gate.release.clear()
    monkeypatch.setitem(kinds.KINDS, "whatif", RunKind("whatif", Permission.WHATIF, RunOptions, Gate.run))
    yield Gate
    Gate.release.set()
