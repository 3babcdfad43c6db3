"""Candidate sites and marginal places: hand-checked tiny cases, and against brute force."""

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import data
from allocator.estates.files import MARGINAL_COLUMNS, sites_files
from allocator.estates.marginal import marginal_places
from allocator.estates.sites import evaluate_sites, site_row, sites_document, sites_section
from allocator.flow import solve_flow
from allocator.instance import NEEDS, build_instance
from allocator.objective import evaluate
from data.loader import load_case
from models.case import SchoolKind
from models.need import Need
from report.sites import sites_section_html
from tests.core.helpers import child, make_case, places, school
from tests.core.independent import brute_force
from tests.strategies import RandomCase, seeded_case, tiny_cases


def _two_sites() -> RandomCase:
    # S1 is full (1 place). Site N1 (2 places) is 10 min from K2 and K3; site N2 (1 place)
    # is 5 min from K2 only. K3 is beyond the limit from S1 and N2.
    return make_case(
        [school("S1"), school("N1", kind=SchoolKind.CANDIDATE), school("N2", kind=SchoolKind.CANDIDATE)],
        [places("S1", 1), places("N1", 2), places("N2", 1)],
        [child("K1"), child("K2"), child("K3")],
        minutes={
            ("K1", "S1"): 5,
            ("K2", "S1"): 30,
            ("K3", "S1"): 60,
            ("K1", "N1"): 40,
            ("K2", "N1"): 10,
            ("K3", "N1"): 10,
            ("K1", "N2"): 50,
            ("K2", "N2"): 5,
            ("K3", "N2"): 70,
        },
    )


def test_sites_ranked_by_the_contract_objective() -> None:
    report = evaluate_sites(_two_sites().loaded())
    # Baseline: K1 -> S1 only (K2 fits S1 too but S1 has one place; K1 at 5 min wins ties on
    # travel): 1 placed. N1 alone: K1 -> S1, K2 and K3 -> N1: 3 placed. N2 alone: K2 -> N2: 2.
    assert report.baseline.summary.placed == 1
    rows = [site_row(site, report.baseline, rank) for rank, site in enumerate(report.sites, start=1)]
    assert [(r["site_id"], r["placed"], r["placed_gain"]) for r in rows] == [("N1", 3, 2), ("N2", 2, 1)]
    # K3 had no school within the limit before; N1 brings them in reach, N2 does not.
    assert [r["children_newly_in_reach"] for r in rows] == [1, 0]
    assert rows[0]["travel_minutes"] == 5 + 10 + 10
    assert rows[0]["travel_saved_minutes"] == 5 - 25
    assert report.joint.summary.opened_sites == ["N1"]
    document = sites_document(report)
    joint = document["joint_choice"]
    assert isinstance(joint, dict)
    assert joint["placed"] == 3
    section = sites_section(report)
    sites = section["sites"]
    assert isinstance(sites, list)
    assert [s["site_id"] for s in sites] == ["N1", "N2"]


def test_marginal_place_hand_checked() -> None:
    report = evaluate_sites(_two_sites().loaded())
    by_bucket = {(m.school_id, m.need): m for m in report.marginal}
    # With N1 open all are placed: one more place at N1 lets nobody gain; S1 is full and
    # K2 (30 min) could go there: N1 10 -> S1 30 is worse, so no gain either.
    assert by_bucket[("S1", Need.ASD.value)].placed_gain == 0
    assert all(m.placed_gain == 0 for m in report.marginal)


def _without_candidates(random_case: RandomCase) -> RandomCase:
    schools = tuple(
        s.model_copy(update={"kind": SchoolKind.SPECIAL}) if s.kind == SchoolKind.CANDIDATE else s
        for s in random_case.case.schools
    )
    return RandomCase(random_case.case.model_copy(update={"schools": schools}), random_case.given)


@settings(max_examples=60)
@given(tiny_cases(max_children=5, max_schools=3))
def test_marginal_matches_brute_force(random_case: RandomCase) -> None:
    random_case = _without_candidates(random_case)
    report = evaluate_sites(random_case.loaded())
    base = brute_force(random_case)
    for marginal in report.marginal:
        offers = tuple(
            o.model_copy(update={"places": o.places + 1})
            if (o.school_id, o.need.value) == (marginal.school_id, marginal.need)
            else o
            for o in random_case.case.places
        )
        grown = brute_force(RandomCase(random_case.case.model_copy(update={"places": offers}), random_case.given))
        assert marginal.placed_gain == sum(grown[0]) - sum(base[0])
        assert marginal.preference_cost_saved == base[1] - grown[1]
        assert marginal.travel_saved_minutes == base[2] - grown[2]


@settings(max_examples=60)
@given(tiny_cases(max_children=5, max_schools=3))
def test_each_site_alone_matches_brute_force(random_case: RandomCase) -> None:
    case = random_case.case
    candidates = [s.school_id for s in case.schools if s.kind == SchoolKind.CANDIDATE]
    assume(not any(c.locked_school_id in candidates for c in case.children))
    report = evaluate_sites(random_case.loaded())
    assert len(report.sites) == len(candidates)
    for site in report.sites:
        # Only this candidate stays a candidate; the others lose their places.
        offers = tuple(
            o.model_copy(update={"places": 0}) if o.school_id in candidates and o.school_id != site.site_id else o
            for o in case.places
        )
        alone = case.model_copy(update={"places": offers, "policy": case.policy.model_copy(update={"open_sites": 1})})
        expected = brute_force(RandomCase(alone, random_case.given))
        assert site.summary.placed == sum(expected[0])
        assert (site.summary.preference_cost, site.summary.travel_minutes) == (expected[1], expected[2])
    values = [site.value for site in report.sites]
    assert values == sorted(values)


