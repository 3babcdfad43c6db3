"""The 18-site estates case (data/lancashire/estates, issue 12): the generator rebuilds it byte
for byte from its sources; `allocator sites` ranks all 18 sites alone and chooses the best 2 and
3 jointly, proven optimal, and each choice equals brute force over every set of sites with flows
built from the contract's models (tests/estates/independent_flow.py); a rerun writes the same bytes."""

import csv
import importlib.util
import json
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import data
from cli.main import app
from data.loader import load_case
from models.case import SchoolKind
from tests.estates.independent_flow import IndependentRound, Value

LANCASHIRE = Path(data.__file__).parent / "lancashire"
ESTATES = LANCASHIRE / "estates"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_regenerating_the_estates_case_reproduces_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("lancashire_generate", LANCASHIRE / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, generate)  # dataclasses look their module up there
    spec.loader.exec_module(generate)
    monkeypatch.setattr(generate, "ESTATES_OUT", tmp_path)
    generate.main_estates()
    committed = {path.name: path.read_bytes() for path in ESTATES.iterdir()}
    assert sorted(committed) == ["children.csv", "places.csv", "policy.toml", "preferences.csv", "schools.csv"]
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == committed


def test_every_site_of_the_land_list_is_a_candidate_and_places_are_tight() -> None:
    listed = _rows(LANCASHIRE / "sources" / "lcc_candidate_sites_former_or_vacant.csv")
    schools = _rows(ESTATES / "schools.csv")
    candidates = [s for s in schools if s["kind"] == "candidate"]
    assert len(listed) == len(candidates) == 18
    where = sorted((round(float(s["lat"]), 6), round(float(s["lon"]), 6)) for s in candidates)
    assert where == sorted((round(float(s["lat"]), 6), round(float(s["lon"]), 6)) for s in listed)
    # The bundled case's schools, at the same places, are all there.
    bundled = {s["school_id"]: (s["name"], s["lat"], s["lon"]) for s in _rows(LANCASHIRE / "case" / "schools.csv")}
    here = {s["school_id"]: (s["name"], s["lat"], s["lon"]) for s in schools}
    assert all(here[school_id] == value for school_id, value in bundled.items())
    children = _rows(ESTATES / "children.csv")
    assert len(children) == 3000
    kind = {s["school_id"]: s["kind"] for s in schools}
    existing = sum(int(p["places"]) for p in _rows(ESTATES / "places.csv") if kind[p["school_id"]] != "candidate")
    assert existing == round(0.85 * len(children))
    assert "open_sites = 3" in (ESTATES / "policy.toml").read_text(encoding="utf-8")


