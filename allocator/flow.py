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

The weights are exact Python integers. When W would overflow the solver's int64 arithmetic
(W grows with the number of children times their largest costs: a national round of 150,000
children is past it), the same network is solved in stages, with no W at all:

Stage 1. Let T_k be the children of the k highest tiers. The most of them that can be placed
together is the rank r(T_k) of the matroid above: one max flow from a source with an arc of
capacity 1 to each child of T_k. The greedy basis (highest tier first) attains every r(T_k) at
once, so the lexicographically largest numbers placed per tier are c_k = r(T_k) - r(T_{k-1}),
and an allocation is optimal in level 1 of the contract exactly when it places c_k children of
each tier k.
Stage 2. One source per tier supplies exactly c_k units, with an arc of capacity 1 to each of
its children, and the rest of the network is as above with costs `K * (pref * A + minutes)`
(and `tie` into the pool). Its integral flows are exactly the allocations placing c_k children
of every tier, so its min-cost flow is the least preference cost, then travel (then new places),
among the allocations that are optimal in level 1: the contract's optimum. Its costs are
bounded by the largest pair cost, not by BIG.

Only when even the staged costs would overflow (checked here, and by the solver's own range
check) does `CostsTooLarge` send the caller to the CP-SAT model. Every other status is mapped by
`allocator.status`.
"""

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from allocator.instance import Instance
from allocator.status import CostsTooLarge, SolverFailure, check_flow_status
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
    staged: bool = False  # solved by the staged networks (the one network's weights overflowed)


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


def assign(
    instance: Instance,
    open_sites: BoolArray,
    pool: NewPlaces | None = None,
    tie: int = 0,
    staged: bool | None = None,
) -> FlowAssignment:
    """The one network builder (see the module docstring). `staged=None` solves one network
    and, when its weights would overflow, the staged one; True or False forces either.
    Raises CostsTooLarge when even the staged network's costs do not fit."""
    pairs = instance.usable_pairs(open_sites)
    chosen = np.full(instance.child_count, -1, np.int64)
    free = np.flatnonzero(instance.locked_school < 0)
    if pairs.size == 0 or free.size == 0:
        return FlowAssignment(chosen, np.zeros(instance.bucket_school.size, np.int64))
    network = _Network(instance, pairs, pool)
    if staged is not True:
        try:
            used = _one_network(network, free, tie)
        except CostsTooLarge:
            if staged is False:
                raise
        else:
            chosen[instance.pair_child[pairs[used]]] = pairs[used]
            return FlowAssignment(chosen, new_places_used(instance, chosen, pool))
    used = _staged(network, free, tie)
    chosen[instance.pair_child[pairs[used]]] = pairs[used]
    return FlowAssignment(chosen, new_places_used(instance, chosen, pool), staged=True)


class _Network:
    """Nodes: children 0..n-1, buckets n..n+B-1, the pool (when given), the sink; arcs in this
    order: child -> bucket (one per usable pair), bucket -> sink, and with a pool bucket -> pool
    and pool -> sink. Callers add their own arcs from children (or tier sources) after these."""

    def __init__(self, instance: Instance, pairs: IntArray, pool: NewPlaces | None) -> None:
        self.instance, self.pairs, self.pool = instance, pairs, pool
        n, bucket_count = instance.child_count, instance.bucket_school.size
        buckets = n + np.arange(bucket_count)
        pool_node = n + bucket_count
        self.sink = pool_node + (1 if pool is not None else 0)
        self.tails = [instance.pair_child[pairs], buckets]
        self.heads = [n + instance.pair_bucket[pairs], np.full(bucket_count, self.sink)]
        self.capacities = [np.ones(pairs.size, np.int64)]
        if pool is None:
            self.capacities.append(instance.bucket_free)
        else:
            self.capacities += [pool.base_free, pool.max_extra, np.array([max(pool.budget, 0)], np.int64)]
            self.tails += [buckets, np.array([pool_node])]
            self.heads += [np.full(bucket_count, pool_node), np.array([self.sink])]

    def largest_secondary(self, scale_a: int, scale_k: int) -> int:
        """The largest pair cost below, as an exact integer (checked before any int64 arithmetic)."""
        instance, pairs = self.instance, self.pairs
        return (int(instance.pair_cost[pairs].max()) * scale_a + int(instance.pair_minutes[pairs].max())) * scale_k

    def costs(self, scale_a: int, scale_k: int, tie: int) -> list[IntArray]:
        """Unit costs of the arcs above: `K * (pref * A + minutes)` per pair, `tie` into the pool.
        Call only once `largest_secondary` is known to fit."""
        instance, pairs = self.instance, self.pairs
        secondary = (instance.pair_cost[pairs] * scale_a + instance.pair_minutes[pairs]) * scale_k
        costs = [secondary, np.zeros(instance.bucket_school.size, np.int64)]
        if self.pool is not None:
            costs += [np.full(instance.bucket_school.size, tie, np.int64), np.zeros(1, np.int64)]
        return costs

    def scale_k(self, tie: int) -> int:
        return self.pool.usable() + 1 if self.pool is not None and tie else 1

    def check_range(self, largest: int, extra_nodes: int) -> None:
        """Costs up to `largest` over this network's nodes (and `extra_nodes` more) fit int64 sums."""
        node_count = self.sink + 1 + extra_nodes
        if largest * (node_count + 1) >= _SAFE_LIMIT:
            raise CostsTooLarge(f"largest arc cost {largest} with {node_count} nodes")

    def min_cost_flow(
        self, tails: IntArray, heads: IntArray, costs: list[IntArray], supplies: dict[int, int]
    ) -> IntArray:
        """Solve with the extra arcs (capacity 1) and node supplies; the flow on each pair arc."""
        node_count = max(self.sink, int(tails.max(initial=0)), int(heads.max(initial=0)), *supplies) + 1
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            np.concatenate([*self.tails, tails]).astype(np.int64),
            np.concatenate([*self.heads, heads]).astype(np.int64),
            np.concatenate([*self.capacities, np.ones(tails.size, np.int64)]).astype(np.int64),
            np.concatenate(costs).astype(np.int64),
        )
        node_supplies = np.zeros(node_count, np.int64)
        for node, supply in supplies.items():
            node_supplies[node] = supply
        flow.set_nodes_supplies(np.arange(node_count), node_supplies)
        check_flow_status(flow.solve())
        return np.asarray(flow.flows(np.arange(self.pairs.size)) > 0)


