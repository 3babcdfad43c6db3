"""One tiny hand-checked case per eligibility rule (CONTRACT.md rules 1-4) and per level of
the default objective. Every solution is also held against allocator.checker."""

import pytest

from allocator.checker import check_allocation
from allocator.options import SolveOptions
from allocator.solve import allocate
from models.case import SchoolKind
from models.need import Need
from models.results import Allocation, UnplacedReason
from tests.core.helpers import child, make_case, objective_of, places, school
from tests.strategies import RandomCase


def solve(random_case: RandomCase, force_cp_sat: bool = False) -> Allocation:
    allocation = allocate(random_case.loaded(), SolveOptions(time_limit=10, force_cp_sat=force_cp_sat))
    assert check_allocation(random_case.case, random_case.travel(), allocation) == []
    return allocation


def where(allocation: Allocation) -> dict[str, str | None]:
    return {p.child_id: p.school_id for p in allocation.placements}


def reason(allocation: Allocation, child_id: str) -> UnplacedReason | None:
    return {p.child_id: p.reason for p in allocation.placements}[child_id]


SOLVERS = pytest.mark.parametrize("force_cp_sat", [False, True], ids=["flow", "cp_sat"])


# Rule 1: the school has places (> 0) for the child's need.
@SOLVERS
def test_rule_1_need(force_cp_sat: bool) -> None:
    case = make_case(
        [school("S1"), school("S2"), school("S3")],
        [places("S1", 1, Need.SEMH), places("S2", 0, Need.ASD), places("S3", 1, Need.ASD)],
        [child("K1", Need.ASD), child("K2", Need.SLD)],
    )
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": "S3", "K2": None}
    assert reason(allocation, "K2") == UnplacedReason.NO_ELIGIBLE_SCHOOL


# Rule 2: age_min <= age <= age_max, both ends inclusive.
@SOLVERS
def test_rule_2_age(force_cp_sat: bool) -> None:
    case = make_case(
        [school("S1", ages=(5, 11))],
        [places("S1", 4)],
        [child("K1", age=4), child("K2", age=5), child("K3", age=11), child("K4", age=12)],
    )
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": None, "K2": "S1", "K3": "S1", "K4": None}
    assert reason(allocation, "K1") == reason(allocation, "K4") == UnplacedReason.NO_ELIGIBLE_SCHOOL


# Rule 3: within the phase limit (primary when age <= 10), or ranked by the family.
@SOLVERS
def test_rule_3_travel_limit_by_phase(force_cp_sat: bool) -> None:
    case = make_case(
        [school("S1")],
        [places("S1", 5)],
        [child("K1", age=10), child("K2", age=10), child("K3", age=11), child("K4", age=11)],
        minutes={("K1", "S1"): 30, ("K2", "S1"): 31, ("K3", "S1"): 50, ("K4", "S1"): 51},
        limits=(30, 50),
    )
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": "S1", "K2": None, "K3": "S1", "K4": None}
    assert reason(allocation, "K2") == UnplacedReason.NO_ELIGIBLE_SCHOOL
    assert "31" in allocation.placements[1].explanation  # the minutes against the limit


@SOLVERS
def test_rule_3_ranked_school_is_reachable_whatever_the_travel(force_cp_sat: bool) -> None:
    case = make_case(
        [school("S1")],
        [places("S1", 1)],
        [child("K1", age=7)],
        ranks={("K1", "S1"): 2},
        minutes={("K1", "S1"): 200},
    )
    allocation = solve(case, force_cp_sat)
    placement = allocation.placements[0]
    assert (placement.school_id, placement.travel_minutes, placement.preference_rank) == ("S1", 200, 2)


@SOLVERS
def test_rule_3_travel_times_file_overrides_the_estimate(force_cp_sat: bool) -> None:
    far = school("S1").model_copy(update={"lat": 54.9})  # about 120 km north: estimate ~ 310 min
    near = school("S2")  # same point as the child: estimate 0 min
    case = make_case(
        [far, near],
        [places("S1", 1), places("S2", 1, Need.SEMH)],
        [child("K1", age=7), child("K2", Need.SEMH, age=7)],
        minutes={("K1", "S1"): 12, ("K2", "S2"): 90},
    )
    allocation = solve(case, force_cp_sat)
    rows = {p.child_id: (p.school_id, p.travel_minutes) for p in allocation.placements}
    assert rows == {"K1": ("S1", 12), "K2": (None, None)}
    assert reason(allocation, "K2") == UnplacedReason.NO_ELIGIBLE_SCHOOL


# Rule 4: a candidate site takes children only when the run opens it.
@SOLVERS
@pytest.mark.parametrize("open_sites", [0, 1])
def test_rule_4_candidate_site_only_if_opened(force_cp_sat: bool, open_sites: int) -> None:
    case = make_case([school("C1", kind=SchoolKind.CANDIDATE)], [places("C1", 1)], [child("K1")], open_sites=open_sites)
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": "C1" if open_sites else None}
    assert allocation.summary.opened_sites == (["C1"] if open_sites else [])
    if not open_sites:
        assert reason(allocation, "K1") == UnplacedReason.NO_ELIGIBLE_SCHOOL


@SOLVERS
def test_rule_4_at_most_open_sites_sites(force_cp_sat: bool) -> None:
    case = make_case(
        [school("C1", kind=SchoolKind.CANDIDATE), school("C2", kind=SchoolKind.CANDIDATE)],
        [places("C1", 1), places("C2", 2)],
        [child("K1"), child("K2"), child("K3")],
        open_sites=1,
    )
    allocation = solve(case, force_cp_sat)
    assert sorted(map(str, where(allocation).values())) == ["C2", "C2", "None"]
    assert allocation.summary.opened_sites == ["C2"]
    unplaced = [p for p in allocation.placements if p.school_id is None]
    assert [p.reason for p in unplaced] == [UnplacedReason.NO_PLACE_LEFT]


