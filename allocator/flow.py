"""Exact allocation for a fixed set of open sites as one min-cost flow, optionally with a pool
of new places: one network builder for `allocator solve` and `allocator plan-places`.

Network: each unlocked child supplies one unit; arcs child -> bucket (capacity 1, cost
`K * (pref * A + minutes)`) for every usable pair, child -> sink (cost `K * W[tier]`, the child
stays unplaced), and bucket -> sink (capacity = places left after locks, cost 0). With a pool
of new places (`NewPlaces`): bucket -> pool (capacity = the bucket's `max_extra`, cost `tie`)
and pool -> sink (capacity = the budget N of new places, cost 0). Without a pool, K = 1.

Why one flow is lexicographically optimal: with A = 1 + sum over children of their largest
usable minutes, `pref * A + minutes` orders allocations by preference cost, then travel.
With BIG = 1 + sum over children of their largest such cost and W[tier] = BIG * (ordinal of
tier, 1 for the lowest), minimising cost maximises sum over placed children of
(W[tier] - secondary cost). The sets of children that can be placed together form a matroid
(a transversal matroid without a pool; with one, the sets of sources linkable into the sink
in a capacitated network, i.e. a gammoid once each arc of capacity c is split into c unit
paths: Mason 1972, Perfect 1968; the exchange axiom can be seen directly: if flows place S
and T with |T| > |S|, the difference of the two flows decomposes into paths and cycles in the
residual network of S's flow, and at least one path starts at a child of T \\ S and ends at
the sink; augmenting along it places S + that child). So the greedy (tier-by-tier) optimum
maximises, for every k, the number placed among the k highest tiers at once; any other set
loses at least BIG in the W part, more than the whole secondary range. Hence the flow optimum
is optimal in the contract's strict order.

With a pool, plans with at most N new places, each within max_extra, together with allocations
that fit them, are exactly the integral flows (a flow's plan is its flow on bucket -> pool;
conversely route a bucket's children first through bucket -> sink, the rest through the pool),
so minimising over flows minimises over (plan, allocation) jointly. Tie-break: with
K = (largest number of new places usable) + 1 and `tie` = 1, the extra cost is at most K - 1 < K,
the least difference between two different contract objectives, so among the contract-optimal
answers the flow uses the fewest new places; `tie` = 0 drops the tie-break (still optimal).

The weights are exact Python integers; when they would overflow the solver's int64 arithmetic
(checked here, and by the solver's own range check), `CostsTooLarge` sends the caller to the
CP-SAT model instead. Every other status is mapped by `allocator.status`.
"""

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from allocator.instance import Instance
from allocator.status import CostsTooLarge, check_flow_status
from data.arrays import BoolArray, IntArray

_SAFE_LIMIT = 2**62


@dataclass(frozen=True)
class NewPlaces:
    """A pool of at most `budget` new places: `max_extra[b]` at most at bucket b, whose places
    before any new one are `base_free[b]` (the instance's buckets hold base_free + max_extra)."""

    base_free: IntArray
    max_extra: IntArray
    budget: int

    def usable(self) -> int:
        return int(min(max(self.budget, 0), int(self.max_extra.sum())))


@dataclass(frozen=True)
class FlowAssignment:
    """Optimal `chosen_pair` per child (-1 unplaced or locked) and the new places each bucket uses."""

    chosen_pair: IntArray
    new_places: IntArray


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
    return assign(instance, open_sites).chosen_pair


def solve_flow_with_new_places(instance: Instance, open_sites: BoolArray, pool: NewPlaces) -> FlowAssignment:
    """Jointly optimal plan and allocation; fewest new places among optimal answers, unless the
    tie-break's scaling alone would overflow (then still contract-optimal, without it)."""
    try:
        return assign(instance, open_sites, pool, tie=1)
    except CostsTooLarge:
        return assign(instance, open_sites, pool, tie=0)


def assign(instance: Instance, open_sites: BoolArray, pool: NewPlaces | None = None, tie: int = 0) -> FlowAssignment:
    """The one network builder (see the module docstring); raises CostsTooLarge."""
    pairs = instance.usable_pairs(open_sites)
    bucket_count = instance.bucket_school.size
    chosen = np.full(instance.child_count, -1, np.int64)
    free = np.flatnonzero(instance.locked_school < 0)
    if pairs.size == 0 or free.size == 0:
        return FlowAssignment(chosen, np.zeros(bucket_count, np.int64))
    scale_a, _, weight = lexicographic_weights(instance, pairs)
    scale_k = pool.usable() + 1 if pool is not None and tie else 1
    n = instance.child_count
    buckets = n + np.arange(bucket_count)
    pool_node = n + bucket_count
    sink = pool_node + (1 if pool is not None else 0)
    node_count = sink + 1
    largest = max(weight.values()) * scale_k
    if largest * (node_count + 1) >= _SAFE_LIMIT:
        raise CostsTooLarge(f"largest arc cost {largest} with {node_count} nodes")

    secondary = (instance.pair_cost[pairs] * scale_a + instance.pair_minutes[pairs]) * scale_k
    unplaced_cost = np.array([weight[int(p)] * scale_k for p in instance.child_priority[free]], np.int64)
    tails = [instance.pair_child[pairs], free, buckets]
    heads = [n + instance.pair_bucket[pairs], np.full(free.size, sink), np.full(bucket_count, sink)]
    capacities = [np.ones(pairs.size, np.int64), np.ones(free.size, np.int64)]
    costs = [secondary, unplaced_cost, np.zeros(bucket_count, np.int64)]
    if pool is None:
        capacities.append(instance.bucket_free)
    else:
        capacities += [pool.base_free, pool.max_extra, np.array([max(pool.budget, 0)], np.int64)]
        tails += [buckets, np.array([pool_node])]
        heads += [np.full(bucket_count, pool_node), np.array([sink])]
        costs += [np.full(bucket_count, tie, np.int64), np.zeros(1, np.int64)]
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        *(np.concatenate(part).astype(np.int64) for part in (tails, heads, capacities, costs))
    )
    supplies = np.zeros(node_count, np.int64)
    supplies[free] = 1
    supplies[sink] = -free.size
    flow.set_nodes_supplies(np.arange(node_count), supplies)
    check_flow_status(flow.solve())
    used = flow.flows(np.arange(pairs.size)) > 0
    chosen[instance.pair_child[pairs[used]]] = pairs[used]
    return FlowAssignment(chosen, new_places_used(instance, chosen, pool))


def new_places_used(instance: Instance, chosen_pair: IntArray, pool: NewPlaces | None) -> IntArray:
    """New places per bucket an assignment needs: its children beyond the places before any new one."""
    load = np.bincount(instance.pair_bucket[chosen_pair[chosen_pair >= 0]], minlength=instance.bucket_school.size)
    base = pool.base_free if pool is not None else instance.bucket_free
    return np.maximum(load - base, 0).astype(np.int64)
