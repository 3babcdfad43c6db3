"""Case upload: check the files with the CLI's loader, then store them; nothing is stored
from a rejected upload."""

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from api.errors import ApiError, case_invalid, not_found
from api.services.case_files import FIELD_FILES, load_files
from api.storage import audit
from api.storage.cases import add_case, case_files, get_case
from api.storage.database import Database
from api.storage.tables import CaseRecord
from data.loader import CHILDREN_FILE, SCHOOLS_FILE
from data.travel import TRAVEL_FILE
from models.problems import CaseInvalid, Problem


@dataclass(frozen=True)
class RowLimits:
    """The most rows (lines after the header) a case may have in each file, and the setting
    that says so."""

    children: int
    schools: int
    travel_rows: int

    def limits(self) -> list[tuple[str, int, str]]:
        return [
            (SCHOOLS_FILE, self.schools, "ALLOCATOR_MAX_SCHOOLS"),
            (CHILDREN_FILE, self.children, "ALLOCATOR_MAX_CHILDREN"),
            (TRAVEL_FILE, self.travel_rows, "ALLOCATOR_MAX_TRAVEL_ROWS"),
        ]


def too_many_rows(files: dict[str, bytes], limits: RowLimits) -> list[Problem]:
    """A problem, located at the first line past the limit, for each file with more lines after
    its header than the service takes. Counted in the bytes, before the case is parsed."""
    problems = []
    for name, most, setting in limits.limits():
        content = files.get(name, b"")
        lines = content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
        if lines - 1 > most:
            message = f"more than {most} rows; the service takes at most {most} ({setting})"
            problems.append(Problem(name, most + 2, "-", message))
    return problems


def create_case(database: Database, fields: dict[str, bytes], actor: str, limits: RowLimits) -> CaseRecord:
    """`fields` maps upload field names (`schools`, ...) to file contents. Nothing is stored from
    a case with unknown fields (422 `unknown_file`), too many rows (413 `case_too_large`) or
    problems (422 `case_invalid`)."""
    unknown = sorted(set(fields) - set(FIELD_FILES))
    if unknown:
        expected = ", ".join(FIELD_FILES)
        problems = [f"{name}: not a case file; expected one of {expected}" for name in unknown]
        raise ApiError(422, "unknown_file", "the upload names files that are not part of a case", problems)
    files = {FIELD_FILES[name]: content for name, content in fields.items()}
    oversized = too_many_rows(files, limits)
    if oversized:
        lines = CaseInvalid(oversized).lines()
        raise ApiError(413, "case_too_large", f"{len(lines)} file(s) have more rows than the service takes", lines)
    try:
        loaded = load_files(files)
    except CaseInvalid as error:
        raise case_invalid(error) from None
    with database.session() as session:
        case = add_case(session, files, loaded.input_sha256, len(loaded.case.schools), len(loaded.case.children), actor)
        details = {
            "input_sha256": loaded.input_sha256,
            "files": {
                name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in files.items()
            },
            "schools": case.schools,
            "children": case.children,
        }
        audit.record(session, case.case_id, actor, "case_uploaded", details)
    return case


def read_case(database: Database, case_id: str) -> tuple[CaseRecord, list[str]]:
    """The case and the names of its files."""
    with database.session() as session:
        case = get_case(session, case_id)
        if case is None:
            raise not_found("case", case_id)
        return case, sorted(case_files(session, case_id))


def case_records(database: Database, case_id: str, table: Literal["schools", "children"]) -> list[dict[str, Any]]:
    """The case's schools or children as typed by the loader (JSON-ready)."""
    with database.session() as session:
        if get_case(session, case_id) is None:
            raise not_found("case", case_id)
        files = case_files(session, case_id)
    try:
        loaded = load_files(files)
    except CaseInvalid:  # it loaded when uploaded; only a changed loader could refuse it now
        raise ApiError(409, "case_unreadable", f"case '{case_id}' no longer loads") from None
    records = loaded.case.schools if table == "schools" else loaded.case.children
    return [record.model_dump(mode="json") for record in records]
