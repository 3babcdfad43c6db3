"""Issue 12, items 1 and 2: a fixed-site round split into independent parts (connected components
of children and buckets) is still the contract's optimum, and no fixed-site round leaves the flow
because of its weights: when even the staged costs would overflow, the preference and travel
levels are solved in turn (potentials of the preference stage). Checked against brute force from
the models on tiny cases and against HiGHS level by level (tests/core/independent.py)."""

import numpy as np
import pytest
from hypothesis import given, settings

import allocator.components
import allocator.flow
from allocator.components import parts
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
    policy = random_case.case.policy.model_copy(update={"open_sites": 0})
    return RandomCase(random_case.case.model_copy(update={"policy": policy}), random_case.given)


@settings(max_examples=120, deadline=None)
@given(tiny_cases())
def test_one_part_per_component_is_the_optimum(random_case: RandomCase) -> None:
    fixed = _fixed_sites(random_case)
    loaded = fixed.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocator.components, "PART_NODES", 0)  # every component its own part
        pairs = instance.usable_pairs(np.ones(instance.school_count, bool))
        split = parts(instance, pairs)
        # the parts partition the pairs, and no child or bucket is in two parts
        assert sorted(np.concatenate([p.pairs for p in split]).tolist()) == sorted(pairs.tolist())
        for name in ("children", "buckets"):
            joined = np.concatenate([getattr(p, name) for p in split])
            assert np.unique(joined).size == joined.size
        allocation = allocate(loaded)
    assert objective_of(fixed, allocation) == brute_force(fixed)


@settings(max_examples=120, deadline=None)
@given(tiny_cases())
def test_levels_in_turn_are_the_optimum_when_even_the_staged_costs_overflow(random_case: RandomCase) -> None:
    fixed = _fixed_sites(random_case)
    loaded = fixed.loaded()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocator.flow, "_SAFE_LIMIT", 0)  # every one network and staged network refused
        allocation = allocate(loaded)
    assert objective_of(fixed, allocation) == brute_force(fixed)
    assert allocation.summary.solver in {"min_cost_flow", "min_cost_flow_staged"}  # never CP-SAT
    if any(row.placed and not row.locked for row in allocation.placements):
        assert allocation.summary.solver == "min_cost_flow_staged"


@settings(max_examples=60, deadline=None)
@given(tiny_cases(max_children=5, max_schools=3))
def test_pool_network_in_turn_equals_the_one_network(random_case: RandomCase) -> None:
    loaded = random_case.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    open_sites = np.ones(instance.school_count, bool)
    rng = np.random.default_rng(len(instance.pair_child))
    max_extra = rng.integers(0, 3, instance.bucket_school.size).astype(np.int64)
    base_free = np.maximum(instance.bucket_free - max_extra, 0)
    pool = NewPlaces(base_free, instance.bucket_free - base_free, int(rng.integers(0, 4)))
    one = assign(instance, open_sites, pool, tie=0, staged=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocator.flow, "_SAFE_LIMIT", 0)
        if instance.usable_pairs(open_sites).size:  # a network to solve
            with pytest.raises(CostsTooLarge):  # the tie-break level has no in-turn stage...
                assign(instance, open_sites, pool, tie=1)
        in_turn = assign(instance, open_sites, pool, tie=0)  # ...without it, still exact
    assert evaluate(instance, in_turn.chosen_pair) == evaluate(instance, one.chosen_pair)
    assert (in_turn.new_places <= pool.max_extra).all() and int(in_turn.new_places.sum()) <= max(pool.budget, 0)


@pytest.mark.slow
def test_a_round_whose_one_network_overflows_is_solved_by_its_parts_unstaged() -> None:
    # The whole round's weights pass int64 (as in test_staged_flow.py); each need is its own
    # component, and each component's weights fit, so no part needs the staged network.
    seeded = _fixed_sites(seeded_case(seed=11, children=1_500, schools=40, candidates=0, open_sites=0))
    policy = seeded.case.policy.model_copy(update={"unranked_cost": 10**7})
    heavy = RandomCase(seeded.case.model_copy(update={"policy": policy}), seeded.given)
    loaded = heavy.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    everything = np.ones(instance.school_count, bool)
    _, _, weight = lexicographic_weights(instance, instance.usable_pairs(everything))
    assert max(weight.values()) * (instance.child_count + instance.bucket_school.size + 2) >= 2**62
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocator.components, "PART_NODES", 0)
        assert len(parts(instance, instance.usable_pairs(everything))) >= 4
        allocation = allocate(loaded, SolveOptions())
    assert allocation.summary.solver == "min_cost_flow"
    assert allocation.summary.status.value == "optimal"
    assert objective_of(heavy, allocation) == milp_levels(heavy)


def test_parts_are_the_same_on_every_run() -> None:
    seeded = _fixed_sites(seeded_case(seed=5, children=300, schools=20, candidates=0, open_sites=0))
    loaded = seeded.loaded()
    instance = build_instance(loaded.case, loaded.travel)
    pairs = instance.usable_pairs(np.ones(instance.school_count, bool))
    first, second = parts(instance, pairs), parts(instance, pairs.copy())
    assert [p.pairs.tolist() for p in first] == [p.pairs.tolist() for p in second]
    assert all(np.all(np.diff(p.pairs) > 0) for p in first)