@SOLVERS
def test_locked_child_keeps_their_place(force_cp_sat: bool) -> None:
    case = make_case(
        [school("S1")],
        [places("S1", 1)],
        [child("K1", priority=2), child("K2", lock="S1")],
        minutes={("K2", "S1"): 300},  # a lock is kept even beyond the travel limit
    )
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": None, "K2": "S1"}
    assert reason(allocation, "K1") == UnplacedReason.NO_PLACE_LEFT
    assert allocation.summary.travel_minutes == 300


# Objective level 1: each tier from the highest down, before everything else.
@SOLVERS
def test_higher_tier_placed_first(force_cp_sat: bool) -> None:
    case = make_case(
        [school("S1")],
        [places("S1", 1)],
        [child("K1", priority=0), child("K2", priority=1)],
        ranks={("K1", "S1"): 1},
        minutes={("K1", "S1"): 1, ("K2", "S1"): 40},
    )
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": None, "K2": "S1"}
    assert reason(allocation, "K1") == UnplacedReason.NO_PLACE_LEFT
    assert allocation.summary.placed_by_priority == {"1": 1, "0": 0}


@SOLVERS
def test_tier_before_number_placed(force_cp_sat: bool) -> None:
    """Opening C2 places one priority-1 child; opening C1 would place two priority-0 children."""
    c1 = school("C1", kind=SchoolKind.CANDIDATE)
    c2 = school("C2", kind=SchoolKind.CANDIDATE)
    case = make_case(
        [c1, c2],
        [places("C1", 2, Need.SEMH), places("C2", 1, Need.ASD)],
        [child("K1", Need.SEMH), child("K2", Need.SEMH), child("K3", Need.ASD, priority=1)],
        open_sites=1,
    )
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": None, "K2": None, "K3": "C2"}
    assert allocation.summary.opened_sites == ["C2"]


@SOLVERS
def test_more_children_of_a_tier_before_preference(force_cp_sat: bool) -> None:
    case = make_case(
        [school("S1"), school("S2")],
        [places("S1", 1), places("S2", 1)],
        [child("K1"), child("K2", age=12)],
        ranks={("K1", "S1"): 1},
        minutes={("K2", "S2"): 99},  # K2 can only reach S1
    )
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": "S2", "K2": "S1"}


# Objective level 2: preference cost before travel.
@SOLVERS
def test_preference_cost_before_travel(force_cp_sat: bool) -> None:
    case = make_case(
        [school("S1"), school("S2")],
        [places("S1", 1), places("S2", 1)],
        [child("K1"), child("K2")],
        ranks={("K1", "S1"): 1, ("K2", "S1"): 2},
        minutes={("K1", "S1"): 40, ("K1", "S2"): 1, ("K2", "S1"): 1, ("K2", "S2"): 1},
    )
    allocation = solve(case, force_cp_sat)
    # K1 at S1 (1 + 10 = 11) beats K2 at S1 (2 + 10 = 12), though it adds 39 minutes.
    assert where(allocation) == {"K1": "S1", "K2": "S2"}
    assert objective_of(case, allocation) == ((0, 0, 2), 11, 41)


@SOLVERS
@pytest.mark.parametrize(("unranked_cost", "expected"), [(2, "S2"), (3, "S2"), (4, "S1")])
def test_unranked_cost_is_the_cost_of_an_unranked_school(force_cp_sat: bool, unranked_cost: int, expected: str) -> None:
    case = make_case(
        [school("S1"), school("S2")],
        [places("S1", 1), places("S2", 1)],
        [child("K1")],
        ranks={("K1", "S1"): 3},
        minutes={("K1", "S1"): 20, ("K1", "S2"): 10},
        unranked_cost=unranked_cost,
    )
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": expected}
    assert allocation.summary.preference_cost == min(3, unranked_cost)


# Objective level 3: travel minutes last.
@SOLVERS
def test_least_total_travel_last(force_cp_sat: bool) -> None:
    case = make_case(
        [school("S1"), school("S2")],
        [places("S1", 1), places("S2", 1)],
        [child("K1"), child("K2")],
        minutes={("K1", "S1"): 5, ("K1", "S2"): 10, ("K2", "S1"): 6, ("K2", "S2"): 30},
    )
    allocation = solve(case, force_cp_sat)
    # K1->S1, K2->S2 costs 35 minutes; K1->S2, K2->S1 costs 16.
    assert where(allocation) == {"K1": "S2", "K2": "S1"}
    assert allocation.summary.travel_minutes == 16


@SOLVERS
def test_a_lock_at_a_candidate_site_opens_it_and_counts_towards_open_sites(force_cp_sat: bool) -> None:
    case = make_case(
        [school("C1", kind=SchoolKind.CANDIDATE), school("C2", kind=SchoolKind.CANDIDATE)],
        [places("C1", 1), places("C2", 1, Need.SEMH)],
        [child("K1", lock="C1"), child("K2", Need.SEMH, priority=2)],
        open_sites=1,
    )
    allocation = solve(case, force_cp_sat)
    assert where(allocation) == {"K1": "C1", "K2": None}
    assert allocation.summary.opened_sites == ["C1"]
    assert reason(allocation, "K2") == UnplacedReason.NO_ELIGIBLE_SCHOOL
