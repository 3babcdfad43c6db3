"""Branch and bound over candidate sites (allocator.site_search) is exact: against brute force
over every allocation and every site set on tiny cases, against HiGHS level by level (built
from the models, not the solver's arrays) on medium ones, and against one flow per site set."""

import pytest
from hypothesis import given, settings

import allocator.solve
from allocator.instance import build_instance
from allocator.objective import evaluate
from allocator.options import SolveOptions
from allocator.site_choice import site_choice
from allocator.site_search import SOLVER, branch_and_bound
from allocator.solve import allocate, best_over_site_sets
from models.results import RunStatus
from tests.core.helpers import objective_of
from tests.core.independent import brute_force, milp_levels
from tests.strategies import RandomCase, seeded_case, tiny_cases


def _searched(random_case: RandomCase, monkeypatch: pytest.MonkeyPatch) -> object:
    """The whole run with site sets never enumerated (and the HiGHS shortcut off), so the
    branch and bound chooses the sites."""
    monkeypatch.setattr(allocator.solve, "_worth_enumerating", lambda *_: False)
    monkeypatch.setattr("allocator.facility.is_uncapacitated", lambda _: False)
    return allocate(random_case.loaded(), SolveOptions())


@settings(max_examples=150, deadline=None)
@given(tiny_cases(max_children=6, max_schools=5))
def test_branch_and_bound_matches_brute_force(random_case: RandomCase) -> None:
    with pytest.MonkeyPatch.context() as patch:
        allocation = _searched(random_case, patch)
    assert allocation.summary.status is RunStatus.OPTIMAL  # type: ignore[attr-defined]
    assert objective_of(random_case, allocation) == brute_force(random_case)  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_branch_and_bound_matches_highs_on_medium_cases(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    random_case = seeded_case(seed, children=60, schools=14, candidates=7, open_sites=3)
    allocation = _searched(random_case, monkeypatch)
    assert allocation.summary.solver == SOLVER  # type: ignore[attr-defined]
    assert allocation.summary.status is RunStatus.OPTIMAL  # type: ignore[attr-defined]
    assert objective_of(random_case, allocation) == milp_levels(random_case)  # type: ignore[arg-type]


@pytest.mark.slow
def test_branch_and_bound_equals_one_flow_per_site_set_on_a_county_case() -> None:
    random_case = seeded_case(3, children=400, schools=40, candidates=12, open_sites=3)
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    choice = site_choice(instance)
    assert choice.set_count > 64  # more sets than `allocator solve` would enumerate
    searched = branch_and_bound(instance, choice, time_limit=120)
    enumerated = best_over_site_sets(instance, choice)
    assert searched.status is RunStatus.OPTIMAL
    assert evaluate(instance, searched.chosen_pair) == evaluate(instance, enumerated.chosen_pair)
    # the same canonical answer, not only as good: the method chosen never changes the files
    assert (searched.open_sites == enumerated.open_sites).all()
    assert (searched.chosen_pair == enumerated.chosen_pair).all()


@settings(max_examples=150, deadline=None)
@given(tiny_cases(max_children=6, max_schools=6))
def test_branch_and_bound_returns_enumerations_answer_on_tiny_cases(random_case: RandomCase) -> None:
    """Tiny cases are full of ties between site sets: the search keeps the first best set in
    enumeration order, as one flow per set does, and the same flow for it."""
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    choice = site_choice(instance)
    searched = branch_and_bound(instance, choice, time_limit=60)
    enumerated = best_over_site_sets(instance, choice)
    assert searched.status is RunStatus.OPTIMAL
    assert (searched.open_sites == enumerated.open_sites).all()
    assert (searched.chosen_pair == enumerated.chosen_pair).all()


def test_many_site_sets_with_capacities_go_to_the_branch_and_bound_with_enumerations_files() -> None:
    random_case = seeded_case(3, children=300, schools=30, candidates=10, open_sites=3)
    loaded = random_case.loaded()
    searched = allocate(loaded, SolveOptions(), explain=True)
    enumerated = allocate(loaded, SolveOptions(enumerate_site_sets_up_to=10_000), explain=True)
    assert searched.summary.solver == SOLVER
    assert enumerated.summary.solver != SOLVER
    assert searched.placements == enumerated.placements
    assert searched.explanations == enumerated.explanations
    assert searched.summary.model_copy(update={"solver": "", "solve_seconds": 0}) == enumerated.summary.model_copy(
        update={"solver": "", "solve_seconds": 0}
    )


def test_a_search_stopped_at_once_is_feasible_never_optimal() -> None:
    random_case = seeded_case(5, children=300, schools=30, candidates=12, open_sites=3)
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    choice = site_choice(instance)
    stopped = branch_and_bound(instance, choice, time_limit=0.0)
    assert stopped.status is RunStatus.FEASIBLE and stopped.gap == 1.0
    # whatever it returns opens at most open_sites candidates and is never better than the optimum
    assert int((stopped.open_sites & instance.is_candidate).sum()) <= choice.open_limit
    best = branch_and_bound(instance, choice, time_limit=120)
    assert evaluate(instance, best.chosen_pair) <= evaluate(instance, stopped.chosen_pair)
