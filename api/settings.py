"""Service settings, from `ALLOCATOR_*` environment variables, read when the app is created.

| variable | default | meaning |
|---|---|---|
| ALLOCATOR_DATA_DIR | `./allocator-data` | folder for the embedded SQLite database |
| ALLOCATOR_DATABASE_URL | SQLite file under data_dir | SQLAlchemy URL, e.g. `postgresql+psycopg://user@host/db` |
| ALLOCATOR_MAX_UPLOAD_BYTES | 50 MB | largest request body accepted (413 above it) |
| ALLOCATOR_RUN_TIME_LIMIT | 300 | cap on a run's solver time limit, seconds |
| ALLOCATOR_DEFAULT_TIME_LIMIT | 60 | solver time limit when a run asks for none, seconds |
| ALLOCATOR_WORKERS | 2 | runs executed at once |
| ALLOCATOR_EXECUTOR | `process` | `process` (a pool of worker processes) or `thread` |
| ALLOCATOR_MAX_QUEUED_RUNS | 20 | runs waiting for a worker beyond those running; more get 429 `queue_full` |
"""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALLOCATOR_", extra="forbid")

    data_dir: Path = Path("allocator-data")
    database_url: str | None = None
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    run_time_limit: float = Field(default=300.0, gt=0)
    default_time_limit: float = Field(default=60.0, gt=0)
    workers: int = Field(default=2, ge=1)
    executor: Literal["process", "thread"] = "process"
    # The run queue (api/services/run_queue.py): runs held at once = workers + max_queued_runs.
    max_queued_runs: int = Field(default=20, ge=0)

    def resolved_database_url(self) -> str:
        """The configured URL, else an SQLite file under data_dir (the folder is created)."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'allocator.sqlite3').absolute()}"
