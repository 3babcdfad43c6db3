"""Bad expansions.csv and scenario files: every problem located, exit 2, nothing written;
and the three commands end to end through their typer registration."""

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.estates import register
from tests.conftest import VALID_CASE, write_case


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()

    @application.callback()
    def _root() -> None:
        """estates commands"""

    register(application)
    return application


def _invoke(app: typer.Typer, *args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_bad_expansions_are_each_located(app: typer.Typer, tmp_path: Path) -> None:
    case = write_case(
        tmp_path / "case",
        {
            **VALID_CASE,
            "expansions.csv": (
                "school_id,need,max_extra\nS1,ASD,2\nNOPE,ASD,1\nS1,XYZ,1\nS2,SEMH,-1\nS1,ASD,3\nS2,ASD,1.5\n"
            ),
        },
    )
    out = tmp_path / "out"
    code, output = _invoke(app, "plan-places", case, "--add", "-1", "--out", out)
    assert code == 2
    lines = output.strip().splitlines()
    assert "expansions.csv:3: school_id: unknown school 'NOPE'" in lines
    assert any(line.startswith("expansions.csv:4: need: 'XYZ' is not one of") for line in lines)
    assert "expansions.csv:5: max_extra: -1 is negative; it must be 0 or more" in lines
    assert "expansions.csv:6: need: ASD at 'S1' is already listed on line 2" in lines
    assert "expansions.csv:7: max_extra: '1.5' is not a whole number" in lines
    assert "expansions.csv:0: --add: -1 is negative; it must be 0 or more" in lines
    assert not out.exists()


def test_missing_expansions_file(app: typer.Typer, valid_case_dir: Path, tmp_path: Path) -> None:
    code, output = _invoke(app, "plan-places", valid_case_dir, "--add", "2", "--out", tmp_path / "out")
    assert code == 2
    assert output.startswith("expansions.csv:0: -: required file is missing")
    assert not (tmp_path / "out").exists()


def test_bad_scenario_is_each_located(app: typer.Typer, valid_case_dir: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "SCENARIO.toml"
    scenario.write_text(
        'open_sites = -1\ncolour = "red"\n\n[[add_places]]\nschool_id = "S1"\nneed = "XYZ"\nplaces = 2\n\n'
        "[demand_growth_percent]\nASD = -5\n"
    )
    code, output = _invoke(app, "whatif", valid_case_dir, scenario, "--out", tmp_path / "out")
    assert code == 2
    lines = output.strip().splitlines()
    assert lines[0] == "SCENARIO.toml:1: open_sites: -1 is negative; it must be 0 or more"
    assert lines[1] == "SCENARIO.toml:2: colour: unknown key"
    assert lines[2].startswith("SCENARIO.toml:6: add_places[0].need: 'XYZ' is not one of")
    assert lines[3] == "SCENARIO.toml:10: demand_growth_percent.ASD: -5 is negative; it must be 0 or more"
    assert not (tmp_path / "out").exists()


def test_scenario_names_unknown_schools_and_excess_removals(
    app: typer.Typer, valid_case_dir: Path, tmp_path: Path
) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'close_schools = ["S9"]\nopen_candidates = ["S1"]\n\n[[remove_places]]\nschool_id = "S1"\nneed = "ASD"\n'
        'places = 3\n\n[[remove_places]]\nschool_id = "S7"\nneed = "ASD"\nplaces = 1\n'
    )
    code, output = _invoke(app, "whatif", valid_case_dir, scenario, "--out", tmp_path / "out")
    assert code == 2
    assert output.strip().splitlines() == [
        "s.toml:1: close_schools[0]: unknown school 'S9'",
        "s.toml:2: open_candidates[0]: 'S1' is not a candidate site",
        "s.toml:7: remove_places[0].places: 'S1' has 2 ASD place(s); cannot remove 3",
        "s.toml:10: remove_places[1].school_id: unknown school 'S7'",
    ]


def test_unknown_schools_are_named_in_the_same_run_as_type_errors(
    app: typer.Typer, valid_case_dir: Path, tmp_path: Path
) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'open_sites = -1\nclose_schools = ["S9"]\n\n[[add_places]]\nschool_id = "S8"\nneed = "XX"\nplaces = 1\n'
    )
    code, output = _invoke(app, "whatif", valid_case_dir, scenario, "--out", tmp_path / "out")
    assert code == 2
    assert sorted(output.strip().splitlines()) == sorted(
        [
            "s.toml:1: open_sites: -1 is negative; it must be 0 or more",
            "s.toml:2: close_schools[0]: unknown school 'S9'",
            "s.toml:5: add_places[0].school_id: unknown school 'S8'",
            "s.toml:6: add_places[0].need: 'XX' is not one of 'ASD', 'SEMH', 'SLCN', 'MLD', 'SLD', 'PMLD', 'SPLD', "
            "'HI', 'VI', 'MSI', 'PD' or 'OTH'",
        ]
    )
    assert not (tmp_path / "out").exists()


def test_scenario_not_toml(app: typer.Typer, valid_case_dir: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text("open_sites = = 2\n")
    code, output = _invoke(app, "whatif", valid_case_dir, scenario, "--out", tmp_path / "out")
    assert code == 2
    assert output.startswith("s.toml:1: -: not valid TOML")


def test_commands_write_their_files_deterministically(app: typer.Typer, valid_case_dir: Path, tmp_path: Path) -> None:
    (valid_case_dir / "expansions.csv").write_text("school_id,need,max_extra\nS1,ASD,2\nC1,ASD,1\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('open_candidates = ["C1"]\n[demand_growth_percent]\nASD = 100\n')
    runs: list[tuple[str, list[str | Path], tuple[str, ...]]] = [
        ("sites", ["sites", valid_case_dir], ("sites.csv", "sites.json", "marginal.csv")),
        ("plan", ["plan-places", valid_case_dir, "--add", "2"], ("plan.csv", "allocation.csv")),
        (
            "whatif",
            ["whatif", valid_case_dir, scenario],
            ("comparison.json", "changes.csv", "moves.csv", "allocation.csv"),
        ),
    ]
    for name, args, files in runs:
        texts = []
        for attempt in range(2):
            out = tmp_path / f"{name}{attempt}"
            code, output = _invoke(app, *args, "--out", out)
            assert code == 0, output
            texts.append({f: (out / f).read_text() for f in files})
        assert texts[0] == texts[1]
    header = (tmp_path / "sites0" / "sites.csv").read_text().splitlines()[0].split(",")
    for column in (
        "site_id",
        "placed",
        "placed_gain",
        "preference_cost",
        "travel_minutes",
        "travel_saved_minutes",
        "children_newly_in_reach",
        "cost_gbp_year",
    ):
        assert column in header
    assert (tmp_path / "plan0" / "plan.csv").read_text().splitlines()[0] == "school_id,need,extra_places"
    comparison = json.loads((tmp_path / "whatif0" / "comparison.json").read_text())
    assert comparison["synthetic_children_added"] == 2
    assert comparison["opened_for_certain"] == ["C1"]
