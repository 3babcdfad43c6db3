"""Load a case (CONTRACT.md) into validated models, collecting every problem first.

`load_case` is the one entry point for every command: a case is a folder of CSV files or one
.xlsx workbook (`data.workbook`). Nothing is returned unless the whole case is valid: it raises
`CaseInvalid` with every problem found in every file, each as `file:line: column: message`
(`sheet:row: column: message` for a workbook).

A folder and a mapping of file name -> bytes (`load_case_files`, for uploads) are read by
one path: the folder's files are read as bytes, then both go through `case_tables`.
"""

import gc
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from data.case_tables import (
    CASE_FILES,
    CHILDREN_FILE,
    PLACES_FILE,
    PREFERENCES_FILE,
    SCHOOLS_FILE,
    WORKBOOK_SUFFIX,
    CaseTables,
    LoadedCase,
    build_case,
)
from data.policy import POLICY_FILE, parse_policy
from data.rows import Ids
from data.tables import RawTable, parse_csv_text
from data.travel import TRAVEL_FILE, TravelTable, read_travel_times
from models.case import Policy
from models.problems import CaseInvalid, Problem

__all__ = ["CASE_FILES", "CHILDREN_FILE", "SCHOOLS_FILE", "LoadedCase", "load_case", "load_case_files"]


def load_case(path: Path) -> LoadedCase:
    """Read and check a case folder, or a case workbook when `path` is an .xlsx file; raise
    CaseInvalid listing every problem."""
    problem = case_path_problem(path)
    if problem is not None:
        raise CaseInvalid([problem])
    if not path.is_dir():
        # Imported here: data.workbook builds on this module, and only workbooks need openpyxl.
        from data.workbook import load_workbook_case

        with collector_paused():
            return load_workbook_case(path)
    problems: list[Problem] = []
    with collector_paused():
        tables = read_case_folder(path, problems)
        return build_case(tables, problems)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a case is read. Reading makes hundreds of thousands
    of lists, dicts and models that all live on, which is what sets the collector off, again and
    again, each time walking everything made so far (about half of a national round's reading
    time). What reading leaves unused is freed as it goes by reference counting; anything held in
    a cycle is collected once the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def case_path_problem(path: Path) -> Problem | None:
    """Why `path` is neither a case folder nor an .xlsx file (located at the path as given);
    None when it is one of them."""
    if path.is_dir():
        return None
    if not path.exists():
        return Problem(str(path), 0, "-", "does not exist")
    if path.suffix.lower() != WORKBOOK_SUFFIX:
        return Problem(str(path), 0, "-", "is neither a case folder nor an .xlsx workbook")
    return None


def load_case_files(files: Mapping[str, bytes]) -> LoadedCase:
    """Check a case given as its files' bytes, keyed by file name (`schools.csv`, ...), exactly
    as `load_case` checks a folder holding those files; names that are not case files are ignored."""
    problems: list[Problem] = []
    with collector_paused():
        return build_case(case_tables(files, problems), problems)


def read_case_folder(case_dir: Path, problems: list[Problem]) -> CaseTables:
    files, unreadable = read_folder_files(case_dir, problems)
    return case_tables(files, problems, unreadable)


def read_folder_files(case_dir: Path, problems: list[Problem]) -> tuple[dict[str, bytes], set[str]]:
    """The bytes of each case file present in the folder, and the names of those that exist but
    cannot be read (each already a problem)."""
    files: dict[str, bytes] = {}
    unreadable: set[str] = set()
    for name in CASE_FILES:
        path = case_dir / name
        if not path.exists():
            continue
        try:
            files[name] = path.read_bytes()
        except OSError as error:
            problems.append(Problem(name, 0, "-", f"cannot be read ({error.strerror})"))
            unreadable.add(name)
    return files, unreadable


def decode_text(name: str, content: bytes, problems: list[Problem]) -> str | None:
    """A case file's text (UTF-8, optional byte-order mark), or None with a problem."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(Problem(name, 0, "-", f"not UTF-8 text ({error.reason})"))
        return None


def case_tables(files: Mapping[str, bytes], problems: list[Problem], unreadable: Iterable[str] = ()) -> CaseTables:
    """The raw tables of a case from its files' bytes (the one reading path of folders and uploads).
    `unreadable` names files that exist but could not be read: not reported again as missing."""
    present = set(files) | set(unreadable)

    def read(name: str, required: bool) -> RawTable | None:
        if name not in files:
            if required and name not in present:
                problems.append(Problem(name, 0, "-", "required file is missing"))
            return None
        text = decode_text(name, files[name], problems)
        return None if text is None else parse_csv_text(name, text, problems)

    def read_travel(
        child_ids: list[str], school_ids: list[str], found: list[Problem], children: Ids, schools: Ids
    ) -> TravelTable:
        if TRAVEL_FILE not in files:
            return TravelTable.empty(len(school_ids))
        return read_travel_times(files[TRAVEL_FILE], child_ids, school_ids, found, children, schools)

    policy_text = decode_text(POLICY_FILE, files[POLICY_FILE], problems) if POLICY_FILE in files else None
    return CaseTables(
        schools=read(SCHOOLS_FILE, True),
        places=read(PLACES_FILE, True),
        children=read(CHILDREN_FILE, True),
        preferences=read(PREFERENCES_FILE, False),
        policy=Policy() if policy_text is None else parse_policy(policy_text, problems, POLICY_FILE),
        read_travel=read_travel,
        input_sha256=hash_case_files(files),
    )


def hash_case_files(files: Mapping[str, bytes]) -> str:
    """sha256 over the contract files present, in contract order: name, NUL, bytes, NUL."""
    digest = hashlib.sha256()
    for name in CASE_FILES:
        if name in files:
            digest.update(name.encode() + b"\0")
            digest.update(files[name])
            digest.update(b"\0")
    return digest.hexdigest()
