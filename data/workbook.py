"""Excel workbooks: a case as one .xlsx file with a sheet per contract file, and its template.

Sheets `schools`, `places`, `children` (required), `preferences`, `travel_times` and `policy`
(optional) hold the same columns as the CSV files of CONTRACT.md, header in the first
non-empty row. The `policy` sheet has two columns, `key` and `value`, one row per setting,
with dotted keys for the TOML tables (e.g. `max_travel_minutes.primary`). The `expansions`
sheet (columns of expansions.csv) is read only by `allocator plan-places`
(`data.expansions`). Any other sheet (such as `notes`) is ignored.

Problems are located as `sheet:row: column: message` (the sheet's own row number). Cells are
turned into text as the CSV loader expects: whole numbers without a decimal point
(1.0 -> "1"), other numbers in their shortest exact form, dates as ISO dates.
"""

import contextlib
import datetime
import hashlib
import io
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError

from data.case_tables import (
    CHILD_COLUMNS,
    EXPANSION_COLUMNS,
    EXPANSIONS_SHEET,
    PLACE_COLUMNS,
    PREFERENCE_COLUMNS,
    SCHOOL_COLUMNS,
    CaseTables,
    LoadedCase,
    build_case,
)
from data.case_tables import WORKBOOK_SUFFIX as WORKBOOK_SUFFIX  # re-exported for the CLI
from data.outputs import OutputError, safe_cell
from data.rows import Ids, friendly_message, require_columns, shown_message
from data.tables import RawTable, check_header_cells, check_row_cells, column_label, repeated_column_message
from data.travel import TravelTable, travel_table_from_frame
from models.case import Policy, shown
from models.problems import CaseInvalid, Problem

REQUIRED_SHEETS = ("schools", "places", "children")
OPTIONAL_SHEETS = ("preferences", "travel_times", "policy")
CASE_SHEETS = REQUIRED_SHEETS + OPTIONAL_SHEETS
TRAVEL_COLUMNS = ("child_id", "school_id", "minutes")
POLICY_COLUMNS = ("key", "value")


def load_workbook_case(path: Path) -> LoadedCase:
    """Read and check a case workbook; raise CaseInvalid listing every problem."""
    problems: list[Problem] = []
    sheets = read_workbook_sheets(path, problems)
    if sheets is None:
        raise CaseInvalid(problems)
    for name in REQUIRED_SHEETS:
        if name not in sheets:
            problems.append(Problem(name, 0, "-", f"required sheet is missing from {path.name}"))
    travel = sheets.get("travel_times")

    def read_travel(
        child_ids: list[str], school_ids: list[str], found: list[Problem], children: Ids, schools: Ids
    ) -> TravelTable:
        if travel is None:
            return TravelTable.empty(len(school_ids))
        return _travel_table(travel, child_ids, school_ids, found, children, schools)

    tables = CaseTables(
        schools=sheets.get("schools"),
        places=sheets.get("places"),
        children=sheets.get("children"),
        preferences=sheets.get("preferences"),
        policy=_policy(sheets.get("policy"), problems),
        read_travel=read_travel,
        input_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )
    return build_case(tables, problems)


def read_workbook_sheets(
    path: Path, problems: list[Problem], wanted: tuple[str, ...] = CASE_SHEETS
) -> dict[str, RawTable] | None:
    """The `wanted` sheets of a workbook that it has, as RawTables keyed by contract name (sheet
    names match ignoring case and surrounding spaces). None, with a problem, when it is not a
    workbook."""
    if not path.is_file():
        why = "is a folder, not a workbook" if path.is_dir() else "does not exist"
        problems.append(Problem(str(path), 0, "-", why))
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            return _read_sheets(path, problems, wanted)
    except _Unreadable as error:
        cause = error.__cause__ or error
        message = f"cannot be read as an Excel workbook (.xlsx): {shown_message(str(cause) or type(cause).__name__)}"
        problems.append(Problem(path.name, 0, "-", message))
        return None


class _Unreadable(Exception):
    """openpyxl could not read the file: a damaged zip or XML, or what it does not support."""


