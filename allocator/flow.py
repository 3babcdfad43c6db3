"""Exact allocation for a fixed set of open sites as one min-cost flow.

Network: each unlocked child supplies one unit; arcs child -> bucket (capacity 1, cost
`pref * A + minutes`) for every usable pair, child -> sink (cost `W[tier]`, the child stays
unplaced), and bucket -> sink (capacity = places left after locks, cost 0).

Why one flow is lexicographically optimal: with A = 1 + sum over children of their largest
usable minutes, `pref * A + minutes` orders allocations by preference cost, then travel.
With BIG = 1 + sum over children of their largest such cost and W[tier] = BIG * (ordinal of
tier, 1 for the lowest), minimising cost maximises sum over placed children of
(W[tier] - secondary cost). The sets of children that can be placed together form a
transversal matroid, so the greedy (tier-by-tier) optimum maximises, for every k, the number
placed among the k highest tiers at once; any other set loses at least BIG in the W part,
more than the whole secondary range. Hence the flow optimum is optimal in the contract's
strict order. The weights are exact integers; when they would overflow the solver's int64
arithmetic, `CostsTooLarge` sends the caller to the CP-SAT model instead.
"""

import numpy as np
from ortools.graph.python import min_cost_flow

from allocator.instance import Instance
from data.arrays import BoolArray, IntArray

_SAFE_LIMIT = 2**62


class CostsTooLarge(Exception):
    """The lexicographic weights do not fit the flow solver's integer range."""


def lexicographic_weights(instance: Instance, pairs: IntArray) -> tuple[int, int, dict[int, int]]:
    """(A, BIG, W per tier) for the usable `pairs`, as exact Python integers."""
    n = instance.child_count
    minutes = instance.pair_minutes[pairs]
    children = instance.pair_child[pairs]
    largest_minutes = np.zeros(n, np.int64)
    np.maximum.at(largest_minutes, children, minutes)
    scale_a = int(largest_minutes.sum(dtype=object)) + 1
    secondary = instance.pair_cost[pairs].astype(object) * scale_a + minutes.astype(object)
    largest_secondary = np.zeros(n, dtype=object)
    np.maximum.at(largest_secondary, children, secondary)
    big = int(largest_secondary.sum()) + 1
    tiers = sorted(instance.tiers())
    return scale_a, big, {tier: big * (ordinal + 1) for ordinal, tier in enumerate(tiers)}


def solve_flow(instance: Instance, open_sites: BoolArray) -> IntArray:
    """Optimal `chosen_pair` per child (-1 unplaced or locked) for the given open sites."""
    pairs = instance.usable_pairs(open_sites)
    chosen = np.full(instance.child_count, -1, np.int64)
    free = np.flatnonzero(instance.locked_school < 0)
    if pairs.size == 0 or free.size == 0:
        return chosen
    scale_a, _, weight = lexicographic_weights(instance, pairs)
    n = instance.child_count
    bucket_count = instance.bucket_school.size
    sink = n + bucket_count
    node_count = sink + 1
    largest = max(weight.values())
    if largest * (node_count + 1) >= _SAFE_LIMIT:
        raise CostsTooLarge(f"largest arc cost {largest} with {node_count} nodes")

    secondary = instance.pair_cost[pairs] * scale_a + instance.pair_minutes[pairs]
    unplaced_cost = np.array([weight[int(p)] for p in instance.child_priority[free]], np.int64)
    tails = np.concatenate([instance.pair_child[pairs], free, n + np.arange(bucket_count)])
    heads = np.concatenate(
        [
            n + instance.pair_bucket[pairs],
            np.full(free.size, sink),
            np.full(bucket_count, sink),
        ]
    )
    capacities = np.concatenate(
        [
            np.ones(pairs.size, np.int64),
            np.ones(free.size, np.int64),
            instance.bucket_free,
        ]
    )
    costs = np.concatenate([secondary, unplaced_cost, np.zeros(bucket_count, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    supplies = np.zeros(node_count, np.int64)
    supplies[free] = 1
    supplies[sink] = -free.size
    flow.set_nodes_supplies(np.arange(node_count), supplies)
    status = flow.solve()
    if status == flow.BAD_COST_RANGE:
        raise CostsTooLarge("the flow solver's own range check refused the costs")
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    used = flow.flows(np.arange(pairs.size)) > 0
    chosen[instance.pair_child[pairs[used]]] = pairs[used]
    return chosen
