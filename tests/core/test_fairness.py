"""Fairness between districts (issue 9 items 2-3): the figures, the `[fairness]` rules against
brute force and HiGHS (tests/core/independent_fairness.py), the price of fairness re-solved,
and the command's contract (keys, byte-identical reruns, bad input)."""

import json
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.checker import check_allocation
from allocator.fair_flow import FAIR_SOLVER
from allocator.fairness import kolm_pollak_ede, kolm_pollak_kappa
from allocator.options import SolveOptions
from allocator.solve import allocate
from data.loader import load_case
from models.case import Case, FairnessRule
from models.need import Need
from models.results import Allocation
from tests.conftest import REPO, VALID_CASE, CliRunner, write_case
from tests.core.helpers import child, make_case, places, school
from tests.core.independent_fairness import (
    Travel,
    fair_brute_force,
    fair_milp_levels,
    kp_travel,
    objective_of,
)
from tests.strategies import RandomCase, seeded_case, tiny_cases

LANCASHIRE_CASE = REPO / "data" / "lancashire" / "case"
RULES = (
    FairnessRule(balance="districts"),
    FairnessRule(travel="kolm_pollak"),
    FairnessRule(balance="districts", travel="kolm_pollak"),
)


def with_rule(random_case: RandomCase, rule: FairnessRule, districts: list[str | None] | None = None) -> RandomCase:
    case = random_case.case
    children = case.children
    if districts is not None:
        children = tuple(c.model_copy(update={"district": d}) for c, d in zip(children, districts, strict=True))
    policy = case.policy.model_copy(update={"fairness": rule})
    return RandomCase(case.model_copy(update={"children": children, "policy": policy}), random_case.given)


def without_rule(random_case: RandomCase) -> RandomCase:
    return with_rule(random_case, FairnessRule())


def travel_level(random_case: RandomCase, allocation: Allocation) -> Travel:
    """Minutes, or kp with the kappa and C the run reports; the reported kappa is checked
    against the documented formula on the same case solved without the rule."""
    rule = random_case.case.policy.fairness
    if rule.travel != "kolm_pollak":
        return lambda minutes: minutes
    price = allocation.summary.price_of_fairness
    assert price is not None
    costs = price["kolm_pollak_costs"]
    plain = allocate(without_rule(random_case).loaded())
    minutes = [p.travel_minutes or 0 for p in plain.placements if p.placed]
    squares = sum(m * m for m in minutes)
    kappa = -sum(minutes) / squares if squares else 0.0
    assert costs["kappa"] == round(kappa, 8)
    return kp_travel(random_case, kappa, costs["scale"])


@st.composite
def fair_tiny_cases(draw: st.DrawFn) -> RandomCase:
    random_case = draw(tiny_cases(max_children=6, max_schools=3))
    names = [draw(st.sampled_from(["North", "South", None])) for _ in random_case.case.children]
    return with_rule(random_case, draw(st.sampled_from(RULES)), names)


@settings(max_examples=150)
@given(fair_tiny_cases())
def test_fairness_rules_match_brute_force(random_case: RandomCase) -> None:
    allocation = allocate(random_case.loaded())
    assert check_allocation(random_case.case, random_case.travel(), allocation) == []
    assert allocation.summary.status.value == "optimal"
    assert allocation.summary.solver == FAIR_SOLVER
    balance = random_case.case.policy.fairness.balance == "districts"
    travel = travel_level(random_case, allocation)
    assert objective_of(random_case, allocation, balance, travel) == fair_brute_force(random_case, balance, travel)


@settings(max_examples=40)
@given(fair_tiny_cases())
def test_price_of_fairness_is_the_same_case_solved_again_without_the_rule(random_case: RandomCase) -> None:
    fair = allocate(random_case.loaded())
    plain = allocate(without_rule(random_case).loaded())
    price = fair.summary.price_of_fairness
    assert price is not None and plain.summary.price_of_fairness is None
    before, after = plain.summary, fair.summary
    assert price["without_rule"]["preference_cost"] == before.preference_cost
    assert price["without_rule"]["travel_minutes"] == before.travel_minutes
    assert price["preference_cost"] == after.preference_cost - before.preference_cost
    assert price["travel_minutes"] == after.travel_minutes - before.travel_minutes
    gap_before = before.fairness["largest_placed_share_gap"]["value"]
    gap_after = after.fairness["largest_placed_share_gap"]["value"]
    assert price["largest_placed_share_gap"] == round(gap_after - gap_before, 4)
    # never fewer children of any tier placed
    assert after.placed_by_priority == before.placed_by_priority
    if random_case.case.policy.fairness.balance == "districts":
        assert price["largest_unplaced_share"] <= price["without_rule"]["largest_unplaced_share"]


