"""Site choice at scale: the HiGHS facility-location model against brute force, and the
OR-Library reader (a repeated edge keeps its last cost) on pmed1's published optimum."""

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from allocator.facility import is_uncapacitated, solve_facility_location
from allocator.instance import build_instance
from allocator.objective import evaluate
from allocator.options import SolveOptions
from allocator.site_choice import site_choice
from bench import orlib
from data.loader import load_case
from models.results import RunStatus
from tests.core.independent import brute_force
from tests.strategies import RandomCase, tiny_cases


def _solve(folder: Path) -> tuple[int, bool]:
    loaded = load_case(folder)
    instance = build_instance(loaded.case, loaded.travel)
    result = solve_facility_location(instance, site_choice(instance), SolveOptions())
    return evaluate(instance, result.chosen_pair).travel_minutes, result.status is RunStatus.OPTIMAL


@settings(max_examples=15)
@given(st.integers(0, 10_000), st.integers(6, 11), st.integers(1, 4))
def test_p_median_matches_brute_force(tmp_path_factory: pytest.TempPathFactory, seed: int, n: int, p: int) -> None:
    rng = np.random.default_rng(seed)
    distance = rng.integers(1, 60, size=(n, n))
    distance = np.minimum(distance, distance.T)
    np.fill_diagonal(distance, 0)
    instance = orlib.PMedianInstance("random", p, distance.astype(np.int64))
    folder = orlib.write_case(instance, tmp_path_factory.mktemp("pmed"))
    best = min(int(distance[:, list(sites)].min(axis=1).sum()) for sites in combinations(range(n), p))
    assert _solve(folder) == (best, True)


@settings(max_examples=80)
@given(tiny_cases(max_children=5, max_schools=4))
def test_uncapacitated_cases_match_brute_force(random_case: RandomCase) -> None:
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    assume(is_uncapacitated(instance))
    choice = site_choice(instance)
    forced = choice.forced
    result = solve_facility_location(instance, choice, SolveOptions())
    value = evaluate(instance, result.chosen_pair)
    by_tier = value.placed_by_tier(instance.tiers())
    ours = (tuple(by_tier.get(t, 0) for t in (2, 1, 0)), value.preference_cost, value.travel_minutes)
    assert result.status is RunStatus.OPTIMAL
    assert ours == brute_force(random_case)
    assert int((result.open_sites & instance.is_candidate).sum()) <= max(
        loaded.case.policy.open_sites, int(forced.sum())
    )


def test_pmed1_last_edge_wins_and_optimum_reproduced(tmp_path: Path) -> None:
    instance = orlib.read_pmed(orlib.ORLIB / "pmed" / "pmed1.txt")
    assert instance.distance.shape == (100, 100) and instance.p == 5
    assert (instance.distance == instance.distance.T).all()
    folder = orlib.write_case(instance, tmp_path / "pmed1")
    assert _solve(folder) == (orlib.published_optima()["pmed1"], True)
    assert orlib.published_optima()["pmed1"] == 5819


def test_a_facility_run_stopped_at_its_limit_is_repeatable(tmp_path: Path) -> None:
    # A random 40-site p-median that HiGHS proves after 7 branch-and-bound nodes: a limit of
    # 0.5 s is a budget of 2 nodes (allocator.facility.NODES_PER_SECOND), so every run stops at
    # the same node, whatever the machine's load, and reports the same allocation, bound and gap.
    rng = np.random.default_rng(1)
    distance = rng.integers(1, 60, size=(40, 40))
    distance = np.minimum(distance, distance.T)
    np.fill_diagonal(distance, 0)
    folder = orlib.write_case(orlib.PMedianInstance("branching", 4, distance.astype(np.int64)), tmp_path / "case")
    loaded = load_case(folder)
    instance = build_instance(loaded.case, loaded.travel)
    assert is_uncapacitated(instance)
    proven = solve_facility_location(instance, site_choice(instance), SolveOptions())
    assert proven.status is RunStatus.OPTIMAL
    stopped = [solve_facility_location(instance, site_choice(instance), SolveOptions(time_limit=0.5)) for _ in range(3)]
    for run in stopped:
        assert run.status is RunStatus.FEASIBLE and 0.0 < run.gap <= 1.0
        assert run.bounds == stopped[0].bounds and run.gap == stopped[0].gap
        assert np.array_equal(run.chosen_pair, stopped[0].chosen_pair)
        assert np.array_equal(run.open_sites, stopped[0].open_sites)
        assert evaluate(instance, run.chosen_pair) >= evaluate(instance, proven.chosen_pair)
