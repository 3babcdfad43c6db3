"""The independent checker catches each kind of broken allocation (so that a passing
property test means something). Each test breaks one valid solution in one way."""

from collections.abc import Callable

import pytest

from allocator.checker import check_allocation
from allocator.options import SolveOptions
from allocator.solve import allocate
from models.case import SchoolKind
from models.need import Need
from models.results import Allocation, RunStatus, UnplacedReason
from tests.core.helpers import child, make_case, places, school

CASE = make_case(
    [
        school("S1", ages=(4, 11)),
        school("S2"),
        school("C1", kind=SchoolKind.CANDIDATE),
        school("C2", kind=SchoolKind.CANDIDATE),
    ],
    [places("S1", 1), places("S2", 1, Need.SEMH), places("C1", 1), places("C2", 1, Need.SLD)],
    [
        child("K1", priority=1),
        child("K2", lock="S1"),
        child("K3", Need.SEMH, age=12),
        child("K4"),
        child("K5", Need.PMLD),
        child("K6", Need.SLD),
    ],
    ranks={("K1", "C1"): 1},
    minutes={("K3", "S2"): 20},
    open_sites=1,
)


@pytest.fixture(scope="module")
def solution() -> Allocation:
    allocation = allocate(CASE.loaded())
    assert check_allocation(CASE.case, CASE.travel(), allocation) == []
    return allocation


def changed(allocation: Allocation, child_id: str, **update: object) -> Allocation:
    rows = tuple(p.model_copy(update=update) if p.child_id == child_id else p for p in allocation.placements)
    return allocation.model_copy(update={"placements": rows})


def summary_changed(allocation: Allocation, **update: object) -> Allocation:
    return allocation.model_copy(update={"summary": allocation.summary.model_copy(update=update)})


def test_the_solution_is_as_expected(solution: Allocation) -> None:
    where = {p.child_id: p.school_id for p in solution.placements}
    assert where == {"K1": "C1", "K2": "S1", "K3": "S2", "K4": None, "K5": None, "K6": None}
    assert solution.summary.opened_sites == ["C1"]


