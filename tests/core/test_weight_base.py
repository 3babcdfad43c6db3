"""The counterfactuals' weights from `WeightBase` equal their definition computed pair by pair
(Python integers, as before), for any margin; the range check only tightens as the margin grows,
so a round out of range with no margin is out of range with any (allocator.residual)."""

import numpy as np
import pytest

from allocator.instance import Instance, build_instance
from allocator.residual import Weights, weight_base
from data.arrays import IntArray
from tests.strategies import seeded_case

EXACT = 2**53


def defined_weights(instance: Instance, pairs: IntArray, extra_minutes: int) -> Weights:
    """A = 1 + sum of each child's longest usable minutes + extra; BIG = 1 + sum of each child's
    largest pref * A + minutes + the worst preference cost * A + extra, pair by pair."""
    longest: dict[int, int] = {}
    for child, minutes in zip(instance.pair_child[pairs].tolist(), instance.pair_minutes[pairs].tolist(), strict=True):
        longest[child] = max(longest.get(child, 0), minutes)
    scale_a = sum(longest.values()) + 1 + extra_minutes
    largest: dict[int, int] = {}
    for child, cost, minutes in zip(
        instance.pair_child[pairs].tolist(),
        instance.pair_cost[pairs].tolist(),
        instance.pair_minutes[pairs].tolist(),
        strict=True,
    ):
        largest[child] = max(largest.get(child, 0), cost * scale_a + minutes)
    worst = max([instance.case.policy.unranked_cost, *instance.pair_cost[pairs].tolist()])
    big = sum(largest.values()) + 1 + worst * scale_a + extra_minutes
    return Weights(scale_a, big, tuple(sorted(instance.tiers())))


def _in_range(weights: Weights, instance: Instance) -> bool:
    largest = max(weights.unplaced_cost(max(weights.present)), weights.big)
    return largest * (instance.child_count + instance.bucket_school.size + 3) * 2 < EXACT


@pytest.mark.parametrize("children", [60, 400, 2_000])
def test_weights_equal_their_definition(children: int) -> None:
    loaded = seeded_case(seed=children, children=children, schools=30, candidates=4, open_sites=1).loaded()
    instance = build_instance(loaded.case, loaded.travel)
    rng = np.random.default_rng(children)
    verdicts = []
    for _ in range(3):
        open_sites = instance.is_candidate & (rng.random(instance.school_count) < 0.5)
        pairs = instance.usable_pairs(open_sites)
        base = weight_base(instance, pairs)
        for extra in (0, 1, 97, 5_000, 10**7, 10**12):
            weights = base.weights(extra)
            assert weights == defined_weights(instance, pairs, extra)
            assert base.in_range(extra) == _in_range(weights, instance)
            verdicts.append(base.in_range(extra))
        # out of range only grows with the margin
        flags = [base.in_range(extra) for extra in (0, 10, 10**4, 10**8, 10**12)]
        assert flags == sorted(flags, reverse=True)
    assert verdicts[0] and not verdicts[-1]  # both verdicts are checked


def test_no_usable_pair() -> None:
    loaded = seeded_case(seed=3, children=20, schools=5, candidates=1, open_sites=0).loaded()
    instance = build_instance(loaded.case, loaded.travel)
    pairs = np.zeros(0, np.int64)
    assert weight_base(instance, pairs).weights(7) == defined_weights(instance, pairs, 7)
