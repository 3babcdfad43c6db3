"""`allocator keys create` writes a hashed key to the configured database and prints it once."""

from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from cli.service import register


def command() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_keys_create_prints_a_key_that_the_service_accepts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOCATOR_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(command(), ["keys", "create", "--role", "admin", "--label", "first admin"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert token.startswith("alc_")
    assert token.encode() not in (tmp_path / "allocator.sqlite3").read_bytes()
    with TestClient(create_app(Settings(data_dir=tmp_path, executor="thread"))) as client:
        listed = client.get("/v1/keys", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200 and [k["label"] for k in listed.json()] == ["first admin"]


def test_keys_create_refuses_an_unknown_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOCATOR_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(command(), ["keys", "create", "--role", "mayor"])
    assert result.exit_code == 2
    assert not (tmp_path / "allocator.sqlite3").exists()
