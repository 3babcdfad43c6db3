"""Issue 10, item 2: a cell holding a control or format character (newline, carriage return, tab,
NUL, a byte-order mark inside the text, a bidirectional override, ...) is a located problem,
shown escaped so that one problem is one line; ids are printable and at most 64 characters; ids a
spreadsheet would run (`=`, `+`, `-`, `@`) are accepted (the outputs neutralise them); no warning
reaches the terminal. Each test compares the whole list of problems."""

import os
import subprocess
from pathlib import Path

import pytest

from data.loader import load_case
from data.workbook import load_workbook_case
from models.problems import CaseInvalid
from tests.conftest import ALLOCATOR, REPO, VALID_CASE, CliRunner
from tests.data_hardening.helpers import PROBLEM, case_with, cli_problems, set_cells, workbook_from


def replaced(name: str, old: str, new: str) -> str:
    assert VALID_CASE[name].count(old) == 1, old
    return VALID_CASE[name].replace(old, new)


def test_newline_nul_and_byte_order_mark_in_cells(tmp_path: Path, run_cli: CliRunner) -> None:
    schools = replaced("schools.csv", "S1,Alpha School,", 'S1,"Alpha\nSchool",').replace(
        "S2,Beta School,", "S2,Beta\x00School,"
    )
    children = replaced("children.csv", "K2,SEMH,", "K\ufeff2,SEMH,")
    case = case_with(tmp_path / "case", {"schools.csv": schools, "children.csv": children})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        # the record of S1 spans lines 2 and 3; a record is located at its last line
        "schools.csv:3: name: 'Alpha\\nSchool' contains a control character (U+000A)",
        "schools.csv:4: name: 'Beta\\x00School' contains a control character (U+0000)",
        "children.csv:3: child_id: 'K\\ufeff2' contains a control character (U+FEFF)",
    ]


def test_tab_and_carriage_return_in_ids_and_other_format_characters(tmp_path: Path, run_cli: CliRunner) -> None:
    children = replaced("children.csv", "K2,SEMH,12,53.71,-2.5,1,S2", '"K2\r",SEMH,12,53.71,-2.5,1,"S2\t"')
    places = replaced("places.csv", "C1,ASD,1", "C1,ASD\u202e,1")
    case = case_with(tmp_path / "case", {"children.csv": children, "places.csv": places})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "places.csv:4: need: 'ASD\\u202e' contains a control character (U+202E)",
        # a carriage return inside quotes ends a line too: the record of K2 spans lines 3 and 4
        "children.csv:4: child_id: 'K2\\r' contains a control character (U+000D)",
        "children.csv:4: locked_school_id: 'S2\\t' contains a control character (U+0009)",
    ]


def test_control_characters_in_a_header(tmp_path: Path, run_cli: CliRunner) -> None:
    places = replaced("places.csv", "school_id,need,places", "school_id,need\x00,places")
    case = case_with(tmp_path / "case", {"places.csv": places})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "places.csv:1: -: header cell 'need\\x00' contains a control character (U+0000)",
        "places.csv:1: need: required column is missing",
    ]


def test_control_characters_in_travel_times(tmp_path: Path, run_cli: CliRunner) -> None:
    travel = 'child_id,school_id,minutes\nK1\x00,S1,5\nK3,S\u20281,6\nK3,C1,"7\t"\n"K2\n",S2,8\nK1,S2,x\x1by\n'
    case = case_with(tmp_path / "case", {"travel_times.csv": travel})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "travel_times.csv:2: child_id: 'K1\\x00' contains a control character (U+0000)",
        "travel_times.csv:3: school_id: 'S\\u20281' contains a control character (U+2028)",
        "travel_times.csv:4: minutes: '7\\t' contains a control character (U+0009)",
        "travel_times.csv:6: child_id: 'K2\\n' contains a control character (U+000A)",
        "travel_times.csv:7: minutes: 'x\\x1by' is not a whole number",
    ]


