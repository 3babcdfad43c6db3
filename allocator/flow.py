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

In turn. When even the staged costs would overflow (checked here, and by the solver's own range
check), preference and travel are solved in turn, still as flows. Stage 2' is stage 2 with the
preference cost alone on the pair arcs (at most 1,000: never near int64). Let x be its optimal
flow and d the shortest distances in x's residual network from a root joined to every node at
cost 0 (no negative cycle exists, x being optimal); the reduced costs c_d(u, v) = c + d(u) - d(v)
are >= 0 on every residual arc, so d is an optimal dual. By complementary slackness, which every
optimal primal satisfies with every optimal dual, the preference-optimal flows are exactly the
feasible flows that are empty on arcs with c_d > 0 and full on arcs with c_d < 0. Stage 3 holds
the latter full (their capacities moved into the supplies), drops the former, and minimises the
travel minutes (at most about 12 million a pair, `data.travel.MAX_ESTIMATED_MINUTES`: times any
node count memory holds, within int64) over the rest: the least travel among the allocations
optimal in levels 1 and 2, the contract's optimum. It has no tie-break level for new places, so
with a pool `solve_flow_with_new_places` drops the tie-break (still contract-optimal) when only
this network fits. Hence no fixed-site flow ever needs CP-SAT. Every solver status is mapped by
`allocator.status`.

Parts. The network of a round is solved one independent part at a time (`allocator.components`:
connected components of children and buckets, which share no capacity; proof there that the
union of the parts' optima is the round's optimum); each part's A, BIG and W are its own, so
they grow with the part, not the round.
"""

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from allocator.components import Part, parts
from allocator.instance import Instance
from allocator.potentials import residual_reduced_costs
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
    """(A, BIG, W per tier) for the usable `pairs` of the whole round, as exact Python integers."""
    children = instance.pair_child[pairs]
    return _weights(
        children, instance.child_count, instance.pair_minutes[pairs], instance.pair_cost[pairs], instance.tiers()
    )


def _weights(
    children: IntArray, child_count: int, minutes: IntArray, cost: IntArray, tiers: list[int]
) -> tuple[int, int, dict[int, int]]:
    """(A, BIG, W per tier) for pairs of the given children (indices below `child_count`)."""
    largest_minutes = np.zeros(child_count, np.int64)
    np.maximum.at(largest_minutes, children, minutes)
    scale_a = int(largest_minutes.sum(dtype=object)) + 1
    exact = int(cost.max(initial=0)) * scale_a + int(minutes.max(initial=0)) >= _SAFE_LIMIT
    kind = object if exact else np.int64  # int64 whenever no pair's cost can pass its range
    secondary = cost.astype(kind) * scale_a + minutes.astype(kind)
    largest_secondary = np.zeros(child_count, dtype=kind)
    np.maximum.at(largest_secondary, children, secondary)
    big = int(largest_secondary.sum(dtype=object)) + 1
    return scale_a, big, {tier: big * (ordinal + 1) for ordinal, tier in enumerate(sorted(tiers))}


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
    """The one network builder (see the module docstring), one network per independent part
    (`allocator.components`). `staged=None` solves each part's one network and, when its
    weights would overflow, its staged one, and when even those costs would overflow, the
    preference and travel levels in turn; True forces the staged (or in-turn) network, False
    the one network. Raises CostsTooLarge only for `staged=False`, or for `tie=1` when only the
    in-turn network fits (it has no tie-break level: `solve_flow_with_new_places` retries
    without the tie-break)."""
    pairs = instance.usable_pairs(open_sites)
    chosen = np.full(instance.child_count, -1, np.int64)
    if pairs.size == 0 or not (instance.locked_school < 0).any():
        return FlowAssignment(chosen, np.zeros(instance.bucket_school.size, np.int64))
    any_staged = False
    for part in parts(instance, pairs, whole=pool is not None):
        network = _Network(instance, part, pool)
        used, was_staged = _solve_part(network, tie, staged)
        chosen[instance.pair_child[part.pairs[used]]] = part.pairs[used]
        any_staged |= was_staged
    return FlowAssignment(chosen, new_places_used(instance, chosen, pool), staged=any_staged)


def _solve_part(network: "_Network", tie: int, staged: bool | None) -> tuple[BoolArray, bool]:
    """The flow on each of the part's pairs, and whether the staged networks solved it."""
    if staged is not True:
        try:
            return _one_network(network, tie), False
        except CostsTooLarge:
            if staged is False:
                raise
    try:
        return _staged(network, tie), True
    except CostsTooLarge:
        if tie:
            raise
    return _in_turn(network), True


