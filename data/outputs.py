"""Writing run outputs: all files or none.

Files are written into a temporary folder beside OUT_DIR and moved into place only when
every one of them is complete, so a failed run never leaves a half-written output.
"""

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from models.results import Allocation

ALLOCATION_COLUMNS = ("child_id", "school_id", "travel_minutes", "preference_rank", "reason")


class OutputError(Exception):
    """OUT_DIR cannot be written; the message is one line for a person."""


def allocation_csv(allocation: Allocation) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ALLOCATION_COLUMNS)
    for p in allocation.placements:
        writer.writerow(
            [
                p.child_id,
                p.school_id or "",
                "" if p.travel_minutes is None else p.travel_minutes,
                "" if p.preference_rank is None else p.preference_rank,
                p.reason_text,
            ]
        )
    return buffer.getvalue()


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def allocation_files(allocation: Allocation) -> dict[str, str]:
    return {
        "allocation.csv": allocation_csv(allocation),
        "summary.json": json_text(allocation.summary.model_dump(mode="json")),
    }


def write_outputs(out_dir: Path, files: Mapping[str, str | bytes]) -> None:
    """Write every file to OUT_DIR, or nothing; raise OutputError with one line."""
    out_dir = out_dir.absolute()
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"cannot write to {out_dir}: it is a file, not a folder")
    for parent in out_dir.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write to {out_dir}: {parent} is a file, not a folder")
            break
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    except OSError as error:
        raise OutputError(f"cannot write to {out_dir}: {error.strerror or error}") from None
    try:
        for name, content in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="")
        if not out_dir.exists():
            staging.chmod(0o755)  # mkdtemp makes it private; outputs are ordinary files
            os.replace(staging, out_dir)
            return
        for name in files:
            (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, out_dir / name)
    except OSError as error:
        raise OutputError(f"cannot write to {out_dir}: {error.strerror or error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
