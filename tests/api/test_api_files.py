"""Issue 10, point 7: the data folder is 0700 and the SQLite database and its journals 0600,
whatever the umask, also when an older version left them open to every user."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.settings import Settings
from cli.service import register
from tests.api.conftest import start_service

DATABASE = "allocator.sqlite3"
JOURNALS = (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The usual umask, and one that would leave new files writable by everyone."""
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def test_a_new_data_folder_is_0700_and_the_database_files_0600(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "deep" / "data"
    for service in start_service(Settings(data_dir=data, executor="thread", workers=1)):
        service.upload()  # writes through the WAL, so every journal exists
        assert mode(data) == 0o700
        assert {name: mode(data / name) for name in JOURNALS} == dict.fromkeys(JOURNALS, 0o600)
    assert {path.name for path in data.iterdir()} <= set(JOURNALS)  # nothing else is kept there


def test_an_older_folder_open_to_everyone_is_narrowed_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    for name in (DATABASE, f"{DATABASE}-wal"):
        (data / name).touch()
        (data / name).chmod(0o644)
    for service in start_service(Settings(data_dir=data, executor="thread", workers=1)):
        service.upload()
        assert mode(data) == 0o700
        assert {name: mode(data / name) for name in JOURNALS} == dict.fromkeys(JOURNALS, 0o600)


def test_an_sqlite_url_outside_the_data_folder_is_0600_too(tmp_path: Path, umask: int) -> None:
    file = tmp_path / "elsewhere.sqlite3"
    settings = Settings(data_dir=tmp_path / "unused", database_url=f"sqlite:///{file}", executor="thread")
    for service in start_service(settings):
        service.upload()
        assert {path.name: mode(path) for path in tmp_path.glob("elsewhere.sqlite3*")} == {
            f"elsewhere.sqlite3{suffix}": 0o600 for suffix in ("", "-wal", "-shm")
        }
    assert not (tmp_path / "unused").exists()  # no folder is made for a database elsewhere


def test_keys_create_makes_the_folder_and_database_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("ALLOCATOR_DATA_DIR", str(data))
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["keys", "create", "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert mode(data) == 0o700 and mode(data / DATABASE) == 0o600
    assert all(mode(path) == 0o600 for path in data.iterdir())