class _Network:
    """One part's network. Nodes: the part's children 0..m-1, its buckets m..m+k-1, the pool
    (when given), the sink; arcs in this order: child -> bucket (one per pair of the part),
    bucket -> sink, and with a pool bucket -> pool and pool -> sink. Callers add their own arcs
    from children (or tier sources) after these."""

    def __init__(self, instance: Instance, part: Part, pool: NewPlaces | None) -> None:
        self.instance, self.pairs, self.pool = instance, part.pairs, pool
        self.children = part.children  # unlocked children with a pair in the part, ascending
        m, bucket_count = part.children.size, part.buckets.size
        self.child_local = np.searchsorted(part.children, instance.pair_child[part.pairs])
        buckets = m + np.arange(bucket_count)
        pool_node = m + bucket_count
        self.sink = pool_node + (1 if pool is not None else 0)
        self.tails = [self.child_local, buckets]
        self.heads = [
            m + np.searchsorted(part.buckets, instance.pair_bucket[part.pairs]),
            np.full(bucket_count, self.sink),
        ]
        self.capacities = [np.ones(part.pairs.size, np.int64)]
        if pool is None:
            self.capacities.append(instance.bucket_free[part.buckets])
        else:
            budget = np.array([max(pool.budget, 0)], np.int64)
            self.capacities += [pool.base_free[part.buckets], pool.max_extra[part.buckets], budget]
            self.tails += [buckets, np.array([pool_node])]
            self.heads += [np.full(bucket_count, pool_node), np.array([self.sink])]
        self.bucket_count = bucket_count

    def weights(self) -> tuple[int, int, dict[int, int]]:
        """(A, BIG, W per tier) of this part (see `lexicographic_weights`)."""
        return _weights(
            self.child_local,
            self.children.size,
            self.instance.pair_minutes[self.pairs],
            self.instance.pair_cost[self.pairs],
            self.tiers(),
        )

    def tiers(self) -> list[int]:
        """The tiers of the part's children, highest first."""
        return sorted({int(p) for p in np.unique(self.instance.child_priority[self.children])}, reverse=True)

    def largest_secondary(self, scale_a: int, scale_k: int) -> int:
        """The largest pair cost below, as an exact integer (checked before any int64 arithmetic)."""
        instance, pairs = self.instance, self.pairs
        return (int(instance.pair_cost[pairs].max()) * scale_a + int(instance.pair_minutes[pairs].max())) * scale_k

    def costs(self, scale_a: int, scale_k: int, tie: int) -> list[IntArray]:
        """Unit costs of the arcs above: `K * (pref * A + minutes)` per pair, `tie` into the pool.
        Call only once `largest_secondary` is known to fit."""
        instance, pairs = self.instance, self.pairs
        return self.costs_of((instance.pair_cost[pairs] * scale_a + instance.pair_minutes[pairs]) * scale_k, tie)

    def costs_of(self, pair_costs: IntArray, tie: int) -> list[IntArray]:
        """The given costs on the pair arcs, 0 into the sink, `tie` into the pool."""
        costs = [pair_costs.astype(np.int64), np.zeros(self.bucket_count, np.int64)]
        if self.pool is not None:
            costs += [np.full(self.bucket_count, tie, np.int64), np.zeros(1, np.int64)]
        return costs

    def scale_k(self, tie: int) -> int:
        return self.pool.usable() + 1 if self.pool is not None and tie else 1

    def check_range(self, largest: int, extra_nodes: int) -> None:
        """Costs up to `largest` over this network's nodes (and `extra_nodes` more) fit int64 sums."""
        node_count = self.sink + 1 + extra_nodes
        if largest * (node_count + 1) >= _SAFE_LIMIT:
            raise CostsTooLarge(f"largest arc cost {largest} with {node_count} nodes")

    def arcs(self, tails: IntArray, heads: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """(tails, heads, capacities) of the network's arcs, then the extra arcs (capacity 1)."""
        return (
            np.concatenate([*self.tails, tails]).astype(np.int64),
            np.concatenate([*self.heads, heads]).astype(np.int64),
            np.concatenate([*self.capacities, np.ones(tails.size, np.int64)]).astype(np.int64),
        )

    def min_cost_flow(
        self, tails: IntArray, heads: IntArray, costs: list[IntArray], supplies: dict[int, int]
    ) -> BoolArray:
        """Solve with the extra arcs (capacity 1) and node supplies; whether each pair arc is used."""
        all_tails, all_heads, capacities = self.arcs(tails, heads)
        flows = _min_cost_flow(all_tails, all_heads, capacities, np.concatenate(costs), self.supplies(supplies))
        return np.asarray(flows[: self.pairs.size] > 0)

    def supplies(self, supplies: dict[int, int]) -> IntArray:
        node_supplies = np.zeros(max(self.sink, *supplies) + 1, np.int64)
        for node, supply in supplies.items():
            node_supplies[node] = supply
        return node_supplies


def _min_cost_flow(
    tails: IntArray, heads: IntArray, capacities: IntArray, costs: IntArray, supplies: IntArray
) -> IntArray:
    """OR-Tools' min-cost flow on the arcs given; the flow on each arc."""
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs.astype(np.int64))
    flow.set_nodes_supplies(np.arange(supplies.size), supplies)
    check_flow_status(flow.solve())
    return np.asarray(flow.flows(np.arange(tails.size)), np.int64)


