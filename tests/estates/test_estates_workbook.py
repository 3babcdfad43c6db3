"""`sites`, `whatif` and `plan-places` take an .xlsx workbook exactly as `solve` does (one loader,
`data.loader.load_case`, for both forms), `plan-places` reads the workbook's `expansions` sheet,
and a case path that is missing or not a case says so, for every command."""

import csv
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import data
from cli.main import app
from data.expansions import EXPANSION_COLUMNS
from data.workbook import template_bytes
from tests.test_workbook_roundtrip import fill_workbook, typed

LANCASHIRE = Path(data.__file__).parent / "lancashire" / "case"
SCENARIO = 'close_schools = ["LAN-SP-15"]\nopen_candidates = ["LAN-CAND-01"]\n'


def invoke(*args: str | Path) -> tuple[int, list[str], list[str]]:
    """Exit code, stdout lines and stderr lines of one `allocator` command."""
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    return result.exit_code, result.stdout.splitlines(), result.stderr.splitlines()


def write_expansions_sheet(book: Path, rows: list[list[object]]) -> None:
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["expansions"]
    for row in rows:
        sheet.append(row)
    workbook.save(book)


@pytest.fixture(scope="module")
def lancashire_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled case typed into the exported template, expansions sheet included."""
    folder = tmp_path_factory.mktemp("book")
    template, book = folder / "template.xlsx", folder / "round.xlsx"
    template.write_bytes(template_bytes())
    fill_workbook(LANCASHIRE, template, book)
    with (LANCASHIRE / "expansions.csv").open(encoding="utf-8", newline="") as handle:
        write_expansions_sheet(book, [[typed(cell) for cell in row] for row in list(csv.reader(handle))[1:]])
    return book


@pytest.fixture
def book(lancashire_book: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "round.xlsx"
    copy.write_bytes(lancashire_book.read_bytes())
    return copy


def run_both(tmp_path: Path, book: Path, command: str, *args: str | Path) -> tuple[Path, Path]:
    """Run `command` on the folder and on the workbook; both must finish (exit 0)."""
    outputs = []
    for label, case in (("folder", LANCASHIRE), ("book", book)):
        out = tmp_path / label
        code, stdout, stderr = invoke(command, case, *args, "--out", out)
        assert code == 0, (label, stdout, stderr)
        outputs.append(out)
    return outputs[0], outputs[1]


def same_files(first: Path, second: Path, names: tuple[str, ...]) -> None:
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_sites_accepts_a_workbook_as_solve_does(tmp_path: Path, book: Path) -> None:
    folder, workbook = run_both(tmp_path, book, "sites")
    same_files(folder, workbook, ("sites.csv", "marginal.csv"))


def test_whatif_accepts_a_workbook_as_solve_does(tmp_path: Path, book: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    folder, workbook = run_both(tmp_path, book, "whatif", scenario)
    same_files(folder, workbook, ("moves.csv", "changes.csv", "allocation.csv"))
    assert (folder / "moves.csv").read_text().count("\n") > 1  # the scenario moves children


def test_plan_places_reads_the_expansions_sheet_of_a_workbook(tmp_path: Path, book: Path) -> None:
    folder, workbook = run_both(tmp_path, book, "plan-places", "--add", "200")
    same_files(folder, workbook, ("plan.csv", "allocation.csv"))
    assert (folder / "plan.csv").read_text().count("\n") > 1


def test_plan_places_on_a_workbook_without_an_expansions_sheet(tmp_path: Path, book: Path) -> None:
    workbook = openpyxl.load_workbook(book)
    del workbook["expansions"]
    workbook.save(book)
    out = tmp_path / "out"
    code, _, stderr = invoke("plan-places", book, "--add", "200", "--out", out)
    assert (code, stderr) == (2, ["expansions:0: -: required sheet is missing from round.xlsx (plan-places needs it)"])
    assert not out.exists()


def test_expansions_sheet_problems_are_located_by_sheet_row(tmp_path: Path) -> None:
    book = tmp_path / "round.xlsx"
    template = tmp_path / "template.xlsx"
    template.write_bytes(template_bytes())
    fill_workbook(LANCASHIRE, template, book)
    # rows 2-5 of the sheet (row 1 is the template's header)
    write_expansions_sheet(
        book, [["LAN-SP-01", "ASD", 2], ["NOPE", "ASD", 1], ["LAN-SP-02", "ASD", -1], ["LAN-SP-01", "ASD", 3]]
    )
    out = tmp_path / "out"
    code, _, stderr = invoke("plan-places", book, "--add", "-1", "--out", out)
    assert code == 2
    assert stderr == [
        "expansions:3: school_id: unknown school 'NOPE'",
        "expansions:4: max_extra: -1 is negative; it must be 0 or more",
        "expansions:5: need: ASD at 'LAN-SP-01' is already listed on line 2",
        "expansions.csv:0: --add: -1 is negative; it must be 0 or more",
    ]
    assert not out.exists()


COMMANDS: dict[str, tuple[str, ...]] = {
    "solve": (),
    "demo": (),
    "sites": (),
    "plan-places": ("--add", "200"),
    "whatif": ("scenario.toml",),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("path", ["round.xlsx", "nowhere"])
def test_a_missing_case_path_says_it_does_not_exist(
    command: str, path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("scenario.toml").write_text(SCENARIO, encoding="utf-8")
    code, _, stderr = invoke(command, path, *COMMANDS[command], "--out", "out")
    assert (code, stderr) == (2, [f"{path}:0: -: does not exist"])
    assert not Path("out").exists()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_existing_file_that_is_not_a_workbook_is_a_located_problem(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("scenario.toml").write_text(SCENARIO, encoding="utf-8")
    Path("children.csv").write_bytes((LANCASHIRE / "children.csv").read_bytes())
    code, _, stderr = invoke(command, "children.csv", *COMMANDS[command], "--out", "out")
    assert (code, stderr) == (2, ["children.csv:0: -: is neither a case folder nor an .xlsx workbook"])
    assert not Path("out").exists()


def test_the_template_has_an_expansions_sheet_and_notes_for_it(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    code, _, stderr = invoke("export-template", path)
    assert (code, stderr) == (0, [])
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert next(workbook["expansions"].iter_rows(values_only=True)) == EXPANSION_COLUMNS
    noted = [row[1] for row in workbook["notes"].iter_rows(min_row=2, values_only=True) if row[0] == "expansions"]
    assert tuple(noted) == EXPANSION_COLUMNS
