"""A case typed into Excel gives the same case, and the same allocation, as the CSV folder."""

import csv
import tomllib
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

import data
from cli.demo import register
from data.loader import load_case
from data.workbook import NOTES, REQUIRED_SHEETS, SHEET_COLUMNS, cell_text, load_workbook_case

SAMPLE = Path(data.__file__).parent / "sample"
LANCASHIRE = Path(data.__file__).parent / "lancashire" / "case"
CASE_SHEETS = ("schools", "places", "children", "preferences", "travel_times")


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test app"""

    register(app)
    return app


def typed(cell: str) -> Any:
    """A CSV cell as Excel would hold it once typed in: numbers become numbers."""
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell if cell != "" else None


def flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            rows.extend(flatten(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def fill_workbook(case_dir: Path, template: Path, target: Path) -> None:
    """Open the exported template and type the case's CSV files into its sheets."""
    book = openpyxl.load_workbook(template)
    for sheet_name in CASE_SHEETS:
        path = case_dir / f"{sheet_name}.csv"
        if not path.exists():
            continue
        sheet = book[sheet_name]
        sheet.delete_rows(1, sheet.max_row)
        with path.open(encoding="utf-8", newline="") as handle:
            for index, row in enumerate(csv.reader(handle)):
                sheet.append(row if index == 0 else [typed(cell) for cell in row])
    policy_path = case_dir / "policy.toml"
    if policy_path.exists():
        sheet = book["policy"]
        sheet.delete_rows(2, sheet.max_row)
        for key, value in flatten(tomllib.loads(policy_path.read_text())):
            sheet.append([key, value])
    book.save(target)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "case.xlsx"
    result = CliRunner().invoke(cli(), ["export-template", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_template_has_every_sheet_header_and_notes(template: Path) -> None:
    book = openpyxl.load_workbook(template, read_only=True)
    assert book.sheetnames == ["notes", *SHEET_COLUMNS]
    for name, columns in SHEET_COLUMNS.items():
        header = [cell for cell in next(book[name].iter_rows(values_only=True)) if cell is not None]
        assert tuple(header[: len(columns)]) == columns
    noted = {(row[0], row[1]) for row in book["notes"].iter_rows(min_row=2, values_only=True)}
    for name, columns in SHEET_COLUMNS.items():
        for column in columns:
            assert (name, column) in noted, (name, column)
    assert len(noted) == len(NOTES)


def test_the_empty_template_reads_as_a_case_with_no_rows(template: Path) -> None:
    from models.problems import CaseInvalid

    with pytest.raises(CaseInvalid) as raised:
        load_workbook_case(template)
    assert set(raised.value.lines()) == {f"{sheet}:0: -: file has no rows" for sheet in ("schools", "children")}
    assert all(sheet in SHEET_COLUMNS for sheet in REQUIRED_SHEETS)


@pytest.mark.parametrize("case_dir", [SAMPLE, LANCASHIRE], ids=["sample", "lancashire"])
def test_workbook_gives_the_same_case_and_allocation(case_dir: Path, template: Path, tmp_path: Path) -> None:
    book = tmp_path / "round.xlsx"
    fill_workbook(case_dir, template, book)
    assert load_workbook_case(book).case == load_case(case_dir).case
    runner = CliRunner()
    from_book = runner.invoke(cli(), ["demo", str(book), "--out", str(tmp_path / "book")])
    from_folder = runner.invoke(cli(), ["demo", str(case_dir), "--out", str(tmp_path / "folder")])
    assert from_book.exit_code == 0, from_book.output
    assert from_folder.exit_code == 0, from_folder.output
    allocation = (tmp_path / "folder" / "allocation.csv").read_bytes()
    assert (tmp_path / "book" / "allocation.csv").read_bytes() == allocation
    assert allocation.count(b"\n") == len(load_case(case_dir).case.children) + 1


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (1, "1"),
        (1.0, "1"),
        (45.0, "45"),
        (53.85, "53.85"),
        (-2.4, "-2.4"),
        (True, "true"),
        (0.1 + 0.2, "0.30000000000000004"),
        (" C001 ", "C001"),
        (1e21, "1000000000000000000000"),
    ],
)
def test_cells_become_the_text_the_loader_expects(value: object, text: str) -> None:
    assert cell_text(value) == text
