"""expansions.csv (an optional case file, an addition to the contract): where new places may go.

Columns: `school_id, need, max_extra` — at most `max_extra` new places for that need may be
added at that school by `allocator plan-places`. A case workbook holds them in its
`expansions` sheet. Every problem is reported as `expansions.csv:line: column: message`
(`expansions:row: column: message` for the sheet); nothing is returned unless all are valid.
"""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from data.case_tables import EXPANSION_COLUMNS, EXPANSIONS_FILE, EXPANSIONS_SHEET
from data.loader import decode_text
from data.rows import require_columns, typed_rows
from data.tables import RawTable, parse_csv_text
from models.case import MAX_PLACES, Case, Identifier
from models.need import Need
from models.problems import CaseInvalid, Problem


class Expansion(BaseModel):
    """One school-and-need pair that may grow by up to `max_extra` places."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    school_id: Identifier
    need: Need
    max_extra: int = Field(ge=0, le=MAX_PLACES)


def load_expansions(case_path: Path, case: Case) -> tuple[Expansion, ...]:
    """Read the expansions of the case at `case_path` (a folder's expansions.csv, or a workbook's
    `expansions` sheet) against the loaded case; raise CaseInvalid on any problem.

    A missing file or sheet is a problem too: plan-places has nowhere to put new places without it.
    """
    problems: list[Problem] = []
    if case_path.is_dir():
        return parse_expansions(read_expansions_text(case_path), case)
    return _checked(_workbook_sheet(case_path, problems), case, problems)


def read_expansions_text(case_dir: Path) -> str:
    """The text of CASE_DIR/expansions.csv; CaseInvalid when it is missing, unreadable or not UTF-8."""
    path = case_dir / EXPANSIONS_FILE
    if not path.is_file():
        raise CaseInvalid([Problem(EXPANSIONS_FILE, 0, "-", "required file is missing (plan-places needs it)")])
    problems: list[Problem] = []
    try:
        text = decode_text(EXPANSIONS_FILE, path.read_bytes(), problems)
    except OSError as error:
        raise CaseInvalid([Problem(EXPANSIONS_FILE, 0, "-", f"cannot be read ({error.strerror})")]) from None
    if text is None:
        raise CaseInvalid(problems)
    return text


def parse_expansions(text: str, case: Case) -> tuple[Expansion, ...]:
    """Check expansions.csv text against the loaded case; raise CaseInvalid on any problem."""
    problems: list[Problem] = []
    # As when read from a file (UTF-8 with an optional byte-order mark).
    table = parse_csv_text(EXPANSIONS_FILE, text.removeprefix("\ufeff"), problems)
    return _checked(table, case, problems)


def _checked(table: RawTable | None, case: Case, problems: list[Problem]) -> tuple[Expansion, ...]:
    """Type the rows and check them against the case (one check for the file and the sheet)."""
    expansions: list[Expansion] = []
    if table is not None and require_columns(table, EXPANSION_COLUMNS, problems):
        known = {school.school_id for school in case.schools}
        first_line: dict[tuple[str, Need], int] = {}
        for line, expansion in typed_rows(table, Expansion, EXPANSION_COLUMNS, EXPANSION_COLUMNS, problems):
            if expansion.school_id not in known:
                problems.append(Problem(table.name, line, "school_id", f"unknown school '{expansion.school_id}'"))
                continue
            key = (expansion.school_id, expansion.need)
            if key in first_line:
                problems.append(
                    Problem(
                        table.name,
                        line,
                        "need",
                        f"{expansion.need.value} at '{expansion.school_id}' is already listed "
                        f"on line {first_line[key]}",
                    )
                )
                continue
            first_line[key] = line
            expansions.append(expansion)
        if not table.rows:
            problems.append(Problem(table.name, 0, "-", "file has no rows"))
    if problems:
        raise CaseInvalid(problems)
    return tuple(expansions)


def _workbook_sheet(case_path: Path, problems: list[Problem]) -> RawTable | None:
    # Imported here: only workbooks need openpyxl.
    from data.workbook import read_workbook_sheets

    sheets = read_workbook_sheets(case_path, problems, (EXPANSIONS_SHEET,))
    if sheets is None:
        raise CaseInvalid(problems)
    if EXPANSIONS_SHEET not in sheets and not problems:  # an empty sheet is already a problem
        message = f"required sheet is missing from {case_path.name} (plan-places needs it)"
        raise CaseInvalid([Problem(EXPANSIONS_SHEET, 0, "-", message)])
    return sheets.get(EXPANSIONS_SHEET)
