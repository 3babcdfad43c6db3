"""Load a case (CONTRACT.md) into validated models, collecting every problem first.

`load_case` is the one entry point for every command: a case is a folder of CSV files or one
.xlsx workbook (`data.workbook`). Nothing is returned unless the whole case is valid: it raises
`CaseInvalid` with every problem found in every file, each as `file:line: column: message`
(`sheet:row: column: message` for a workbook).
"""

import hashlib
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
from data.policy import POLICY_FILE, load_policy
from data.rows import Ids
from data.tables import RawTable, read_csv_table
from data.travel import TRAVEL_FILE, TravelTable, read_travel_times
from models.problems import CaseInvalid, Problem

__all__ = ["CASE_FILES", "CHILDREN_FILE", "SCHOOLS_FILE", "LoadedCase", "load_case"]

def load_case(path: Path) -> LoadedCase:
    """Read and check a case folder, or a case workbook when `path` is an .xlsx file; raise
    CaseInvalid listing every problem."""
    problem = case_path_problem(path)
    if problem is not None:
        raise CaseInvalid([problem])
    if not path.is_dir():
        # Imported here: data.workbook builds on this module, and only workbooks need openpyxl.
        from data.workbook import load_workbook_case

        return load_workbook_case(path)
    problems: list[Problem] = []
    tables = read_case_folder(path, problems)
    return build_case(tables, problems)


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


def read_case_folder(case_dir: Path, problems: list[Problem]) -> CaseTables:
    def read(name: str, required: bool) -> RawTable | None:
        path = case_dir / name
        if not path.exists():
            if required:
                problems.append(Problem(name, 0, "-", "required file is missing"))
            return None
        return read_csv_table(path, problems)

    travel_path = case_dir / TRAVEL_FILE

    def read_travel(
        child_ids: list[str], school_ids: list[str], found: list[Problem], children: Ids, schools: Ids
    ) -> TravelTable:
        if not travel_path.exists():
            return TravelTable.empty(len(school_ids))
        return read_travel_times(travel_path, child_ids, school_ids, found, children, schools)

    return CaseTables(
        schools=read(SCHOOLS_FILE, True),
        places=read(PLACES_FILE, True),
        children=read(CHILDREN_FILE, True),
        preferences=read(PREFERENCES_FILE, False),
        policy=load_policy(case_dir / POLICY_FILE, problems),
        read_travel=read_travel,
        input_sha256=hash_case_files(case_dir),
    )


def hash_case_files(case_dir: Path) -> str:
    """sha256 over the contract files present, in contract order: name, NUL, bytes, NUL."""
    digest = hashlib.sha256()
    for name in CASE_FILES:
        path = case_dir / name
        if path.is_file():
            digest.update(name.encode() + b"\0")
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            digest.update(b"\0")
    return digest.hexdigest()


