"""plan-places: the plan and the allocation are jointly optimal (against brute force over every
plan), within max_extra and N, and use the fewest new places among optimal answers."""

from itertools import product

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import allocator.flow
from allocator.estates.network import grow_case
from allocator.estates.plan import plan_places
from allocator.options import SolveOptions
from allocator.status import CostsTooLarge
from data.expansions import Expansion
from models.need import Need
from tests.core.helpers import child, make_case, objective_of, places, school
from tests.core.independent import brute_force
from tests.strategies import SMALL_NEEDS, RandomCase, tiny_cases


def _objective_key(objective: tuple[tuple[int, ...], int, int]) -> tuple[tuple[int, ...], int, int]:
    return tuple(-n for n in objective[0]), objective[1], objective[2]


def test_new_place_goes_where_a_child_is_waiting() -> None:
    # Two children need ASD near S1, which has one place; S2 is far away from both.
    case = make_case(
        [school("S1"), school("S2")],
        [places("S1", 1), places("S2", 1, Need.SEMH)],
        [child("K1"), child("K2", priority=1)],
        minutes={("K1", "S1"): 10, ("K2", "S1"): 20, ("K1", "S2"): 5, ("K2", "S2"): 5},
    )
    expansions = (
        Expansion(school_id="S1", need=Need.ASD, max_extra=3),
        Expansion(school_id="S2", need=Need.ASD, max_extra=3),
    )
    plan = plan_places(case.loaded(), expansions, 5)
    # Hand-checked: both children placed either way (preference cost 20); minutes: one new
    # place at S2 gives K1 -> S1 (10) + K2 -> S2 (5) = 15; two new places at S2 give 5 + 5 = 10,
    # the least; S1 places cannot beat 5 minutes. So two new ASD places at S2.
    assert [(p.school_id, p.need, p.extra_places) for p in plan.plan] == [("S2", Need.ASD, 2)]
    assert plan.allocation.summary.placed == 2
    assert plan.allocation.summary.travel_minutes == 10
    assert plan.allocation.summary.status.value == "optimal"


def test_no_new_place_when_none_helps() -> None:
    case = make_case([school("S1")], [places("S1", 2)], [child("K1")], minutes={("K1", "S1"): 3})
    plan = plan_places(case.loaded(), (Expansion(school_id="S1", need=Need.ASD, max_extra=3),), 3)
    assert plan.plan == ()


def test_zero_budget_changes_nothing() -> None:
    case = make_case(
        [school("S1")], [places("S1", 1)], [child("K1"), child("K2")], minutes={("K1", "S1"): 3, ("K2", "S1"): 4}
    )
    plan = plan_places(case.loaded(), (Expansion(school_id="S1", need=Need.ASD, max_extra=2),), 0)
    assert plan.plan == ()
    assert plan.allocation.summary.placed == 1


@st.composite
def planned_cases(draw: st.DrawFn) -> tuple[RandomCase, tuple[Expansion, ...], int]:
    random_case = draw(tiny_cases(max_children=5, max_schools=3))
    school_ids = [s.school_id for s in random_case.case.schools]
    keys = draw(st.lists(st.tuples(st.sampled_from(school_ids), st.sampled_from(SMALL_NEEDS)), unique=True, max_size=3))
    expansions = tuple(Expansion(school_id=s, need=n, max_extra=draw(st.integers(0, 2))) for s, n in keys)
    return random_case, expansions, draw(st.integers(0, 3))


@settings(max_examples=60)
@given(planned_cases())
def test_plan_is_jointly_optimal_against_brute_force(drawn: tuple[RandomCase, tuple[Expansion, ...], int]) -> None:
    random_case, expansions, budget = drawn
    plan = plan_places(random_case.loaded(), expansions, budget)
    limits = {(e.school_id, e.need): e.max_extra for e in expansions}
    chosen = {(p.school_id, p.need): p.extra_places for p in plan.plan}
    assert sum(chosen.values()) <= budget
    assert all(0 < count <= limits[key] for key, count in chosen.items())

    applied = RandomCase(grow_case(random_case.case, chosen), random_case.given)
    ours = objective_of(applied, plan.allocation)

    best_key = None
    fewest = None
    for counts in product(*(range(e.max_extra + 1) for e in expansions)):
        if sum(counts) > budget:
            continue
        extra = {(e.school_id, e.need): c for e, c in zip(expansions, counts, strict=True)}
        key = _objective_key(brute_force(RandomCase(grow_case(random_case.case, extra), random_case.given)))
        if best_key is None or key < best_key:
            best_key, fewest = key, sum(counts)
        elif key == best_key:
            fewest = min(fewest or 0, sum(counts))
    assert _objective_key(ours) == best_key
    assert sum(chosen.values()) == fewest


def _refuse(*_args: object) -> None:
    raise CostsTooLarge("refused by the test")


@settings(max_examples=25, deadline=None)
@given(planned_cases())
def test_plan_places_stays_an_exact_flow_when_every_cost_range_is_refused(
    drawn: tuple[RandomCase, tuple[Expansion, ...], int],
) -> None:
    # Once the new-places network did not hand over to CP-SAT as the plain flow did; now no flow
    # hands over at all: with every cost range refused, the levels are solved in turn (without
    # the fewest-new-places tie-break, which has no stage of its own). CP-SAT, forced, agrees.
    random_case, expansions, budget = drawn
    by_flow = plan_places(random_case.loaded(), expansions, budget)
    locked = sum(1 for c in random_case.case.children if c.locked_school_id is not None)
    assume(by_flow.allocation.summary.placed > locked)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocator.flow._Network, "check_range", _refuse)  # every network overflows
        in_turn = plan_places(random_case.loaded(), expansions, budget)
    by_cp_sat = plan_places(random_case.loaded(), expansions, budget, SolveOptions(time_limit=20, force_cp_sat=True))
    assert in_turn.allocation.summary.solver == "min_cost_flow_new_places_staged"
    assert by_cp_sat.allocation.summary.solver == "cp_sat"
    assert by_flow.allocation.summary.solver == "min_cost_flow_new_places"
    for other in (in_turn, by_cp_sat):
        assert other.allocation.summary.status.value == "optimal"
        flow_summary, summary = by_flow.allocation.summary, other.allocation.summary
        assert (summary.placed_by_priority, summary.preference_cost, summary.travel_minutes) == (
            flow_summary.placed_by_priority,
            flow_summary.preference_cost,
            flow_summary.travel_minutes,
        )
        assert sum(p.extra_places for p in other.plan) <= budget
    # the tie-break holds on the CP-SAT path: the fewest new places among optimal answers
    assert sum(p.extra_places for p in by_cp_sat.plan) == sum(p.extra_places for p in by_flow.plan)
