"""The database: an engine for the configured URL, its schema brought up to date by Alembic.

`open_database(url)` applies every migration in `api/migrations` (built in code, so no
alembic.ini is needed in the working folder) and returns a `Database` handing out sessions.
SQLite runs in WAL mode with a busy timeout so that the worker pool and requests can share it.

The SQLite file holds children's home locations: it is created readable and writable by its
owner only (0600), and SQLite gives its `-wal` and `-shm` journals the same mode; files left
with wider modes by an older version are narrowed when the database is opened.

`Database.serialised()` is a session for a check-then-write that must not interleave with
another one (a decision's capacity check and its insert, revoking an admin key): on SQLite its
transaction takes the database's write lock when it begins (BEGIN IMMEDIATE); on PostgreSQL the
caller also locks the row that guards what it checks (SELECT ... FOR UPDATE).
"""

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

FILE_MODE = 0o600
"""The SQLite database and its journals: owner read and write only."""
JOURNALS = ("", "-wal", "-shm", "-journal")


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def serialised(self) -> Iterator[Session]:
        """A session whose transaction never interleaves with another serialised one on SQLite
        (it holds the write lock from its first statement); on PostgreSQL, lock the guarding
        row first thing (`with_for_update`). Committed on success, rolled back on any error."""
        with self.sessions.begin() as session:
            if self.engine.dialect.name == "sqlite":
                # pysqlite opens a transaction only before a write; this one opens at once and
                # waits (busy_timeout) for any other writer to finish.
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    def close(self) -> None:
        self.engine.dispose()


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None
    return Path(parsed.database)


def make_private(path: Path) -> None:
    """Create the SQLite file owner-only when missing, and narrow it and any journal beside it to
    0600 when they are wider. A missing folder is left for SQLite to report."""
    if not path.parent.is_dir():
        return
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    for suffix in JOURNALS:
        found = path.with_name(path.name + suffix)
        try:
            mode = stat.S_IMODE(found.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & ~FILE_MODE:
            found.chmod(FILE_MODE)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        file = sqlite_file(url)
        if file is not None:
            make_private(file)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str, run_migrations: bool = True) -> Database:
    engine = make_engine(url)
    if run_migrations:
        migrate(engine)
    return Database(engine, sessionmaker(engine, expire_on_commit=False))
