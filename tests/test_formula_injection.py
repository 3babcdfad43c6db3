"""No output cell is one a spreadsheet would run (issue 10, point 3: the OWASP CSV-injection rule).

Ids starting with `=`, `+`, `-` or `@` are accepted on input (a pseudonymous id such as "-123"
stays usable); every CSV the product writes, on the command line and over HTTP, and the workbook
template write such text with a leading apostrophe. Numbers the product writes (a negative saving
such as -2) stay plain numbers, and a case with ordinary ids gives the same bytes as before.
"""

import csv
import io
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest

import data.outputs
import data.workbook
from allocator.estates.files import place_plan_files, sites_files, whatif_files
from allocator.estates.plan import plan_places
from allocator.estates.sites import evaluate_sites
from allocator.estates.whatif import run_whatif
from allocator.solve import allocate
from api.services.case_files import with_locks
from bench.hardening.formula_cells import NUMERIC_COLUMNS
from data.expansions import parse_expansions
from data.loader import load_case, load_case_files
from data.outputs import FORMULA_STARTS, allocation_files, csv_text, safe_cell
from data.scenario import parse_scenario
from tests.conftest import ALLOCATOR, REPO, write_case

LANCASHIRE = REPO / "data" / "lancashire" / "case"
DANGEROUS = ("=", "+", "-", "@")
"""The starts tested in ids: tab and carriage return are tested on `safe_cell` alone, since
the loader may refuse control characters in ids."""

SCHOOL_IDS = ("=SUM(1)", "+44", "-12", "@x")
SITE_IDS = ("=C1", "-C2")
CHILD_IDS = ("=K1", "+K2", "-K3", "@K4", "=SUM(A1:A9)", "+441234", "-123", "@cmd")
DISTRICTS = ("=Burnley", "+Pendle", "-Hyndburn", "@Ribble")

