"""A case as uploaded files: field names, loading through the CLI's loader, applying locks.

Uploaded files are loaded from their bytes by `data.loader.load_case_files`, the path the
CLI's folder loader reads its files through, so problems read the same.
"""

import csv
import io

from data.loader import CASE_FILES, CHILDREN_FILE, SCHOOLS_FILE, LoadedCase, load_case_files

FIELD_FILES: dict[str, str] = {name.rsplit(".", 1)[0]: name for name in CASE_FILES}
"""Upload field -> contract file: schools -> schools.csv, ..., policy -> policy.toml."""

LOCK_COLUMN = "locked_school_id"


def load_files(files: dict[str, bytes], locks: dict[str, str] | None = None) -> LoadedCase:
    """Load contract files (keyed by file name) as a case; raises CaseInvalid."""
    if locks:
        files = {**files, CHILDREN_FILE: with_locks(files[CHILDREN_FILE], locks)}
    return load_case_files(files)


def with_locks(children_csv: bytes, locks: dict[str, str]) -> bytes:
    """children.csv with `locked_school_id` set from `locks` (child_id -> school_id).

    A child with no entry keeps whatever lock the upload gave it.
    """
    rows = list(csv.reader(io.StringIO(children_csv.decode("utf-8-sig"), newline="")))
    header_at = next(index for index, row in enumerate(rows) if any(cell.strip() for cell in row))
    header = [cell.strip() for cell in rows[header_at]]
    if LOCK_COLUMN not in header:
        header.append(LOCK_COLUMN)
        rows = [
            row + [""] if index > header_at and any(c.strip() for c in row) else row for index, row in enumerate(rows)
        ]
    rows[header_at] = header
    id_column, lock_column = header.index("child_id"), header.index(LOCK_COLUMN)
    for row in rows[header_at + 1 :]:
        if len(row) == len(header) and row[id_column].strip() in locks:
            row[lock_column] = locks[row[id_column].strip()]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def children_rows(files: dict[str, bytes]) -> dict[str, dict[str, str]]:
    """child_id -> the child's row (text cells), from an already validated children.csv."""
    return _rows_by_id(files[CHILDREN_FILE], "child_id")


def school_rows(files: dict[str, bytes]) -> dict[str, dict[str, str]]:
    """school_id -> the school's row (text cells), from an already validated schools.csv."""
    return _rows_by_id(files[SCHOOLS_FILE], "school_id")


def _rows_by_id(content: bytes, id_column: str) -> dict[str, dict[str, str]]:
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    rows: dict[str, dict[str, str]] = {}
    for row in reader:
        clean = {(key or "").strip(): (value or "").strip() for key, value in row.items()}
        if clean.get(id_column):
            rows[clean[id_column]] = clean
    return rows