def _read_sheets(path: Path, problems: list[Problem], wanted: tuple[str, ...]) -> dict[str, RawTable]:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any failure of openpyxl on a file is the file's
        raise _Unreadable() from error
    try:
        tables: dict[str, RawTable] = {}
        for sheet in book.worksheets:
            key = sheet.title.strip().lower()
            if key in wanted and key not in tables:
                table = _read_sheet(sheet, problems)
                if table is not None:
                    tables[key] = table
        return tables
    finally:
        with contextlib.suppress(Exception):
            book.close()


def _sheet_rows(sheet: Any) -> Iterator[tuple[object, ...]]:
    """The sheet's rows of values; openpyxl reads a read-only sheet as it goes, so a damaged
    part of the file (a corrupt stream, bad XML) shows only here."""
    try:
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # some writers record a wrong used range; read every row
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            yield tuple(values)
    except Exception as error:  # noqa: BLE001 - any failure of openpyxl on a file is the file's
        raise _Unreadable() from error


def cell_text(value: object) -> str:
    """A cell as the text the CSV loader would see."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()


def _read_sheet(sheet: Any, problems: list[Problem]) -> RawTable | None:
    name = sheet.title
    table: RawTable | None = None
    for row_number, values in enumerate(_sheet_rows(sheet), start=1):
        cells = [cell_text(value) for value in values]
        if not any(cells):
            continue
        texts = [value if isinstance(value, str) else "" for value in values]  # before cell_text strips them
        if table is None:
            while cells and not cells[-1]:
                cells.pop()
            check_header_cells(name, row_number, texts, problems)
            table = RawTable(name, cells, header_line=row_number)
            _check_header(name, row_number, cells, problems)
            continue
        width = len(table.header)
        beyond = [index for index, cell in enumerate(cells) if cell and index >= width]
        if beyond:
            problems.append(
                Problem(
                    name,
                    row_number,
                    "-",
                    f"row has a value in column {_column_letter(beyond[0])}, beyond the header's {width} columns",
                )
            )
            continue
        check_row_cells(table, row_number, texts[:width], problems)
        table.rows.append(cells[:width] + [""] * (width - len(cells)))
        table.lines.append(row_number)
    if table is None:
        problems.append(Problem(name, 0, "-", "sheet is empty (no header row)"))
    return table


def _check_header(name: str, row: int, header: list[str], problems: list[Problem]) -> None:
    seen: set[str] = set()
    for index, column in enumerate(header):
        if not column:
            problems.append(Problem(name, row, "-", f"header cell {_column_letter(index)} is empty"))
        elif column in seen:
            problems.append(Problem(name, row, column_label(column), repeated_column_message(column)))
        seen.add(column)


def _column_letter(index: int) -> str:
    return openpyxl.utils.get_column_letter(index + 1)


def _travel_table(
    table: RawTable, child_ids: list[str], school_ids: list[str], problems: list[Problem], children: Ids, schools: Ids
) -> TravelTable:
    """Check the travel sheet with the CSV loader's vectorised checks, then give sheet rows."""
    if not require_columns(table, TRAVEL_COLUMNS, problems):
        return TravelTable.empty(len(school_ids))
    index = table.column_index()
    kept = [(line, row) for line, row in zip(table.lines, table.rows, strict=True) if line not in table.refused]
    frame = pd.DataFrame(
        {column: pd.Series([row[index[column]] for _, row in kept], dtype="string") for column in TRAVEL_COLUMNS}
    )
    lines = np.array([line for line, _ in kept], dtype=np.int64)
    return travel_table_from_frame(frame, table.name, child_ids, school_ids, problems, lines, children, schools)


