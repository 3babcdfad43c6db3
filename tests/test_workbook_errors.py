"""Bad workbooks: every problem located as `sheet:row: column: message`, exit 2, nothing written."""

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from data.workbook import load_workbook_case, template_bytes
from models.problems import CaseInvalid
from tests.test_workbook_roundtrip import SAMPLE, cli, fill_workbook


@pytest.fixture()
def sample_book(tmp_path: Path) -> Path:
    template = tmp_path / "template.xlsx"
    template.write_bytes(template_bytes())
    book = tmp_path / "sample.xlsx"
    fill_workbook(SAMPLE, template, book)
    return book


def edit(book: Path, changes: dict[str, dict[str, object]]) -> None:
    workbook = openpyxl.load_workbook(book)
    for sheet, cells in changes.items():
        for address, value in cells.items():
            workbook[sheet][address] = value
    workbook.save(book)


def problems(book: Path) -> list[str]:
    with pytest.raises(CaseInvalid) as raised:
        load_workbook_case(book)
    return raised.value.lines()


def test_problems_name_the_sheet_row_and_column(sample_book: Path) -> None:
    # children row 4 is C003 (header on row 1); places row 3 is S1,SLD; policy row 3 is unranked_cost
    edit(
        sample_book,
        {
            "children": {"C4": "ten"},
            "places": {"A3": "S9"},
            "policy": {"B3": -1},
            "schools": {"E2": 12},  # S1 age_min 12 > age_max 11
        },
    )
    lines = problems(sample_book)
    assert "children:4: age: 'ten' is not a whole number" in lines
    assert "places:3: school_id: unknown school 'S9'" in lines
    assert "policy:3: unranked_cost: -1 is negative; it must be 0 or more" in lines
    # the column for a rule across two columns is the loader's choice ('-' or age_min)
    assert any(line.startswith("schools:2: ") and line.endswith("age_min 12 is above age_max 11") for line in lines)


def test_rows_keep_their_sheet_numbers_after_blank_rows(sample_book: Path) -> None:
    workbook = openpyxl.load_workbook(sample_book)
    sheet = workbook["travel_times"]
    sheet.append(["C001", "S1", 12])  # row 2: the template's header is row 1
    sheet.append([])
    sheet.append([])
    sheet.append(["C002", "S1", 7.5])  # row 5
    sheet.append(["C404", "S1", 7])  # row 6
    workbook["children"].insert_rows(3, 2)  # C002 moves from row 3 to row 5
    workbook["children"]["C5"] = -3
    workbook.save(sample_book)
    lines = problems(sample_book)
    assert "travel_times:5: minutes: '7.5' is not a whole number" in lines
    assert "travel_times:6: child_id: unknown child 'C404'" in lines
    assert "children:5: age: -3 is negative; it must be 0 or more" in lines


def test_missing_sheets_and_columns_are_reported(tmp_path: Path) -> None:
    book = tmp_path / "partial.xlsx"
    workbook = openpyxl.Workbook()
    assert workbook.active is not None
    workbook.active.title = "Schools"
    workbook.active.append(["school_id", "name", "lat", "lon", "age_min"])
    workbook.active.append(["S1", "One", 53.8, -2.4, 4])
    workbook.save(book)
    lines = problems(book)
    assert "Schools:1: age_max: required column is missing" in lines
    assert "children:0: -: required sheet is missing from partial.xlsx" in lines
    assert "places:0: -: required sheet is missing from partial.xlsx" in lines


def test_a_file_that_is_not_a_workbook_is_one_problem(tmp_path: Path) -> None:
    book = tmp_path / "case.xlsx"
    book.write_text("child_id,need\n")
    (line,) = problems(book)
    assert line.startswith("case.xlsx:0: -: cannot be read as an Excel workbook (.xlsx)")


def test_demo_on_a_bad_workbook_exits_2_and_writes_nothing(sample_book: Path, tmp_path: Path) -> None:
    edit(sample_book, {"children": {"B2": "AUTISM"}})
    out = tmp_path / "out"
    result = CliRunner().invoke(cli(), ["demo", str(sample_book), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.splitlines()[0].startswith("children:2: need: 'AUTISM' is not one of")
    assert "Traceback" not in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.xlsx", "template.xlsx"]


def test_policy_keys_are_checked(sample_book: Path) -> None:
    workbook = openpyxl.load_workbook(sample_book)
    workbook["policy"].append(["max_travel_minutes.tertiary", 90])
    workbook["policy"].append(["open_sites", 2])
    workbook.save(sample_book)
    lines = problems(sample_book)
    assert "policy:8: max_travel_minutes.tertiary: unknown key" in lines
    assert any(line.startswith("policy:9: open_sites: setting already given on row 2") for line in lines)