@settings(max_examples=10)
@given(st.integers(0, 10_000))
def test_marginal_shortcut_matches_full_re_solve(seed: int) -> None:
    """The one-pass residual shortest paths agree with one full flow per bucket."""
    random_case = seeded_case(seed, children=80, schools=8, candidates=0, open_sites=0)
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    open_sites = np.zeros(instance.school_count, bool)
    chosen = solve_flow(instance, open_sites)
    for marginal in marginal_places(instance, open_sites, chosen, evaluate(instance, chosen)):
        school_index = [s.school_id for s in loaded.case.schools].index(marginal.school_id)
        bucket = int(
            np.flatnonzero(
                (instance.bucket_school == school_index)
                & (instance.bucket_need == [n.value for n in NEEDS].index(marginal.need))
            )[0]
        )
        free = instance.bucket_free.copy()
        free[bucket] += 1
        grown = replace(instance, bucket_free=free)
        assert marginal.value == evaluate(grown, solve_flow(grown, open_sites))


def _two_sites_with_costs() -> RandomCase:
    # Place costs with pence, chosen so that the baseline (K1 at S1) and N2 alone (K1 at S1, K2 at
    # N2) cost exactly half a pound over a whole one: 23,700.50 + 9,800 transport = 33,500.50 and
    # 23,700.50 + 1,000 + 2 x 9,800 = 44,300.50. N1 alone: 23,700.50 + 2 x 24,000.25 + 3 x 9,800
    # = 101,101.00.
    random_case = _two_sites()
    costs = {"S1": 23_700.5, "N1": 24_000.25, "N2": 1_000.0}
    schools = tuple(
        s.model_copy(update={"annual_place_cost_gbp": costs[s.school_id]}) for s in random_case.case.schools
    )
    policy = random_case.case.policy.model_copy(update={"transport_cost_gbp": 9_800.0})
    return RandomCase(random_case.case.model_copy(update={"schools": schools, "policy": policy}), random_case.given)


def test_sites_money_in_whole_pounds() -> None:
    report = evaluate_sites(_two_sites_with_costs().loaded())
    assert report.baseline.summary.cost_gbp_year["total"] == 33_500.5
    # Halves go up (33,500.50 -> 33,501; 44,300.50 -> 44,301), and a saving is the difference of the
    # rounded costs: 33,501 - 101,101 and 33,501 - 44,301.
    expected = {"N1": (101_101, -67_600), "N2": (44_301, -10_800)}

    files = sites_files(report)
    rows = list(csv.DictReader(io.StringIO(files["sites.csv"])))
    assert {r["site_id"]: (r["cost_gbp_year"], r["cost_saved_gbp_year"]) for r in rows} == {
        site: (str(cost), str(saved)) for site, (cost, saved) in expected.items()
    }

    document = json.loads(files["sites.json"])
    for row in document["sites"]:
        assert (row["cost_gbp_year"], row["cost_saved_gbp_year"]) == expected[row["site_id"]]
        assert all(isinstance(v, int) for v in (row["cost_gbp_year"], row["cost_saved_gbp_year"]))
        assert row["figures"]["cost_gbp_year"]["total"] == expected[row["site_id"]][0]
    assert document["baseline"]["cost_gbp_year"] == {
        "places": 23_701,
        "places_without_cost_data": 0,
        "transport": 9_800,
        "total": 33_501,
    }
    assert document["joint_choice"]["cost_gbp_year"]["total"] == 101_101

    html = sites_section_html(_two_sites_with_costs().case, sites_section(report))
    for site, (cost, saved) in expected.items():
        row_html = re.search(rf'<tr data-site-id="{site}".*?</tr>', html)
        assert row_html is not None
        cells = re.findall(r'<td class="num">([^<]*)</td>', row_html.group(0))
        assert cells[-2:] == [f"£{cost:,}", f"-£{-saved:,}"]


PRIOR_MARGINAL_COLUMNS = ["school_id", "need", "places", "placed_gain", "preference_cost_saved", "travel_saved_minutes"]
README = Path(__file__).resolve().parents[2] / "README.md"


def test_marginal_csv_has_school_names() -> None:
    case_dir = Path(data.__file__).parent / "lancashire" / "case"
    report = evaluate_sites(load_case(case_dir))
    text = sites_files(report)["marginal.csv"]
    header, *rows = csv.reader(io.StringIO(text))
    assert header[:2] == ["school_id", "name"]
    assert [c for c in header if c in PRIOR_MARGINAL_COLUMNS] == PRIOR_MARGINAL_COLUMNS  # none removed or reordered
    with (case_dir / "schools.csv").open(encoding="utf-8", newline="") as handle:
        names = {row["school_id"]: row["name"] for row in csv.DictReader(handle)}
    assert len(rows) > 10
    assert all(row[1] == names[row[0]] for row in rows)
    assert len({row[0] for row in rows}) > 1
    document = json.loads(sites_files(report)["sites.json"])
    assert [(m["school_id"], m["name"]) for m in document["marginal_places"]] == [(r[0], r[1]) for r in rows]


def test_marginal_columns_are_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("- `marginal.csv`") :]
    section = section[: section.index("\n### ")]
    table = [line.strip() for line in section.splitlines() if line.strip().startswith("| `")]
    documented = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    assert [row[0].strip("`") for row in documented] == list(MARGINAL_COLUMNS)
    assert all(len(row) == 3 and row[1] and row[2] for row in documented)  # each with a unit and a meaning