def _policy(table: RawTable | None, problems: list[Problem]) -> Policy:
    """The policy sheet: `key` and `value` columns, dotted keys for TOML tables."""
    if table is None or not require_columns(table, POLICY_COLUMNS, problems):
        return Policy()
    index = table.column_index()
    settings: dict[str, Any] = {}
    row_of: dict[str, int] = {}
    for line, row in zip(table.lines, table.rows, strict=True):
        if line in table.refused:
            continue  # a refused character: already a problem
        key, value = row[index["key"]], row[index["value"]]
        if not key:
            problems.append(Problem(table.name, line, "key", "required value is empty"))
            continue
        if key in row_of:
            problems.append(_key_problem(table.name, line, key, f"setting already given on row {row_of[key]}"))
            continue
        row_of[key] = line
        if value == "":
            continue  # not given: the default applies
        parts = key.split(".")
        target = settings
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                problems.append(_key_problem(table.name, line, key, f"'{part}' is a setting, not a group of settings"))
                break
            target = nested
        else:
            target[parts[-1]] = value
    try:
        return Policy.model_validate(settings)
    except ValidationError as error:
        for detail in error.errors():
            key = ".".join(str(part) for part in detail["loc"]) or "-"
            line = row_of.get(key) or next((r for k, r in row_of.items() if k.startswith(key + ".")), 0)
            problems.append(_key_problem(table.name, line, key, friendly_message(detail)))
        return Policy()


def _key_problem(sheet: str, line: int, key: str, message: str) -> Problem:
    """A problem located at a policy key; a key that cannot be a column label is named in the message."""
    label = column_label(key)
    return Problem(sheet, line, label, message if label != "-" else f"{message} (key '{shown(key)}')")


# --- the template ------------------------------------------------------------------------

SHEET_COLUMNS: dict[str, tuple[str, ...]] = {
    "schools": SCHOOL_COLUMNS,
    "places": PLACE_COLUMNS,
    "children": CHILD_COLUMNS,
    "preferences": PREFERENCE_COLUMNS,
    "travel_times": TRAVEL_COLUMNS,
    "policy": POLICY_COLUMNS,
    EXPANSIONS_SHEET: EXPANSION_COLUMNS,
}

NOTES: tuple[tuple[str, str, str, str], ...] = (
    # sheet, column, required?, meaning (from CONTRACT.md)
    ("schools", "school_id", "required", "Stable id, unique (URN where there is one)."),
    ("schools", "name", "required", "Display name."),
    ("schools", "lat", "required", "Latitude, decimal degrees (WGS 84)."),
    ("schools", "lon", "required", "Longitude, decimal degrees (WGS 84); negative west of Greenwich."),
    ("schools", "age_min", "required", "Youngest age taken, whole years (inclusive)."),
    ("schools", "age_max", "required", "Oldest age taken, whole years (inclusive)."),
    (
        "schools",
        "kind",
        "optional",
        "special (default), resource_base, independent or candidate. A candidate is "
        "a proposed new-school site: it takes no child unless the run opens it.",
    ),
    ("schools", "annual_place_cost_gbp", "optional", "Cost of one place for a year, pounds."),
    ("schools", "district", "optional", "District the school is in (reporting only)."),
    ("places", "school_id", "required", "A school_id from the schools sheet."),
    (
        "places",
        "need",
        "required",
        "SEN2 primary-need code: ASD, SEMH, SLCN, MLD, SLD, PMLD, SPLD, HI, VI, MSI, PD or OTH.",
    ),
    ("places", "places", "required", "Places free in this round for that need, whole number 0 or more."),
    ("children", "child_id", "required", "Pseudonymous id, unique. Never a name."),
    ("children", "need", "required", "SEN2 primary-need code from the EHCP."),
    ("children", "age", "required", "Age in whole years at the start of the academic year the place is for."),
    ("children", "lat", "required", "Home latitude, decimal degrees (a postcode centroid is enough)."),
    ("children", "lon", "required", "Home longitude, decimal degrees."),
    (
        "children",
        "priority",
        "optional",
        "Urgency tier, whole number 0 or more (default 0); higher is more urgent, "
        "e.g. 2 = out of education, 1 = statutory deadline passed.",
    ),
    ("children", "district", "optional", "Home district, used for fairness reporting."),
    (
        "children",
        "locked_school_id",
        "optional",
        "A placement the panel has already decided; it is kept and uses a place.",
    ),
    ("children", "ward", "optional", "Home ward name; the report groups children by ward on its map."),
    ("preferences", "child_id", "required", "A child_id from the children sheet. The whole sheet is optional."),
    ("preferences", "school_id", "required", "A school the family asked for."),
    ("preferences", "rank", "required", "1 = first choice, 2 = second, ..."),
    ("travel_times", "child_id", "required", "Optional sheet: door-to-door minutes from a routing engine."),
    ("travel_times", "school_id", "required", "A school_id from the schools sheet."),
    ("travel_times", "minutes", "required", "Whole minutes one way. Pairs not listed are estimated from coordinates."),
    (
        "policy",
        "key",
        "required",
        "Setting name; a dotted key is a setting in a group: open_sites, unranked_cost, "
        "max_travel_minutes.primary, max_travel_minutes.secondary, travel_estimate.speed_kmh, "
        "travel_estimate.circuity, transport_cost_gbp.",
    ),
    ("policy", "value", "optional", "The setting's value; an empty value takes the default shown in the template."),
    (
        "expansions",
        "school_id",
        "required",
        "Optional sheet, read only by allocator plan-places: where new places may go. A school_id "
        "from the schools sheet (a candidate site's places count only when it is opened).",
    ),
    ("expansions", "need", "required", "SEN2 primary-need code the new places are for."),
    (
        "expansions",
        "max_extra",
        "required",
        "At most this many new places for that need at that school, whole number 0 or more. "
        "A school and need may be listed once.",
    ),
)