# Four schools and two candidate sites with one autism place each, eight children: some are left
# without a place, so every estates file has rows, and opening a site adds travel (negative savings).
HOSTILE_CASE: dict[str, str | bytes] = {
    "schools.csv": (
        "school_id,name,lat,lon,age_min,age_max,kind,district\n"
        "=SUM(1),=Alpha School,53.80,-2.40,4,18,special,=Burnley\n"
        "+44,+Beta School,53.70,-2.50,4,18,special,+Pendle\n"
        "-12,-Gamma School,53.75,-2.45,4,18,special,-Hyndburn\n"
        "@x,@Delta School,53.72,-2.42,4,18,special,@Ribble\n"
        "=C1,=Site One,53.78,-2.43,4,18,candidate,=Burnley\n"
        "-C2,-Site Two,53.71,-2.47,4,18,candidate,-Hyndburn\n"
    ),
    "places.csv": "school_id,need,places\n" + "".join(f"{s},ASD,1\n" for s in SCHOOL_IDS + SITE_IDS),
    "children.csv": (
        "child_id,need,age,lat,lon,priority,district\n"
        "=K1,ASD,7,53.80,-2.41,0,=Burnley\n"
        "+K2,ASD,8,53.70,-2.49,0,+Pendle\n"
        "-K3,ASD,9,53.75,-2.44,0,-Hyndburn\n"
        "@K4,ASD,12,53.72,-2.43,0,@Ribble\n"
        "=SUM(A1:A9),ASD,13,53.79,-2.42,1,=Burnley\n"
        "+441234,ASD,14,53.71,-2.48,0,+Pendle\n"
        "-123,ASD,10,53.76,-2.46,2,-Hyndburn\n"
        "@cmd,ASD,15,53.73,-2.41,0,@Ribble\n"
    ),
    "preferences.csv": "child_id,school_id,rank\n=K1,=SUM(1),1\n-123,-12,1\n",
    "expansions.csv": "school_id,need,max_extra\n" + "".join(f"{s},ASD,2\n" for s in SCHOOL_IDS),
}
PLAN_ADD = 3
SCENARIO = 'close_schools = ["+44"]\nopen_candidates = ["-C2"]\n'
TEXT_IDS = set(SCHOOL_IDS + SITE_IDS + CHILD_IDS)

ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "allocation.csv": ("child_id", "school_id"),
    "sites.csv": ("site_id", "name"),
    "marginal.csv": ("school_id", "name"),
    "plan.csv": ("school_id",),
    "changes.csv": (),
    "moves.csv": ("child_id", "from_school_id", "to_school_id"),
}
COMMAND_FILES = {
    "solve": ("allocation.csv",),
    "sites": ("sites.csv", "marginal.csv"),
    "plan-places": ("plan.csv", "allocation.csv"),
    "whatif": ("changes.csv", "moves.csv", "allocation.csv"),
}
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def rows_of(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return [dict(row) for row in reader]


def hostile_names() -> set[str]:
    schools = rows_of(str(HOSTILE_CASE["schools.csv"]))
    return {row["name"] for row in schools}


def check_neutralised(name: str, text: str) -> dict[str, list[str]]:
    """Every text cell of output `name` that would start a formula has its apostrophe and every
    numeric cell is a plain number; returns the file's columns (column -> cells)."""
    rows = rows_of(text)
    assert rows, f"{name} has no rows: the case must exercise it"
    columns = {column: [row[column] for row in rows] for column in rows[0]}
    for column, cells in columns.items():
        for cell in cells:
            if column in NUMERIC_COLUMNS[name]:
                assert cell == "" or NUMBER.match(cell), (name, column, cell)
            else:
                assert not cell.startswith(FORMULA_STARTS), (name, column, cell)
    originals = TEXT_IDS | hostile_names()
    for column in ID_COLUMNS[name]:
        written = [cell for cell in columns[column] if cell]
        assert written, (name, column)
        for cell in written:  # the apostrophe is the only change
            assert cell.startswith("'") and cell[1:] in originals and cell[1] in DANGEROUS, (name, column, cell)
    return columns


def run_command(*args: str | Path) -> None:
    done = subprocess.run(
        [str(ALLOCATOR), *map(str, args)], capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


def run_commands(root: Path) -> dict[str, Path]:
    """The hostile case run through every command that writes a CSV: command -> its OUT_DIR."""
    case = write_case(root / "case", dict(HOSTILE_CASE))
    (root / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
    run_command("solve", case, "--out", root / "solve")
    run_command("sites", case, "--out", root / "sites")
    run_command("plan-places", case, "--add", str(PLAN_ADD), "--out", root / "plan-places")
    run_command("whatif", case, root / "scenario.toml", "--out", root / "whatif")
    return {command: root / command for command in COMMAND_FILES}


@pytest.fixture(scope="module")
def cli_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return run_commands(tmp_path_factory.mktemp("hostile"))


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_starting_a_formula_gets_an_apostrophe(start: str) -> None:
    assert safe_cell(f"{start}SUM(1)") == f"'{start}SUM(1)"
    assert safe_cell(start) == f"'{start}"


@pytest.mark.parametrize("value", [-88, -3, -1461900, -0.5, 0, 12, 2.5, None, "", "K1", "a=b", "x-1", "'=already"])
def test_numbers_and_other_text_are_left_as_they_are(value: object) -> None:
    assert safe_cell(value) is value


def test_a_csv_read_back_by_the_csv_module_round_trips() -> None:
    hostile = [
        '=HYPERLINK("http://127.0.0.1/x","click")',
        "+44, 1",
        "-12",
        '@SUM(1)"',
        "\tTAB",
        "\rCR",
        "ok\r=SUM(1)",  # quoted, so no reader starts a row (and a first cell) after the CR
        "ok\n=SUM(1)",
        "ok",
    ]
    numbers: list[object] = [-88, -3, -1461900, 0.5]
    text = csv_text(("text", "number"), [(cell, numbers[i % len(numbers)]) for i, cell in enumerate(hostile)])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["text", "number"]
    for (written, number), original in zip(rows[1:], hostile, strict=True):
        if original.startswith(FORMULA_STARTS):
            assert written == "'" + original
        else:
            assert written == original
        assert not number.startswith("'") and float(number) in (-88, -3, -1461900, 0.5)


def test_only_the_one_writer_writes_csv_outputs() -> None:
    """Every CSV the product writes goes through `data.outputs.csv_text` (which joins its lines
    itself, as csv.writer would write them: see the tests below). The csv writers left build input,
    not output: the bundled case's generator, the API's children.csv with the panel's locks, and an
    uploaded workbook's sheets as the case files the service stores; the loader reads each back,
    and their ids must stay as given."""
    writers = sorted(
        path.relative_to(REPO).as_posix()
        for package in ("models", "data", "allocator", "report", "api", "cli")
        for path in (REPO / package).rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(|\.to_csv\(", path.read_text(encoding="utf-8"))
    )
    assert writers == [
        "api/services/case_files.py",
        "api/web/workbook.py",
        "data/lancashire/generate.py",
    ]


def test_panel_locks_keep_ids_that_start_a_formula_verbatim() -> None:
    children = str(HOSTILE_CASE["children.csv"]).encode()
    locked = with_locks(children, {"=K1": "=SUM(1)", "-123": "-12"})
    rows = {row["child_id"]: row["locked_school_id"] for row in rows_of(locked.decode())}
    assert set(rows) == set(CHILD_IDS)
    assert (rows["=K1"], rows["-123"], rows["+K2"]) == ("=SUM(1)", "-12", "")
    files = {name: str(text).encode() for name, text in HOSTILE_CASE.items() if name != "expansions.csv"}
    case = load_case_files({**files, "children.csv": locked}).case
    assert {c.child_id: c.locked_school_id for c in case.children}["=K1"] == "=SUM(1)"


# --- every CSV the commands write ---------------------------------------------------------------


@pytest.mark.parametrize(("command", "name"), [(c, n) for c, names in COMMAND_FILES.items() for n in names])
def test_command_outputs_neutralise_hostile_ids(cli_outputs: dict[str, Path], command: str, name: str) -> None:
    check_neutralised(name, (cli_outputs[command] / name).read_text(encoding="utf-8"))


def test_every_hostile_child_and_school_is_written_with_its_apostrophe(cli_outputs: dict[str, Path]) -> None:
    allocation = check_neutralised("allocation.csv", (cli_outputs["solve"] / "allocation.csv").read_text())
    assert allocation["child_id"] == ["'" + child for child in CHILD_IDS]  # children.csv order
    assert {cell for cell in allocation["school_id"] if cell} <= {"'" + s for s in SCHOOL_IDS + SITE_IDS}
    sites = check_neutralised("sites.csv", (cli_outputs["sites"] / "sites.csv").read_text())
    assert sorted(sites["site_id"]) == sorted("'" + s for s in SITE_IDS)
    assert sorted(sites["name"]) == ["'-Site Two", "'=Site One"]
    moves = check_neutralised("moves.csv", (cli_outputs["whatif"] / "moves.csv").read_text())
    assert "'+44" in moves["from_school_id"] and "'-C2" in moves["to_school_id"]  # closed, and opened
    assert "site =C1 not opened in the scenario" in moves["why"]  # an id inside a sentence runs nothing


def test_negative_numbers_the_product_writes_stay_numbers(cli_outputs: dict[str, Path]) -> None:
    written = {
        ("sites.csv", "cost_saved_gbp_year"): cli_outputs["sites"] / "sites.csv",
        ("marginal.csv", "preference_cost_saved"): cli_outputs["sites"] / "marginal.csv",
        ("marginal.csv", "travel_saved_minutes"): cli_outputs["sites"] / "marginal.csv",
        ("changes.csv", "change"): cli_outputs["whatif"] / "changes.csv",
    }
    for (name, column), path in written.items():
        cells = check_neutralised(name, path.read_text())[column]
        negative = [cell for cell in cells if cell.startswith("-")]
        assert negative, f"the case gives no negative {column} in {name}"
        assert all(float(cell) < 0 for cell in negative)


def test_district_names_inside_figure_names_are_not_changed(cli_outputs: dict[str, Path]) -> None:
    figures = check_neutralised("changes.csv", (cli_outputs["whatif"] / "changes.csv").read_text())["figure"]
    for district in DISTRICTS:
        assert f"districts.{district}.placed" in figures


# --- the workbook template ------------------------------------------------------------------------


def cells_of(workbook: bytes) -> Iterator[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(io.BytesIO(workbook))  # not data_only: formulas would show as such
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell, openpyxl.cell.cell.Cell) and cell.value is not None:
                    yield cell


def test_the_template_holds_text_and_numbers_and_no_formula(tmp_path: Path) -> None:
    run_command("export-template", tmp_path / "t.xlsx")
    cells = list(cells_of((tmp_path / "t.xlsx").read_bytes()))
    assert cells and all(cell.data_type in ("s", "n") for cell in cells)
    assert any(cell.data_type == "n" for cell in cells)  # the policy defaults are numbers


def test_template_text_that_would_start_a_formula_is_written_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = [f"{start}SUM(1)" for start in DANGEROUS]
    monkeypatch.setattr(data.workbook, "NOTES", (*data.workbook.NOTES, ("children", *hostile[:3])))
    monkeypatch.setattr(
        data.workbook, "POLICY_DEFAULT_ROWS", (*data.workbook.POLICY_DEFAULT_ROWS, (hostile[3], -3, "-a note"))
    )
    cells = {cell.value: cell for cell in cells_of(data.workbook.template_bytes())}
    for text in [*hostile, "-a note"]:
        assert "'" + text in cells and text not in cells
        assert cells["'" + text].data_type == "s"
    assert cells[-3].data_type == "n"
    assert all(cell.data_type != "f" for cell in cells.values())


# --- ordinary ids: the same bytes as before -------------------------------------------------------


def lancashire_outputs() -> Callable[[], dict[str, str]]:
    """The Lancashire case solved once by every command; returns a function writing its files."""
    loaded = load_case(LANCASHIRE)
    allocation = allocate(loaded)
    sites = evaluate_sites(loaded)
    plan = plan_places(loaded, parse_expansions((LANCASHIRE / "expansions.csv").read_text(), loaded.case), 200)
    scenario_text = 'close_schools = ["LAN-SP-05"]\n[demand_growth_percent]\nASD = 10\n'
    whatif = run_whatif(loaded, parse_scenario(scenario_text, loaded.case, "s.toml"), scenario_text)

    def files() -> dict[str, str]:
        written = {
            "solve": allocation_files(allocation),
            "sites": sites_files(sites),
            "plan-places": place_plan_files(plan),
            "whatif": whatif_files(whatif),
        }
        return {f"{c}/{name}": written[c][name] for c, names in COMMAND_FILES.items() for name in names}

    return files


def test_ordinary_ids_give_the_same_bytes_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files with the rule, and as the writer wrote them before it (a plain csv.writer: the
    rule switched off), for the bundled Lancashire case: byte-identical. The template too."""
    files = lancashire_outputs()
    with_rule, template = files(), data.workbook.template_bytes()
    monkeypatch.setattr(data.outputs, "safe_cell", lambda value: value)
    monkeypatch.setattr(data.workbook, "safe_cell", lambda value: value)
    before = files()
    assert sorted(with_rule) == sorted(before)
    for name, text in with_rule.items():
        assert text == before[name], name
        assert not any(cell.startswith("'") for row in csv.reader(io.StringIO(text)) for cell in row), name
    assert any(line.count(",-") for line in with_rule["sites/marginal.csv"].splitlines())  # negatives, unprefixed
    assert template == data.workbook.template_bytes()


# --- the measuring script (make check-hardening runs the full one) -----------------------------


def test_the_quick_formula_cell_measurement_meets_its_targets() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.hardening.formula_cells", "--quick"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unneutralised: 0," in done.stdout and done.stdout.rstrip().endswith("formula cells: [ok]")
    assert done.stderr == ""  # no warning reaches the terminal
