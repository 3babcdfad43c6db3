"""The staged flow (tier counts by max flows, then one min-cost flow with the counts held) is
the contract's optimum: against brute force on tiny cases, against HiGHS level by level on a
case whose one-network weights really overflow int64, and the pool network staged as well."""

import numpy as np
import pytest
from hypothesis import given, settings

import allocator.flow
import allocator.solve
from allocator.flow import NewPlaces, assign, lexicographic_weights
from allocator.instance import build_instance
from allocator.objective import evaluate
from allocator.options import SolveOptions
from allocator.solve import allocate
from allocator.status import CostsTooLarge
from tests.core.helpers import objective_of
from tests.core.independent import brute_force, milp_levels
from tests.strategies import RandomCase, seeded_case, tiny_cases


def _fixed_sites(random_case: RandomCase) -> RandomCase:
    """The case with no candidate site to choose, so one flow is the whole answer."""
    policy = random_case.case.policy.model_copy(update={"open_sites": 0})
    return RandomCase(random_case.case.model_copy(update={"policy": policy}), random_case.given)


@settings(max_examples=150, deadline=None)
@given(tiny_cases())
def test_staged_flow_matches_brute_force(random_case: RandomCase) -> None:
    fixed = _fixed_sites(random_case)
    loaded = fixed.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    open_sites = np.zeros(instance.school_count, bool)
    open_sites[instance.locked_school[instance.locked_school >= 0]] = True
    staged = assign(instance, open_sites, staged=True)
    one = assign(instance, open_sites, staged=False)
    assert evaluate(instance, staged.chosen_pair) == evaluate(instance, one.chosen_pair)
    with pytest.MonkeyPatch.context() as patch:
        # the whole run, forced onto the staged path, equals brute force from the models
        patch.setattr(allocator.solve, "assign", _staged_assign)
        allocation = allocate(loaded)
    assert objective_of(fixed, allocation) == brute_force(fixed)
    if (staged.chosen_pair >= 0).any():  # a network was solved, and it was the staged one
        assert allocation.summary.solver == "min_cost_flow_staged"


_real_assign = assign


def _staged_assign(*args: object, **kwargs: object) -> allocator.flow.FlowAssignment:
    kwargs["staged"] = True
    return _real_assign(*args, **kwargs)  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(tiny_cases(max_children=5, max_schools=3))
def test_staged_pool_network_equals_the_one_network(random_case: RandomCase) -> None:
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    open_sites = np.ones(instance.school_count, bool)
    rng = np.random.default_rng(len(instance.pair_child))
    max_extra = rng.integers(0, 3, instance.bucket_school.size).astype(np.int64)
    base_free = np.maximum(instance.bucket_free - max_extra, 0)
    pool = NewPlaces(base_free, instance.bucket_free - base_free, int(rng.integers(0, 4)))
    for tie in (0, 1):
        one = assign(instance, open_sites, pool, tie=tie, staged=False)
        staged = assign(instance, open_sites, pool, tie=tie, staged=True)
        assert evaluate(instance, staged.chosen_pair) == evaluate(instance, one.chosen_pair)
        if tie:
            assert int(staged.new_places.sum()) == int(one.new_places.sum())
        assert (staged.new_places <= pool.max_extra).all() and int(staged.new_places.sum()) <= pool.budget


@pytest.mark.slow
def test_a_round_whose_weights_overflow_stays_an_exact_flow() -> None:
    # A large unranked cost makes BIG * tiers * nodes pass int64 on 1,500 children: the one
    # network refuses, the staged one solves it, and HiGHS level by level agrees.
    seeded = _fixed_sites(seeded_case(seed=11, children=1_500, schools=40, candidates=0, open_sites=0))
    policy = seeded.case.policy.model_copy(update={"unranked_cost": 10**7})
    heavy = RandomCase(seeded.case.model_copy(update={"policy": policy}), seeded.given)
    loaded = heavy.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    everything = np.ones(instance.school_count, bool)
    _, big, weight = lexicographic_weights(instance, instance.usable_pairs(everything))
    assert max(weight.values()) * (instance.child_count + instance.bucket_school.size + 2) >= 2**62
    with pytest.raises(CostsTooLarge):
        assign(instance, everything, staged=False)
    allocation = allocate(loaded, SolveOptions())
    assert allocation.summary.solver == "min_cost_flow_staged"
    assert allocation.summary.status.value == "optimal"
    assert objective_of(heavy, allocation) == milp_levels(heavy)