def test_an_over_long_id(tmp_path: Path, run_cli: CliRunner) -> None:
    long_id = "K" * 65
    children = replaced("children.csv", "K2,SEMH,", f"{long_id},SEMH,")
    schools = replaced("schools.csv", "S2,Beta School,", f"{'S' * 64},Beta School,")  # 64 is allowed
    places = replaced("places.csv", "S2,SEMH,1", f"{'S' * 64},SEMH,1")
    case = case_with(tmp_path / "case", {"children.csv": children, "schools.csv": schools, "places.csv": places})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        f"children.csv:3: child_id: '{long_id}' is longer than 64 characters",
        # its lock names the S2 of VALID_CASE, now renamed
        "children.csv:3: locked_school_id: unknown school 'S2'",
    ]


def test_a_very_long_cell_is_cut_in_its_problem(tmp_path: Path, run_cli: CliRunner) -> None:
    schools = replaced("schools.csv", "S1,Alpha School,", "S1," + "A" * 5000 + ",")
    case = case_with(tmp_path / "case", {"schools.csv": schools})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        f"schools.csv:2: name: '{'A' * 80}...' is longer than 200 characters",
    ]


def test_ids_a_spreadsheet_would_run_are_accepted(tmp_path: Path, run_cli: CliRunner) -> None:
    renames = {"K1": "-123", "K3": "@child", "S1": '=HYPERLINK("x")', "C1": "+44 site"}
    files: dict[str, str | bytes | None] = {}
    for name in ("schools.csv", "places.csv", "children.csv", "preferences.csv", "travel_times.csv"):
        text = VALID_CASE[name]
        for old, new in renames.items():
            text = "\n".join(
                ",".join(_quoted(new) if cell == old else cell for cell in row.split(",")) for row in text.split("\n")
            )
        files[name] = text
    case = case_with(tmp_path / "case", files)
    loaded = load_case(case)
    assert [child.child_id for child in loaded.case.children] == ["-123", "K2", "@child"]
    assert [school.school_id for school in loaded.case.schools] == ['=HYPERLINK("x")', "S2", "+44 site"]
    result = run_cli("solve", case, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


def test_control_characters_in_workbook_cells(tmp_path: Path) -> None:
    book = workbook_from(dict(VALID_CASE), tmp_path / "r.xlsx")
    # an officer's Alt+Enter in a name, a tab in a lock, a byte-order mark pasted into an id
    set_cells(book, {"schools": {"B2": "Alpha\nSchool"}, "children": {"G3": "S2\t", "A4": "K\ufeff3"}})
    with pytest.raises(CaseInvalid) as raised:
        load_workbook_case(book)
    assert raised.value.lines() == [
        "schools:2: name: 'Alpha\\nSchool' contains a control character (U+000A)",
        "children:3: locked_school_id: 'S2\\t' contains a control character (U+0009)",
        "children:4: child_id: 'K\\ufeff3' contains a control character (U+FEFF)",
        # K3's preferences and travel name the K3 that children row 4 no longer holds
        "preferences:3: child_id: unknown child 'K3'",
        "preferences:4: child_id: unknown child 'K3'",
    ]


def test_an_unknown_policy_key_holding_a_colon_or_newline_stays_one_line(tmp_path: Path, run_cli: CliRunner) -> None:
    policy = 'open_sites = 1\n"open:sites" = 2\n"a\\nb" = 3\n'
    case = case_with(tmp_path / "case", {"policy.toml": policy})
    assert cli_problems(run_cli, "solve", case, out=tmp_path / "out") == [
        "policy.toml:2: -: unknown key (key 'open:sites')",
        "policy.toml:3: -: unknown key (key 'a\\nb')",
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"travel_times.csv": "child_id,school_id,minutes\nK1,S1,inf\nK3,S1,1e400\nK3,C1,-1e400\n"},
        {"policy.toml": "[travel_estimate]\ncircuity = 1e308\nspeed_kmh = 1e-308\n"},
        {"travel_times.csv": "child_id,school_id,minutes\n" + "K1,S1,5\n" * 3 + "K3,S1,x\n" * 2},
    ],
    ids=["non-finite minutes", "extreme estimate", "mixed minutes"],
)
def test_no_warning_reaches_the_terminal(tmp_path: Path, changes: dict[str, str | bytes | None]) -> None:
    """Even with every warning shown (PYTHONWARNINGS=always), stderr holds only problem lines."""
    case = case_with(tmp_path / "case", changes)
    result = subprocess.run(
        [str(ALLOCATOR), "solve", str(case), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "always"},
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines and all(PROBLEM.match(line) for line in lines), result.stderr
    assert "Warning" not in result.stderr