def _run_sites(out: Path) -> dict[str, bytes]:
    result = CliRunner().invoke(app, ["sites", str(ESTATES), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def estates_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return _run_sites(tmp_path_factory.mktemp("estates") / "out")


@pytest.fixture(scope="module")
def independent() -> IndependentRound:
    return IndependentRound(load_case(ESTATES).case)


def _value_of(figures: dict[str, Any], tiers: list[int]) -> Value:
    by_tier = figures["placed_by_priority"]
    return Value(tuple((t, int(by_tier[str(t)])) for t in tiers), figures["preference_cost"], figures["travel_minutes"])


@pytest.mark.slow
def test_sites_ranks_all_18_and_chooses_2_and_3_jointly(estates_run: dict[str, bytes], tmp_path: Path) -> None:
    assert sorted(estates_run) == ["marginal.csv", "report.html", "sites.csv", "sites.json"]
    document = json.loads(estates_run["sites.json"])
    assert len(document["sites"]) == 18
    assert len({row["site_id"] for row in document["sites"]}) == 18
    assert [row["rank"] for row in document["sites"]] == list(range(1, 19))
    choices = {choice["size"]: choice for choice in document["joint_choices"]}
    assert sorted(choices) == [2, 3]
    for size, choice in choices.items():
        assert choice["status"] == "optimal"
        assert choice["solver"] == "min_cost_flow_branch_and_bound"
        assert len(choice["opened_sites"]) == size
        assert choice["note"] == ""
    assert document["joint_choice"]["opened_sites"] == choices[3]["opened_sites"]  # open_sites = 3
    # The report marks each chosen set on its own map, with the list of its sites beside it.
    page = estates_run["report.html"].decode()
    for size, choice in choices.items():
        assert f'<svg id="map-sites-{size}" data-chart="sites-choice-map"' in page
        chart = page[page.index(f'<svg id="map-sites-{size}"') :]
        chart = chart[: chart.index("</svg>")]
        marked = [part.split('"')[0] for part in chart.split('class="choice-site" data-site-id="')[1:]]
        chosen = [site for site in marked if f'data-site-id="{site}" data-in-set="true"' in chart]
        assert sorted(chosen) == sorted(choice["opened_sites"]) and len(marked) == 18
        listing = page[page.index(f'id="joint-choice-{size}-sites"') :]
        listing = listing[: listing.index("</ol>")]
        assert all(site in listing for site in choice["opened_sites"])
    # Same case, same options: the same bytes.
    assert _run_sites(tmp_path / "again") == estates_run


@pytest.mark.slow
def test_each_site_alone_matches_independent_flows(
    estates_run: dict[str, bytes], independent: IndependentRound
) -> None:
    document = json.loads(estates_run["sites.json"])
    assert _value_of(document["baseline"], independent.tiers) == independent.value(set())
    for row in document["sites"]:
        assert _value_of(row["figures"], independent.tiers) == independent.value({row["site_id"]}), row["site_id"]


@pytest.mark.slow
@pytest.mark.parametrize("size", [2, 3])
def test_joint_choices_equal_brute_force_over_every_set(
    size: int, estates_run: dict[str, bytes], independent: IndependentRound
) -> None:
    """C(18, 2) = 153 and C(18, 3) = 816 sets, one independent flow each (opening more sites never
    makes a level worse, so sets of exactly `size` sites cover every choice of up to `size`). Every
    set's placed-per-tier levels are solved; preference and travel only for the sets that tie
    with the best on those levels (a set worse on them cannot be the optimum)."""
    document = json.loads(estates_run["sites.json"])
    choice = next(c for c in document["joint_choices"] if c["size"] == size)
    sites = sorted(s.school_id for s in load_case(ESTATES).case.schools if s.kind == SchoolKind.CANDIDATE)
    tiers = {chosen: independent.placed_by_tier(set(chosen)) for chosen in combinations(sites, size)}
    assert len(tiers) == {2: 153, 3: 816}[size]
    most = max(tiers.values())
    values = {chosen: independent.value(set(chosen)) for chosen, placed in tiers.items() if placed == most}
    best = max(values.values(), key=Value.key)
    assert _value_of(choice, independent.tiers) == best
    # The sites it names give that value (a site that takes no child is not listed, so any
    # superset of its list with `size` sites must do).
    supersets = [chosen for chosen in tiers if set(choice["opened_sites"]) <= set(chosen)]
    assert supersets and all(chosen in values and values[chosen] == best for chosen in supersets)


def test_sites_that_cannot_be_opened_and_too_many_sites_are_results_with_sentences(tmp_path: Path) -> None:
    """On the estates case: a site with no places and a site no child can reach are ranked with a
    sentence each, not an error; open_sites and --together beyond the sites that can be opened open
    them all and say so."""
    case = tmp_path / "case"
    case.mkdir()
    for path in ESTATES.iterdir():
        (case / path.name).write_bytes(path.read_bytes())
    places = (case / "places.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (case / "places.csv").write_text("".join(r for r in places if not r.startswith("LAN-CAND-05,")), encoding="utf-8")
    schools = (case / "schools.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    far = [
        r.replace("53.744059,-2.406739", "55.900000,-1.500000") if r.startswith("LAN-CAND-18,") else r for r in schools
    ]
    assert far != schools
    (case / "schools.csv").write_text("".join(far), encoding="utf-8")
    policy = (case / "policy.toml").read_text(encoding="utf-8").replace("open_sites = 3", "open_sites = 25")
    (case / "policy.toml").write_text(policy, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sites", str(case), "--out", str(out), "--together", "20"])
    assert result.exit_code == 0, result.output
    document = json.loads((out / "sites.json").read_text(encoding="utf-8"))
    rows = {row["site_id"]: row for row in document["sites"]}
    assert len(rows) == 18
    assert rows["LAN-CAND-05"]["note"] == (
        "This site has no places for any need in places.csv, so opening it places no child."
    )
    assert rows["LAN-CAND-18"]["note"].startswith("No child could use this site")
    for site in ("LAN-CAND-05", "LAN-CAND-18"):
        assert rows[site]["placed_gain"] == 0 and rows[site]["children_newly_in_reach"] == 0
    assert all(row["note"] == "" for site, row in rows.items() if site not in ("LAN-CAND-05", "LAN-CAND-18"))
    joint = document["joint_choice"]
    assert joint["status"] == "optimal"
    assert joint["note"] == (
        "open_sites is 25, more than the 17 candidate sites that can be opened, so all 17 are opened "
        "(a site that takes no child is not listed as opened)."
    )
    assert "LAN-CAND-18" not in joint["opened_sites"] and "LAN-CAND-05" not in joint["opened_sites"]
    [together] = document["joint_choices"]
    assert together["size"] == 20 and together["note"].startswith("The best 20 sites together were asked for, more")
    assert together["opened_sites"] == joint["opened_sites"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "open_sites is 25, more than the 17 candidate sites" in page
    assert "This site has no places for any need in places.csv" in page


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2,x", "give whole numbers separated by commas"),
        ("0", "each size must be from 1 to 100"),
        ("2,2", "each size may be given once"),
        ("1,2,3,4,5,6", "at most 5 sizes"),
    ],
)
def test_a_bad_together_option_is_named_and_nothing_is_written(given: str, message: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sites", str(LANCASHIRE / "case"), "--out", str(out), "--together", given])
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())  # typer draws a box around the error
    assert "--together" in said and message in said
    assert "Traceback" not in result.output
    assert not out.exists()
