"""Writing run outputs: all files or none, and no cell a spreadsheet would run.

Files are written into a temporary folder beside OUT_DIR and moved into place only when
every one of them is complete, so a failed run never leaves a half-written output.

Every CSV the product writes goes through `csv_text` (or `csv_columns_text`), and every cell
of it (and of the workbook template) through `safe_cells`: the one place the formula-injection
rule lives.
"""

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
    return safe_cells((value,))[0]


def safe_cells(values: Iterable[object]) -> list[object]:
    """`safe_cell` of each value, in one pass (the rule's one statement: a run's columns hold
    millions of cells)."""
    return [("'" + v) if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in values]


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file: the header, then the rows (each as long as the header), each line ending in
    a bare newline, with every cell through `safe_cell`. Every CSV the product writes is built
    here or in `csv_columns_text`."""
    table = list(rows)
    if any(len(row) != len(columns) for row in table):
        raise ValueError(f"a row whose length is not the header's {len(columns)}")
    cells = [list(column) for column in zip(*table, strict=True)] if table else [[] for _ in columns]
    return csv_columns_text(columns, cells)


def csv_columns_text(columns: Sequence[str], cells: Sequence[Sequence[object]]) -> str:
    """`csv_text` of the rows whose cells are `cells[0][i], cells[1][i], ...` (one sequence per
    column, each as long as the others), each column made safe and written in one pass."""
    if len(cells) != len(columns):
        raise ValueError(f"{len(cells)} columns of cells for {len(columns)} column names")
    texts = [_csv_cells(safe_cells(column), alone=len(columns) == 1) for column in cells]
    header = ",".join(_csv_cells(safe_cells(columns), alone=len(columns) == 1))
    lines = [header, *map(",".join, zip(*texts, strict=True))] if texts else [header]
    return "\n".join(lines) + "\n"


def _csv_cells(cells: Iterable[object], alone: bool) -> list[str]:
    """Each cell as Python's csv.writer writes it with its defaults (QUOTE_MINIMAL, double
    quotes doubled) and CR LF as its line end: in double quotes when it holds a comma, a double
    quote, a carriage return or a newline (so a spreadsheet never starts a new row, or a new first
    cell, inside it); None as an empty cell; other values as `str`; and an empty cell alone on its
    row as `""` (else the row would read as a blank line). tests/test_formula_injection.py checks
    this against csv.writer itself on hostile text."""
    texts = [cell if isinstance(cell, str) else "" if cell is None else str(cell) for cell in cells]
    quoted = [
        '"' + text.replace('"', '""') + '"' if "," in text or '"' in text or "\n" in text or "\r" in text else text
        for text in texts
    ]
    return ['""' if text == "" else text for text in quoted] if alone else quoted


def allocation_csv(allocation: Allocation) -> str:
    placements = allocation.placements
    return csv_columns_text(
        ALLOCATION_COLUMNS,
        (
            [p.child_id for p in placements],
            [p.school_id or "" for p in placements],
            ["" if p.travel_minutes is None else p.travel_minutes for p in placements],
            ["" if p.preference_rank is None else p.preference_rank for p in placements],
            [p.reason_text for p in placements],
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
    return csv_columns_text(
        EXPLANATION_COLUMNS,
        (
            [row.child_id for row in rows],
            [row.outcome for row in rows],  # a StrEnum: written as its value
            [row.school_id or "" for row in rows],
            [row.first_choice_school_id or "" for row in rows],
            ["" if row.forced is None else ("yes" if row.forced else "no") for row in rows],
            [row.add_place_school_id or "" for row in rows],
            ["" if row.extra_minutes is None else row.extra_minutes for row in rows],
            ["" if row.priority_needed is None else row.priority_needed for row in rows],
            [row.explanation for row in rows],
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
