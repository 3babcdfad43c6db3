"""Issue 10, item 1: with every input within its limits, the travel minutes and costs derived from
them stay within the solvers' 64-bit range, so overflow can never reach a solver or an output.

The bounds, from the limits (README, "Limits on numbers and text"):
* a given figure is at most MAX_GIVEN_MINUTES; an estimate at most MAX_ESTIMATED_MINUTES (the
  longest geodesic, under 20,004 km, at 1 km/h and circuity 10: about 12 million minutes);
* a pair's preference cost is at most max(MAX_RANK, MAX_UNRANKED_COST) = 1,000;
* CP-SAT's level sums are at most pairs x 12 million: within 2**63 for up to 7 x 10**11 pairs,
  far more than memory holds;
* the min-cost flow's lexicographic weights grow with the square of the number of children: they
  are exact Python integers, checked against int64 before any is given to the solver
  (`allocator.flow`), and when they do not fit the staged network (costs of one pair, no weights)
  or CP-SAT takes over. The worst case below passes that check's edge and is still solved exactly.
"""

import numpy as np
import pytest

from allocator.checker import check_allocation, independent_travel
from allocator.flow import assign, lexicographic_weights
from allocator.instance import _minutes_lower_bound, build_instance
from allocator.options import SolveOptions
from allocator.solve import allocate
from allocator.status import CostsTooLarge
from data.loader import LoadedCase
from data.travel import MAX_ESTIMATED_MINUTES, TravelTable, estimate_minutes
from models.case import (
    MAX_CIRCUITY,
    MAX_GBP,
    MAX_GIVEN_MINUTES,
    MAX_LIMIT_MINUTES,
    MAX_RANK,
    MAX_UNRANKED_COST,
    MIN_SPEED_KMH,
    Case,
    Child,
    PlaceOffer,
    Policy,
    Preference,
    School,
    TravelEstimate,
    TravelLimits,
)
from models.need import Need

INT64 = 2**63 - 1
SLOWEST = TravelEstimate(speed_kmh=MIN_SPEED_KMH, circuity=MAX_CIRCUITY)


def test_the_longest_estimate_is_bounded() -> None:
    rng = np.random.default_rng(10)
    lat = rng.uniform(-90, 90, 20_000)
    lon = rng.uniform(-180, 180, 20_000)
    # antipodes, poles, and points on the equator half a world apart (joined over a pole)
    from_lat = np.concatenate([lat, [90.0, 0.0, 0.0, 89.999]])
    from_lon = np.concatenate([lon, [0.0, 0.0, 90.0, 0.0]])
    to_lat = np.concatenate([-lat, [-90.0, 0.0, 0.0, -89.999]])
    to_lon = np.concatenate([(lon + 360) % 360 - 180, [0.0, 180.0, -90.0, 180.0]])
    minutes = estimate_minutes(from_lat, from_lon, to_lat, to_lon, SLOWEST)
    assert int(minutes.max()) <= MAX_ESTIMATED_MINUTES
    assert int(minutes.max()) > 0.999 * MAX_ESTIMATED_MINUTES  # the bound is nearly attained
    homes, schools = np.column_stack([from_lat, from_lon]), np.column_stack([to_lat, to_lon])
    bound = _minutes_lower_bound(homes, schools, Policy(travel_estimate=SLOWEST))
    assert int(bound.max()) <= MAX_ESTIMATED_MINUTES
    assert MAX_GIVEN_MINUTES < MAX_ESTIMATED_MINUTES < 2**31


def test_every_solver_level_sum_fits_int64_for_any_case_memory_holds() -> None:
    largest_pair_minutes = max(MAX_GIVEN_MINUTES, MAX_ESTIMATED_MINUTES)
    largest_pair_cost = max(MAX_RANK, MAX_UNRANKED_COST)
    pairs = 10**9  # 10 bytes a pair would already be 10 GB
    assert pairs * largest_pair_minutes < INT64
    assert pairs * largest_pair_cost < INT64
    # costs are summed as decimals (summary.json): a billion placements at the largest costs stay exact
    assert float(pairs * 2 * MAX_GBP) == pairs * 2 * MAX_GBP


def _worst_case(children: int) -> LoadedCase:
    """Every child at the South Pole, every school at the North Pole, reachable only because the
    family ranked it (ranks up to 1,000), the slowest estimate, the largest unranked cost and
    limits, the largest place cost and transport cost, and fewer places than children."""
    schools = tuple(
        School(
            school_id=f"S{index}",
            name=f"North {index}",
            lat=90.0,
            lon=float(index),
            age_min=0,
            age_max=25,
            annual_place_cost_gbp=float(MAX_GBP),
        )
        for index in range(3)
    )
    kids = tuple(
        Child(child_id=f"K{index}", need=Need.ASD, age=index % 26, lat=-90.0, lon=0.0, priority=(index % 3) * 50)
        for index in range(children)
    )
    preferences = tuple(
        Preference(child_id=kid.child_id, school_id=school.school_id, rank=MAX_RANK - offset)
        for kid in kids
        for offset, school in enumerate(schools)
    )
    places = tuple(PlaceOffer(school_id=school.school_id, need=Need.ASD, places=children // 6) for school in schools)
    policy = Policy(
        open_sites=0,
        unranked_cost=MAX_UNRANKED_COST,
        max_travel_minutes=TravelLimits(primary=MAX_LIMIT_MINUTES, secondary=MAX_LIMIT_MINUTES),
        travel_estimate=SLOWEST,
        transport_cost_gbp=float(MAX_GBP),
    )
    case = Case(schools=schools, places=places, children=kids, preferences=preferences, policy=policy)
    return LoadedCase(case, TravelTable.empty(len(schools)), "0" * 64)


def test_the_worst_case_within_the_limits_cannot_overflow_the_flow() -> None:
    loaded = _worst_case(600)
    instance = build_instance(loaded.case, loaded.travel)
    assert int(instance.pair_minutes.max()) <= MAX_ESTIMATED_MINUTES
    assert int(instance.pair_minutes.min()) > 12_000_000  # pole to pole at 1 km/h, 10 times round about
    assert int(instance.pair_cost.max()) <= max(MAX_RANK, MAX_UNRANKED_COST)
    everything = np.ones(instance.school_count, bool)
    _, _, weight = lexicographic_weights(instance, instance.usable_pairs(everything))
    nodes = instance.child_count + instance.bucket_school.size + 2
    assert max(weight.values()) * nodes > 2**62  # one network's weights would pass int64's range...
    with pytest.raises(CostsTooLarge):  # ...and are refused before any reaches the solver
        assign(instance, everything, staged=False)
    staged = allocate(loaded)
    assert staged.summary.solver == "min_cost_flow_staged"
    assert staged.summary.status.value == "optimal"
    cp_sat = allocate(loaded, SolveOptions(force_cp_sat=True, time_limit=60))
    assert cp_sat.summary.solver == "cp_sat" and cp_sat.summary.status.value == "optimal"
    by_level = [
        (a.summary.placed_by_priority, a.summary.preference_cost, a.summary.travel_minutes) for a in (staged, cp_sat)
    ]
    assert by_level[0] == by_level[1]
    assert staged.summary.travel_minutes > 300 * 12_000_000  # summed exactly, no wrap-around
    assert check_allocation(loaded.case, independent_travel(loaded.case, {}), staged) == []
    placed = staged.summary.placed
    assert placed == 300
    assert staged.summary.cost_gbp_year["total"] == 2 * placed * MAX_GBP
