"""A what-if that opens a candidate site (`open_candidates`) lists it in the scenario summary's
`opened_sites`, whether or not a child is placed there, beside the sites the run chose."""

import json
from pathlib import Path

from typer.testing import CliRunner

import data
from allocator.estates.whatif import run_whatif
from cli.main import app
from data.scenario import parse_scenario
from models.case import SchoolKind
from models.need import Need
from tests.core.helpers import child, make_case, places, school

LANCASHIRE = Path(data.__file__).parent / "lancashire" / "case"
CANDIDATE = SchoolKind.CANDIDATE


def _opened(text: str, open_sites: int) -> tuple[list[str], list[str]]:
    """(baseline, scenario) opened_sites: S1 has one ASD place for two ASD children; N1 offers
    only SEMH places (no child can use it); N2 offers ASD places."""
    random_case = make_case(
        [school("S1"), school("N1", kind=CANDIDATE), school("N2", kind=CANDIDATE)],
        [places("S1", 1), places("N1", 3, Need.SEMH), places("N2", 2)],
        [child("K1"), child("K2")],
        open_sites=open_sites,
    )
    scenario = parse_scenario(text, random_case.case, "s.toml")
    result = run_whatif(random_case.loaded(), scenario, text)
    return result.baseline.summary.opened_sites, result.scenario.summary.opened_sites


def test_whatif_lists_an_opened_candidate_in_opened_sites() -> None:
    assert _opened('open_candidates = ["N2"]\n', open_sites=0) == ([], ["N2"])


def test_whatif_lists_a_site_opened_for_certain_that_no_child_uses() -> None:
    assert _opened('open_candidates = ["N1"]\n', open_sites=1) == (["N2"], ["N1"])


def test_whatif_lists_sites_opened_for_certain_and_chosen_in_schools_order() -> None:
    # open_sites = 2: N1 opened for certain uses one, the run chooses N2 with the other.
    assert _opened('open_sites = 2\nopen_candidates = ["N1"]\n', open_sites=1) == (["N2"], ["N1", "N2"])


def test_whatif_on_the_bundled_case_writes_the_opened_site(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('open_candidates = ["LAN-CAND-01"]\n', encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["whatif", str(LANCASHIRE), str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["scenario"]["opened_sites"] == ["LAN-CAND-01"]
    assert json.loads((out / "summary.json").read_text())["opened_sites"] == ["LAN-CAND-01"]