@st.composite
def fair_medium_cases(draw: st.DrawFn) -> RandomCase:
    random_case = seeded_case(
        seed=draw(st.integers(0, 2**31)),
        children=draw(st.integers(30, 60)),
        schools=draw(st.integers(4, 8)),
        candidates=draw(st.integers(0, 2)),
        open_sites=draw(st.integers(0, 1)),
    )
    names = [draw(st.sampled_from(["A", "B", "C", None])) for _ in random_case.case.children]
    return with_rule(random_case, draw(st.sampled_from(RULES)), names)


@pytest.mark.slow
@settings(max_examples=12)
@given(fair_medium_cases())
def test_fairness_rules_match_highs_level_by_level(random_case: RandomCase) -> None:
    allocation = allocate(random_case.loaded())
    balance = random_case.case.policy.fairness.balance == "districts"
    travel = travel_level(random_case, allocation)
    assert objective_of(random_case, allocation, balance, travel) == fair_milp_levels(random_case, balance, travel)


def _lancashire(rule: FairnessRule) -> RandomCase:
    return with_rule(RandomCase(load_case(LANCASHIRE_CASE).case), rule)


@pytest.mark.slow
@pytest.mark.parametrize("rule", [RULES[0], RULES[2]], ids=["balance", "balance-and-kolm-pollak"])
def test_lancashire_fair_run_matches_highs(rule: FairnessRule) -> None:
    random_case = _lancashire(rule)
    allocation = allocate(random_case.loaded())
    assert allocation.summary.status.value == "optimal"
    travel = travel_level(random_case, allocation)
    expected = fair_milp_levels(random_case, True, travel)
    assert objective_of(random_case, allocation, True, travel) == expected
    price = allocation.summary.price_of_fairness
    assert price is not None and price["largest_unplaced_share"] == round(float(expected[1]), 4)


def test_balance_evens_out_districts_without_placing_fewer_urgent_children() -> None:
    """Two districts share one school of two places; North's three children are nearer. Without
    the rule both places go to North (South's children all unplaced); with it, one each."""
    s = school("S1")
    kids = [child("N1"), child("N2"), child("N3"), child("S1k"), child("S2k")]
    minutes = {("N1", "S1"): 5, ("N2", "S1"): 6, ("N3", "S1"): 7, ("S1k", "S1"): 30, ("S2k", "S1"): 31}
    base = make_case([s], [places("S1", 2)], kids, minutes=minutes)
    names: list[str | None] = ["North", "North", "North", "South", "South"]
    plain = allocate(with_rule(base, FairnessRule(), names).loaded())
    fair = allocate(with_rule(base, FairnessRule(balance="districts"), names).loaded())
    assert [p.school_id for p in plain.placements] == ["S1", "S1", None, None, None]
    assert [p.school_id for p in fair.placements] == ["S1", None, None, "S1", None]
    price = fair.summary.price_of_fairness
    assert price is not None
    assert price["travel_minutes"] == 30 - 6
    assert price["largest_unplaced_share"] == round(2 / 3, 4)
    assert price["without_rule"]["largest_unplaced_share"] == 1.0
    assert fair.summary.fairness["largest_placed_share_gap"] == {
        "value": round(1 / 2 - 1 / 3, 4),
        "highest": "South",
        "lowest": "North",
    }


def test_kolm_pollak_travel_prefers_two_middling_journeys_to_one_short_and_one_long() -> None:
    """Two children, two schools, one place each: total minutes tie (10 + 50 = 30 + 30), and the
    Kolm-Pollak level takes the even split."""
    schools = [school("A"), school("B")]
    kids = [child("K1"), child("K2")]
    minutes = {("K1", "A"): 10, ("K1", "B"): 30, ("K2", "A"): 30, ("K2", "B"): 50}
    base = make_case(schools, [places("A", 1), places("B", 1)], kids, minutes=minutes)
    fair = allocate(with_rule(base, FairnessRule(travel="kolm_pollak")).loaded())
    assert sorted(p.travel_minutes or 0 for p in fair.placements) == [30, 30]


