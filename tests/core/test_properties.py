"""Property tests on random valid cases (tests/strategies.py):

(a) every solution passes the independent checker (allocator.checker);
(b) on tiny cases the solution's objective equals brute force over all allocations;
(c) on medium cases the min-cost-flow path, the CP-SAT model and HiGHS (scipy.optimize.milp,
    level by level) reach the same objective.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.checker import check_allocation
from allocator.options import SolveOptions
from allocator.solve import allocate
from data.loader import load_case
from data.outputs import allocation_files
from tests.conftest import REPO
from tests.core.helpers import objective_of
from tests.core.independent import brute_force, milp_levels
from tests.strategies import RandomCase, seeded_case, tiny_cases

LANCASHIRE_CASE = REPO / "data" / "lancashire" / "case"


@settings(max_examples=200)
@given(tiny_cases())
def test_every_solution_passes_the_checker_and_matches_brute_force(random_case: RandomCase) -> None:
    allocation = allocate(random_case.loaded(), SolveOptions(time_limit=10))
    assert check_allocation(random_case.case, random_case.travel(), allocation) == []
    assert allocation.summary.status.value == "optimal"
    assert objective_of(random_case, allocation) == brute_force(random_case)


@settings(max_examples=60)
@given(tiny_cases())
def test_cp_sat_model_matches_brute_force(random_case: RandomCase) -> None:
    allocation = allocate(random_case.loaded(), SolveOptions(time_limit=10, force_cp_sat=True))
    assert check_allocation(random_case.case, random_case.travel(), allocation) == []
    assert allocation.summary.status.value == "optimal"
    assert objective_of(random_case, allocation) == brute_force(random_case)


@st.composite
def medium_cases(draw: st.DrawFn) -> RandomCase:
    schools = draw(st.integers(5, 10))
    return seeded_case(
        seed=draw(st.integers(0, 2**31)),
        children=draw(st.integers(30, 80)),
        schools=schools,
        candidates=draw(st.integers(0, 3)),
        open_sites=draw(st.integers(0, 2)),
    )


@pytest.mark.slow
@settings(max_examples=30)
@given(medium_cases())
def test_flow_cp_sat_and_highs_agree_on_medium_cases(random_case: RandomCase) -> None:
    expected = milp_levels(random_case)
    for force_cp_sat in (False, True):
        allocation = allocate(random_case.loaded(), SolveOptions(time_limit=20, force_cp_sat=force_cp_sat))
        assert check_allocation(random_case.case, random_case.travel(), allocation) == []
        assert allocation.summary.status.value == "optimal"
        assert objective_of(random_case, allocation) == expected, f"force_cp_sat={force_cp_sat}"


def test_highs_agrees_with_brute_force_on_a_tiny_case() -> None:
    """The second solver itself is checked against brute force, so (c) compares two checked methods."""
    random_case = seeded_case(seed=7, children=7, schools=3, candidates=1, open_sites=1)
    assert milp_levels(random_case) == brute_force(random_case)


@settings(max_examples=10)
@given(medium_cases(), st.booleans())
def test_same_case_same_output_files(random_case: RandomCase, force_cp_sat: bool) -> None:
    options = SolveOptions(time_limit=20, force_cp_sat=force_cp_sat)
    first = allocation_files(allocate(random_case.loaded(), options))
    second = allocation_files(allocate(random_case.loaded(), options))
    assert first == second


@pytest.mark.slow
def test_bundled_lancashire_round_passes_the_checker_and_matches_highs() -> None:
    """The 600-child Lancashire round: the solution is valid and HiGHS finds the same optimum."""
    loaded = load_case(LANCASHIRE_CASE)
    random_case = RandomCase(loaded.case, {})  # the bundled case has no travel_times.csv
    assert not (LANCASHIRE_CASE / "travel_times.csv").exists()
    allocation = allocate(loaded)
    assert check_allocation(loaded.case, random_case.travel(), allocation) == []
    assert allocation.summary.status.value == "optimal"
    assert objective_of(random_case, allocation) == milp_levels(random_case)
