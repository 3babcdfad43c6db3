"""Writing run outputs: all files or none, and no cell a spreadsheet would run.

Files are written into a temporary folder beside OUT_DIR and moved into place only when
every one of them is complete, so a failed run never leaves a half-written output.

Every CSV the product writes goes through `csv_text`, and every cell of it (and of the
workbook template) through `safe_cell`: the one place the formula-injection rule lives.
"""

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from models.results import Allocation, ChildExplanation

ALLOCATION_COLUMNS = ("child_id", "school_id", "travel_minutes", "preference_rank", "reason")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is run by a spreadsheet (OWASP "CSV injection")."""


class OutputError(Exception):
    """OUT_DIR cannot be written; the message is one line for a person."""


def safe_cell(value: object) -> object:
    """`value` as a spreadsheet cell that runs nothing: text starting with `=`, `+`, `-`, `@`, tab
    or carriage return gets a leading apostrophe (the OWASP rule), so Excel and LibreOffice show
    it as text. Numbers (a negative saving such as -88 is a number, not text) and other text are
    returned as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file: the header, then the rows, each line ending in a bare newline, with every cell
    through `safe_cell`. Every CSV the product writes is built here.

    The writer is given CR LF as its line end, so that it also quotes a cell holding a carriage
    return (with a bare newline it would not, and a spreadsheet would start a new row, and a new
    first cell, inside it); each line is then written with a bare newline."""
    lines = _Lines()
    writer = csv.writer(lines, lineterminator=_CRLF)
    writer.writerow([safe_cell(c) for c in columns])
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return "".join(lines.parts)


_CRLF = "\r\n"


class _Lines:
    """The file a csv.writer writes to: the writer writes each row in one call, ending in CR LF."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, line: str) -> int:
        if not line.endswith(_CRLF):
            raise ValueError("a csv.writer wrote part of a row")  # never: one call per row
        self.parts.append(line[: -len(_CRLF)] + "\n")
        return len(line)


def allocation_csv(allocation: Allocation) -> str:
    return csv_text(
        ALLOCATION_COLUMNS,
        (
            (
                p.child_id,
                p.school_id or "",
                "" if p.travel_minutes is None else p.travel_minutes,
                "" if p.preference_rank is None else p.preference_rank,
                p.reason_text,
            )
            for p in allocation.placements
        ),
    )


EXPLANATION_COLUMNS = (
    "child_id",
    "outcome",
    "school_id",
    "first_choice_school_id",
    "forced",
    "add_place_school_id",
    "extra_minutes",
    "priority_needed",
    "explanation",
)


def explanations_csv(rows: Sequence[ChildExplanation]) -> str:
    """explanations.csv (README, issue 9): empty cells for what does not apply."""
    return csv_text(
        EXPLANATION_COLUMNS,
        (
            (
                row.child_id,
                row.outcome.value,
                row.school_id or "",
                row.first_choice_school_id or "",
                "" if row.forced is None else ("yes" if row.forced else "no"),
                row.add_place_school_id or "",
                "" if row.extra_minutes is None else row.extra_minutes,
                "" if row.priority_needed is None else row.priority_needed,
                row.explanation,
            )
            for row in rows
        ),
    )


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def allocation_files(allocation: Allocation) -> dict[str, str]:
    files = {
        "allocation.csv": allocation_csv(allocation),
        "summary.json": json_text(allocation.summary.model_dump(mode="json")),
    }
    if allocation.explanations:
        files["explanations.csv"] = explanations_csv(allocation.explanations)
    return files


def alternative_files(alternatives: Sequence[Allocation]) -> dict[str, str]:
    """`alternatives/allocation_2.csv`, ... in allocation.csv's format (issue 9, item 5)."""
    return {
        f"alternatives/allocation_{number}.csv": allocation_csv(allocation)
        for number, allocation in enumerate(alternatives, start=2)
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