def _one_network(network: _Network, tie: int) -> BoolArray:
    """Every level in one network: child -> sink arcs (left unplaced) cost `K * W[tier]`."""
    instance, m = network.instance, network.children.size
    scale_a, _, weight = network.weights()
    scale_k = network.scale_k(tie)
    network.check_range(max(weight.values()) * scale_k, 0)  # W exceeds every secondary cost
    tiers = sorted(weight)
    ordinal = np.searchsorted(np.array(tiers, np.int64), instance.child_priority[network.children])
    unplaced = (ordinal + 1) * np.int64(weight[tiers[0]] * scale_k)  # W[tier] = BIG * ordinal, checked above
    costs = [*network.costs(scale_a, scale_k, tie), unplaced]
    all_tails, all_heads, capacities = network.arcs(np.arange(m), np.full(m, network.sink))
    supplies = np.zeros(network.sink + 1, np.int64)
    supplies[:m] = 1
    supplies[network.sink] = -m
    flows = _min_cost_flow(all_tails, all_heads, capacities, np.concatenate(costs), supplies)
    return np.asarray(flows[: network.pairs.size] > 0)


def _tier_sources(network: _Network) -> tuple[IntArray, dict[int, int]]:
    """Stage 1, and the per-tier sources of stage 2: the source node of each child's tier, and
    the supplies (c_k at tier k's source, minus their sum at the sink)."""
    counts = _placed_per_tier(network)
    tiers = network.tiers()
    source_of = {tier: network.sink + 1 + ordinal for ordinal, tier in enumerate(tiers)}
    sources = np.array([source_of[int(p)] for p in network.instance.child_priority[network.children]], np.int64)
    supplies = {source_of[tier]: counts[tier] for tier in tiers}
    supplies[network.sink] = -sum(counts.values())
    return sources, supplies


def _staged(network: _Network, tie: int) -> BoolArray:
    """Stage 1: for each tier from the highest, the most children of that and higher tiers that
    can be placed together (a max flow each, no costs); the counts placed per tier are the
    differences. Stage 2: per-tier sources supplying exactly those counts, then the least
    `K * (pref * A + minutes)` (+ tie) among allocations with them."""
    scale_a, _, _ = network.weights()
    scale_k = network.scale_k(tie)
    network.check_range(max(network.largest_secondary(scale_a, scale_k), tie), len(network.tiers()))
    sources, supplies = _tier_sources(network)
    costs = [*network.costs(scale_a, scale_k, tie), np.zeros(network.children.size, np.int64)]
    return network.min_cost_flow(sources, np.arange(network.children.size), costs, supplies)


def _in_turn(network: _Network) -> BoolArray:
    """The staged network with preference and travel solved in turn (see the module docstring,
    "in turn"): stage 2 with preference costs only, its optimal potentials by Bellman-Ford on the
    residual network, then stage 3 with travel minutes over the arcs of zero reduced cost (arcs
    of negative reduced cost held full)."""
    instance, m = network.instance, network.children.size
    sources, supplies = _tier_sources(network)
    tails, heads, capacities = network.arcs(sources, np.arange(m))
    zero = np.zeros(m, np.int64)
    preference = np.concatenate([*network.costs_of(instance.pair_cost[network.pairs], 0), zero])
    node_supplies = network.supplies(supplies)
    flows = _min_cost_flow(tails, heads, capacities, preference, node_supplies)
    reduced = residual_reduced_costs(tails, heads, capacities, preference, flows, node_supplies.size)
    if reduced is None:
        raise SolverFailure("the preference stage's flow left a negative cycle: it was not optimal")
    full = reduced < 0  # in every preference-optimal flow these arcs are full, those > 0 empty
    node_supplies = node_supplies.copy()
    np.subtract.at(node_supplies, tails[full], capacities[full])
    np.add.at(node_supplies, heads[full], capacities[full])
    free = reduced == 0
    minutes = np.concatenate([*network.costs_of(instance.pair_minutes[network.pairs], 0), zero])
    used = np.zeros(tails.size, np.int64)
    used[full] = capacities[full]
    used[free] = _min_cost_flow(tails[free], heads[free], capacities[free], minutes[free], node_supplies)
    return np.asarray(used[: network.pairs.size] > 0)


def _placed_per_tier(network: _Network) -> dict[int, int]:
    """The lexicographically largest numbers placed per tier: with T_k the k highest tiers, the
    most children of T_k placed together is the rank r(T_k) of the matroid, and a basis that
    attains every r(T_k) at once exists (the greedy one), so tier k places r(T_k) - r(T_{k-1})."""
    instance, m = network.instance, network.children.size
    source = network.sink + 1
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(
        np.concatenate([*network.tails, np.full(m, source)]).astype(np.int64),
        np.concatenate([*network.heads, np.arange(m)]).astype(np.int64),
        np.concatenate([*network.capacities, np.zeros(m, np.int64)]).astype(np.int64),
    )
    first_source_arc = sum(part.size for part in network.tails)
    arcs = first_source_arc + np.arange(m)
    tier_of = instance.child_priority[network.children]
    counts: dict[int, int] = {}
    placed_above = 0
    for tier in network.tiers():
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