POLICY_DEFAULT_ROWS: tuple[tuple[str, float, str], ...] = (
    ("open_sites", Policy().open_sites, "at most this many candidate sites are opened"),
    ("unranked_cost", Policy().unranked_cost, "preference cost of a school the family did not rank"),
    ("max_travel_minutes.primary", Policy().max_travel_minutes.primary, "limit for ages up to 10"),
    ("max_travel_minutes.secondary", Policy().max_travel_minutes.secondary, "limit for ages 11 and over"),
    ("travel_estimate.speed_kmh", Policy().travel_estimate.speed_kmh, "used where travel_times has no figure"),
    ("travel_estimate.circuity", Policy().travel_estimate.circuity, "road distance / straight-line distance"),
    ("transport_cost_gbp", Policy().transport_cost_gbp, "a year's transport per placed child (cost report only)"),
)

FIXED_TIME = datetime.datetime(2025, 1, 1)


def template_bytes() -> bytes:
    """An empty case workbook: a notes sheet, then one sheet per contract file with its header."""
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "notes"
    _write_rows(notes, [("sheet", "column", "required?", "meaning"), *NOTES], widths=(14, 24, 11, 110))
    for sheet_name, columns in SHEET_COLUMNS.items():
        sheet = book.create_sheet(sheet_name)
        rows: list[tuple[object, ...]] = [tuple(columns)]
        if sheet_name == "policy":
            rows = [("key", "value", "note"), *POLICY_DEFAULT_ROWS]
        _write_rows(sheet, rows, widths=tuple(max(12, len(str(c)) + 4) for c in rows[0]))
    book.properties.creator = "send-allocator"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    return _without_timestamps(buffer.getvalue())


def _without_timestamps(workbook: bytes) -> bytes:
    """The same workbook with fixed times in its document properties and zip entries, so that
    the template is byte-identical every time it is written (openpyxl stamps the save time)."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    content,
                )
            fixed = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return output.getvalue()


def write_template(path: Path) -> None:
    """Write the template to `path` whole or not at all; OutputError (one line) when it cannot."""
    path = path.absolute()
    if path.is_dir():
        raise OutputError(f"cannot write to {path}: it is a folder")
    try:
        handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise OutputError(f"cannot write to {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(template_bytes())
        os.chmod(staging, 0o644)
        os.replace(staging, path)
    except OSError as error:
        raise OutputError(f"cannot write to {path}: {error.strerror or error}") from None
    finally:
        if os.path.exists(staging):
            os.unlink(staging)


def _write_rows(sheet: Worksheet, rows: Iterable[tuple[object, ...]], widths: tuple[int, ...]) -> None:
    for row in rows:
        sheet.append([safe_cell(cell) for cell in row])  # text is never stored as a formula
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths):
        sheet.column_dimensions[_column_letter(index)].width = width
    if sheet.title == "notes":
        for row in sheet.iter_rows(min_row=2):
            row[3].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