BREAKS: dict[str, tuple[Callable[[Allocation], Allocation], str]] = {
    "row missing": (lambda a: a.model_copy(update={"placements": a.placements[:-1]}), "one per child"),
    "rows swapped": (
        lambda a: a.model_copy(update={"placements": (a.placements[1], a.placements[0], *a.placements[2:])}),
        "order",
    ),
    "row repeated": (lambda a: a.model_copy(update={"placements": (*a.placements[:-1], a.placements[0])}), "repeated"),
    "rule 1": (lambda a: changed(a, "K5", school_id="S1", reason=None, explanation="", travel_minutes=0), "rule 1"),
    "rule 2": (lambda a: changed(a, "K3", school_id="S1", travel_minutes=0), "rule 2"),
    "rule 4": (lambda a: changed(a, "K6", school_id="C2", reason=None, explanation="", travel_minutes=0), "rule 4"),
    "over places": (lambda a: changed(a, "K4", school_id="S1", reason=None, explanation="", travel_minutes=0), "place"),
    "lock broken": (lambda a: changed(a, "K2", school_id="C1"), "locked"),
    "wrong minutes": (lambda a: changed(a, "K3", travel_minutes=19), "travel_minutes"),
    "wrong rank": (lambda a: changed(a, "K1", preference_rank=None), "preference_rank"),
    "wrong reason": (lambda a: changed(a, "K5", reason=UnplacedReason.NO_PLACE_LEFT), "expected no_eligible_school"),
    "no sentence": (lambda a: changed(a, "K4", explanation=" "), "without an explanation"),
    "names a child": (lambda a: changed(a, "K4", explanation="The place went to K1."), "another child 'K1'"),
    "placed count": (lambda a: summary_changed(a, placed=4), "summary placed"),
    "unplaced count": (lambda a: summary_changed(a, unplaced=2), "summary unplaced"),
    "tier counts": (lambda a: summary_changed(a, placed_by_priority={"1": 0, "0": 3}), "placed_by_priority"),
    "preference cost": (lambda a: summary_changed(a, preference_cost=1), "preference_cost"),
    "travel": (lambda a: summary_changed(a, travel_minutes=1), "travel_minutes"),
    "too many sites": (lambda a: summary_changed(a, opened_sites=["C1", "C2"]), "more than open_sites"),
    "site not listed": (lambda a: summary_changed(a, opened_sites=[]), "not in opened_sites"),
    "not a site": (lambda a: summary_changed(a, opened_sites=["C1", "S2"]), "not a candidate site"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_checker_catches(solution: Allocation, name: str) -> None:
    breaking, words = BREAKS[name]
    violations = check_allocation(CASE.case, CASE.travel(), breaking(solution))
    assert violations, name
    assert any(words in violation for violation in violations), violations


def test_checker_reason_depends_on_the_opened_sites(solution: Allocation) -> None:
    """K4 (ASD, 8) fits S1 (full: locked) and C1 (opened, taken by K1): no_place_left.
    Had C1 not been opened, S1 would still fit: a no_eligible_school there is wrong too."""
    wrong = changed(solution, "K4", reason=UnplacedReason.NO_ELIGIBLE_SCHOOL)
    violations = check_allocation(CASE.case, CASE.travel(), wrong)
    assert any("expected no_place_left (2 school(s)" in v for v in violations), violations
    without_c1 = summary_changed(changed(solution, "K1", school_id="S2"), opened_sites=[])
    assert any(
        "expected no_place_left (1 school(s)" in v
        for v in check_allocation(
            CASE.case, CASE.travel(), changed(without_c1, "K4", reason=UnplacedReason.NO_ELIGIBLE_SCHOOL)
        )
    )


@pytest.fixture(scope="module")
def cp_sat_solution() -> Allocation:
    """The same case through the CP-SAT model, which reports a proven value per level."""
    allocation = allocate(CASE.loaded(), SolveOptions(force_cp_sat=True, time_limit=20))
    assert allocation.summary.objective_bound  # every level is reported
    assert check_allocation(CASE.case, CASE.travel(), allocation) == []
    return allocation


@pytest.mark.parametrize(
    ("bounds", "gap", "expected"),
    [
        ({"placed_priority_1": 0.0}, 0.0, "objective_bound placed_priority_1 is 0.0, the allocation attains 1"),
        ({"travel_minutes": 999.0}, 0.0, "objective_bound travel_minutes is 999.0, the allocation attains"),
        ({"placed_children": 3.0}, 0.0, "names 'placed_children', which is not a level of the objective"),
        ({}, 1.5, "gap 1.5 is outside [0, 1]"),
    ],
)
def test_a_bound_the_allocation_beats_or_an_unknown_level_is_caught(
    cp_sat_solution: Allocation, bounds: dict[str, float], gap: float, expected: str
) -> None:
    broken = summary_changed(
        cp_sat_solution, objective_bound={**cp_sat_solution.summary.objective_bound, **bounds}, gap=gap
    )
    violations = check_allocation(CASE.case, CASE.travel(), broken)
    assert any(expected in v for v in violations), violations


def test_an_optimal_run_must_attain_its_reported_levels(cp_sat_solution: Allocation) -> None:
    # a placed bound above the value is fine for a `feasible` run, never for an `optimal` one
    loose = {**cp_sat_solution.summary.objective_bound, "placed_priority_1": 5.0}
    assert check_allocation(CASE.case, CASE.travel(), summary_changed(cp_sat_solution, objective_bound=loose)) != []
    feasible = summary_changed(cp_sat_solution, objective_bound=loose, status=RunStatus.FEASIBLE)
    assert check_allocation(CASE.case, CASE.travel(), feasible) == []
