"""Service settings, from `ALLOCATOR_*` environment variables, read when the app is created.

| variable | default | meaning |
|---|---|---|
| ALLOCATOR_DATA_DIR | `./allocator-data` | folder for the embedded SQLite database (kept 0700) |
| ALLOCATOR_DATABASE_URL | SQLite file under data_dir | SQLAlchemy URL, e.g. `postgresql+psycopg://user@host/db` |
| ALLOCATOR_MAX_UPLOAD_BYTES | 50 MB | largest request body accepted (413 above it, counted while it streams) |
| ALLOCATOR_MAX_CHILDREN | 100000 | most children.csv rows in an uploaded case (413 `case_too_large` above it) |
| ALLOCATOR_MAX_SCHOOLS | 10000 | most schools.csv rows in an uploaded case |
| ALLOCATOR_MAX_TRAVEL_ROWS | 5000000 | most travel_times.csv rows in an uploaded case |
| ALLOCATOR_RUN_TIME_LIMIT | 300 | cap on a run's solver time limit, seconds |
| ALLOCATOR_DEFAULT_TIME_LIMIT | 60 | solver time limit when a run asks for none, seconds |
| ALLOCATOR_WORKERS | 2 | runs executed at once |
| ALLOCATOR_UPLOAD_WORKERS | 1 | uploads checked at once (worker processes) |
| ALLOCATOR_EXECUTOR | `process` | `process` (runs and upload checks in worker processes) or `thread` |
| ALLOCATOR_MAX_QUEUED_RUNS | 20 | runs waiting for a worker beyond those running; more get 429 `queue_full` |
| ALLOCATOR_SESSION_IDLE_MINUTES | 30 | a web session unused this long ends (sign in again) |
| ALLOCATOR_SESSION_MAX_HOURS | 10 | a web session ends this long after sign-in, however used |
| ALLOCATOR_TILE_URL | none | map tiles (`https://.../{z}/{x}/{y}.png`); none: a plain background, works offline |
| ALLOCATOR_TILE_ATTRIBUTION | none | the attribution the tile server's terms ask for, shown on the map |
"""

import logging
import stat
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

FOLDER_MODE = 0o700
"""The data folder: its owner only may list, read or enter it."""

log = logging.getLogger("allocator.api")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALLOCATOR_", extra="forbid")

    data_dir: Path = Path("allocator-data")
    database_url: str | None = None
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_children: int = Field(default=100_000, gt=0)
    max_schools: int = Field(default=10_000, gt=0)
    max_travel_rows: int = Field(default=5_000_000, gt=0)
    run_time_limit: float = Field(default=300.0, gt=0)
    default_time_limit: float = Field(default=60.0, gt=0)
    workers: int = Field(default=2, ge=1)
    upload_workers: int = Field(default=1, ge=1)
    executor: Literal["process", "thread"] = "process"
    # The run queue (api/services/run_queue.py): runs held at once = workers + max_queued_runs.
    max_queued_runs: int = Field(default=20, ge=0)
    # Web sessions (api/web/session.py).
    session_idle_minutes: float = Field(default=30.0, gt=0)
    session_max_hours: float = Field(default=10.0, gt=0)
    # The pages' maps (api/web/map.py): a tile layer only when a URL is configured.
    tile_url: str | None = Field(default=None, min_length=1)
    tile_attribution: str = ""

    def resolved_database_url(self) -> str:
        """The configured URL, else an SQLite file under data_dir (the folder is made 0700)."""
        if self.database_url:
            return self.database_url
        private_folder(self.data_dir)
        return f"sqlite:///{(self.data_dir / 'allocator.sqlite3').absolute()}"


def private_folder(folder: Path) -> None:
    """Create `folder` 0700 whatever the umask (missing parents as the umask says); an existing
    folder with another mode is set to 0700 (it is the service's own), with a warning when that
    is refused."""
    folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode == FOLDER_MODE:
        return
    try:
        folder.chmod(FOLDER_MODE)
    except OSError as error:
        log.warning("cannot make the data folder owner-only (mode %o): %s", mode, error.strerror)