def test_figures_by_district_and_need_from_a_hand_checked_round() -> None:
    schools = [school("A"), school("I").model_copy(update={"kind": "independent"})]
    kids = [child("K1"), child("K2"), child("K3", need=Need.SEMH), child("K4", age=12)]
    minutes = {("K1", "A"): 10, ("K2", "I"): 50, ("K2", "A"): 90, ("K4", "A"): 20, ("K1", "I"): 99}
    minutes |= {("K4", "I"): 99, ("K3", "A"): 1}
    base = make_case(schools, [places("A", 2), places("I", 1)], kids, ranks={("K2", "I"): 1}, minutes=minutes)
    run = allocate(with_rule(base, FairnessRule(), ["East", "East", "West", None]).loaded())
    assert [p.school_id for p in run.placements] == ["A", "I", None, "A"]
    figures = run.summary.fairness
    assert list(figures["by_district"]) == ["(not given)", "East", "West"]
    east = figures["by_district"]["East"]
    kappa = -(10 + 50 + 20) / (10**2 + 50**2 + 20**2)
    assert figures["kolm_pollak"] == {"aversion": -1.0, "kappa": round(kappa, 8)}
    ede = -(1 / kappa) * math.log((math.exp(-kappa * 10) + math.exp(-kappa * 50)) / 2)
    assert east == {
        "children": 2,
        "placed": 2,
        "placed_share": 1.0,
        "within_limit_share": 0.5,  # 50 minutes is over the primary limit of 45
        "mean_travel_minutes": 30.0,
        "p90_travel_minutes": 50,
        "independent_placements": 1,
        "kolm_pollak_ede_minutes": round(ede, 2),
    }
    assert figures["by_district"]["West"]["placed"] == 0
    assert figures["by_district"]["West"]["mean_travel_minutes"] is None
    assert figures["by_need"]["SEMH"]["placed_share"] == 0.0
    assert figures["overall"]["p90_travel_minutes"] == 50
    assert figures["largest_placed_share_gap"] == {"value": 1.0, "highest": "(not given)", "lowest": "West"}
    assert run.summary.price_of_fairness is None


@given(st.lists(st.integers(0, 600), min_size=1, max_size=40))
def test_kolm_pollak_ede_lies_between_the_mean_and_the_longest_journey(minutes: list[int]) -> None:
    kappa = kolm_pollak_kappa(minutes)
    ede = kolm_pollak_ede(minutes, kappa)
    mean = sum(minutes) / len(minutes)
    assert mean - 1e-9 <= ede <= max(minutes) + 1e-9
    if len(set(minutes)) == 1:
        assert ede == pytest.approx(minutes[0])


def _lancashire_with(tmp_path: Path, table: str) -> Path:
    folder = Path(shutil.copytree(LANCASHIRE_CASE, tmp_path / "case"))
    with (folder / "policy.toml").open("a", encoding="utf-8") as handle:
        handle.write(table)
    return folder


@pytest.mark.slow
def test_solve_writes_fairness_keys_and_reruns_byte_for_byte(run_cli: CliRunner, tmp_path: Path) -> None:
    case = _lancashire_with(tmp_path, '\n[fairness]\nbalance = "districts"\ntravel = "kolm_pollak"\n')
    outputs = []
    for name in ("one", "two"):
        result = run_cli("solve", case, "--out", tmp_path / name)
        assert result.returncode == 0, result.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())})
    assert outputs[0] == outputs[1]
    summary = json.loads(outputs[0]["summary.json"])
    assert summary["status"] == "optimal"
    assert set(summary["fairness"]) == {"overall", "by_district", "by_need", "largest_placed_share_gap", "kolm_pollak"}
    assert set(summary["fairness"]["by_district"]) == {c.district for c in load_case(case).case.children}
    assert set(summary["price_of_fairness"]) >= {"preference_cost", "travel_minutes", "largest_placed_share_gap"}


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('[fairness]\nbalance = "district"\n', "policy.toml:5: fairness.balance: 'district' is not one of 'districts'"),
        ('[fairness]\ntravel = "atkinson"\n', "policy.toml:5: fairness.travel: 'atkinson' is not one of 'kolm_pollak'"),
        ('[fairness]\nbalanse = "districts"\n', "policy.toml:5: fairness.balanse: unknown key"),
        ("fairness = 1\n", "policy.toml:4: fairness: must be a table of keys"),
    ],
)
def test_bad_fairness_table_exits_2_and_writes_nothing(
    run_cli: CliRunner, tmp_path: Path, table: str, expected: str
) -> None:
    files = dict(VALID_CASE)
    files["policy.toml"] = files["policy.toml"].replace("[max_travel_minutes]", table + "[max_travel_minutes]")
    case = write_case(tmp_path / "case", dict(files))
    result = run_cli("solve", case, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_too_many_site_choices_for_a_rule_is_a_problem_not_a_guess() -> None:
    random_case = seeded_case(seed=7, children=20, schools=6, candidates=3, open_sites=1)
    ruled = with_rule(random_case, FairnessRule(balance="districts"))
    from models.problems import CaseInvalid

    with pytest.raises(CaseInvalid) as raised:
        allocate(ruled.loaded(), SolveOptions(enumerate_site_sets_up_to=1, enumeration_work_limit=0))
    assert raised.value.lines() == [
        "policy.toml:0: fairness: a [fairness] rule needs every choice of candidate sites tried, and this round "
        "has 3 choices; lower open_sites or remove candidate sites"
    ]


def test_case_model_refuses_unknown_fairness_values() -> None:
    with pytest.raises(ValueError, match="districts"):
        Case.model_validate({"schools": [], "places": [], "children": [], "policy": {"fairness": {"balance": "x"}}})