def _one_network(network: _Network, free: IntArray, tie: int) -> IntArray:
    """Every level in one network: child -> sink arcs (left unplaced) cost `K * W[tier]`."""
    instance = network.instance
    scale_a, _, weight = lexicographic_weights(instance, network.pairs)
    scale_k = network.scale_k(tie)
    network.check_range(max(weight.values()) * scale_k, 0)  # W exceeds every secondary cost
    unplaced = np.array([weight[int(p)] * scale_k for p in instance.child_priority[free]], np.int64)
    costs = [*network.costs(scale_a, scale_k, tie), unplaced]
    supplies = {int(child): 1 for child in free}
    supplies[network.sink] = -int(free.size)
    return network.min_cost_flow(free, np.full(free.size, network.sink), costs, supplies)


def _staged(network: _Network, free: IntArray, tie: int) -> IntArray:
    """Stage 1: for each tier from the highest, the most children of that and higher tiers that
    can be placed together (a max flow each, no costs); the counts placed per tier are the
    differences. Stage 2: per-tier sources supplying exactly those counts, then the least
    `K * (pref * A + minutes)` (+ tie) among allocations with them."""
    instance = network.instance
    counts = _placed_per_tier(network, free)
    scale_a, _, _ = lexicographic_weights(instance, network.pairs)
    scale_k = network.scale_k(tie)
    tiers = instance.tiers()
    network.check_range(max(network.largest_secondary(scale_a, scale_k), tie), len(tiers))
    source_of = {tier: network.sink + 1 + ordinal for ordinal, tier in enumerate(tiers)}
    sources = np.array([source_of[int(p)] for p in instance.child_priority[free]], np.int64)
    costs = [*network.costs(scale_a, scale_k, tie), np.zeros(free.size, np.int64)]
    supplies = {source_of[tier]: counts[tier] for tier in tiers}
    supplies[network.sink] = -sum(counts.values())
    return network.min_cost_flow(sources, free, costs, supplies)


def _placed_per_tier(network: _Network, free: IntArray) -> dict[int, int]:
    """The lexicographically largest numbers placed per tier: with T_k the k highest tiers, the
    most children of T_k placed together is the rank r(T_k) of the matroid, and a basis that
    attains every r(T_k) at once exists (the greedy one), so tier k places r(T_k) - r(T_{k-1})."""
    instance = network.instance
    source = network.sink + 1
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(
        np.concatenate([*network.tails, np.full(free.size, source)]).astype(np.int64),
        np.concatenate([*network.heads, free]).astype(np.int64),
        np.concatenate([*network.capacities, np.zeros(free.size, np.int64)]).astype(np.int64),
    )
    first_source_arc = sum(part.size for part in network.tails)
    arcs = first_source_arc + np.arange(free.size)
    tier_of = instance.child_priority[free]
    counts: dict[int, int] = {}
    placed_above = 0
    for tier in instance.tiers():
        solver.set_arcs_capacity(arcs[tier_of == tier], np.ones(int((tier_of == tier).sum()), np.int64))
        status = solver.solve(source, network.sink)
        if status != solver.OPTIMAL:
            raise SolverFailure(f"max flow ended with status {status} on a network that always has a flow")
        placed = int(solver.optimal_flow())
        counts[tier] = placed - placed_above
        placed_above = placed
    return counts


def new_places_used(instance: Instance, chosen_pair: IntArray, pool: NewPlaces | None) -> IntArray:
    """New places per bucket an assignment needs: its children beyond the places before any new one."""
    load = np.bincount(instance.pair_bucket[chosen_pair[chosen_pair >= 0]], minlength=instance.bucket_school.size)
    base = pool.base_free if pool is not None else instance.bucket_free
    return np.maximum(load - base, 0).astype(np.int64)
