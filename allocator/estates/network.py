"""Exact allocation when new places may be added: one min-cost flow with a "new places" pool.

Network (extending `allocator.flow`): each unlocked child supplies one unit; child -> bucket
(capacity 1, cost K * (pref * A + minutes)) for every usable pair; child -> sink (cost K * W[tier],
the child stays unplaced); bucket -> sink (capacity = places left after locks, cost 0);
bucket -> pool (capacity = the bucket's `max_extra`, cost `tie`) and pool -> sink (capacity =
the budget N of new places, cost 0). A, BIG and W[tier] are `allocator.flow.lexicographic_weights`.

Claim: a min-cost flow gives a plan (new places per bucket = flow on bucket -> sink beyond its
places) and an allocation that are jointly optimal in the contract's strict order.

Proof. (1) Plans with at most N new places, each within max_extra, together with allocations
that fit them, are exactly the integral flows of this network: a flow's plan is the flow on each
bucket -> pool arc; conversely route a bucket's children first through bucket -> sink, the rest
(at most the plan's extra places) through the pool. So minimising over flows minimises over
(plan, allocation) jointly. (2) The sets of children that can be placed together (sent to the
sink at once) form a matroid: they are the sets of sources linkable into the sink in a
capacitated network, i.e. a gammoid once each arc of capacity c is split into c unit paths, and
gammoids are matroids (Mason 1972; Perfect 1968). The exchange axiom can be seen directly: if
flows place S and T with |T| > |S|, the difference of the two flows decomposes into paths and
cycles in the residual network of S's flow, and at least one path starts at a child of T \\ S
and ends at the sink; augmenting along it places S + that child. (3) Hence, exactly as in
`allocator.flow`, the weights W[tier] = BIG * ordinal make any set that does not maximise, for
every k, the number placed among the k highest tiers lose at least BIG, more than the whole range
of secondary costs, and within the W optimum the flow minimises preference cost then minutes.
(4) Tie-break: with K = (largest number of new places usable) + 1 and `tie` = 1, the extra cost
is at most K - 1 < K, the least difference between two different contract objectives, so among
the contract-optimal (plan, allocation) pairs the flow uses the fewest new places. With
`tie` = 0 and K = 1 the network is the plain one.

When the weights would overflow int64, `CostsTooLarge` is raised (as in `allocator.flow`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from ortools.graph.python import min_cost_flow

from allocator.flow import CostsTooLarge, lexicographic_weights
from allocator.instance import NEEDS, Instance, build_instance
from data.arrays import BoolArray, IntArray
from data.travel import TravelTable
from models.case import Case, PlaceOffer
from models.need import Need

_SAFE_LIMIT = 2**62


@dataclass(frozen=True)
class GrowableInstance:
    """An instance whose buckets include every place that may be added.

    `instance` is built on the case with each listed (school, need) grown by its max_extra, so
    that every pair the new places could serve exists; `base_free[b]` is the bucket's places
    left after locks before any new place and `max_extra[b]` how many may be added.
    """

    instance: Instance
    base_free: IntArray
    max_extra: IntArray

    def with_places(self, extra: IntArray) -> Instance:
        """The instance with `extra[b]` new places added to each bucket (and no other growth)."""
        free = self.base_free + extra
        return replace(
            self.instance, bucket_free=free, bucket_places=self.instance.bucket_places - self.max_extra + extra
        )


def grow_case(case: Case, extra: Mapping[tuple[str, Need], int]) -> Case:
    """The case with `extra[(school_id, need)]` places added (new place rows where none were)."""
    offers = []
    seen: set[tuple[str, Need]] = set()
    for offer in case.places:
        key = (offer.school_id, offer.need)
        seen.add(key)
        offers.append(offer.model_copy(update={"places": offer.places + extra.get(key, 0)}))
    for (school_id, need), count in sorted(extra.items(), key=lambda item: (item[0][0], item[0][1].value)):
        if (school_id, need) not in seen and count > 0:
            offers.append(PlaceOffer(school_id=school_id, need=need, places=count))
    return case.model_copy(update={"places": tuple(offers)})


def growable_instance(case: Case, travel: TravelTable, extra: Mapping[tuple[str, Need], int]) -> GrowableInstance:
    instance = build_instance(grow_case(case, extra), travel)
    school_ids = [school.school_id for school in case.schools]
    max_extra = np.array(
        [
            extra.get((school_ids[int(s)], NEEDS[int(n)]), 0)
            for s, n in zip(instance.bucket_school, instance.bucket_need, strict=True)
        ],
        dtype=np.int64,
    ).reshape(-1)
    return GrowableInstance(instance, instance.bucket_free - max_extra, max_extra)


@dataclass(frozen=True)
class PoolFlow:
    """Optimal `chosen_pair` per child and the new places each bucket uses."""

    chosen_pair: IntArray
    new_places: IntArray


def solve_with_new_places(grown: GrowableInstance, open_sites: BoolArray, budget: int) -> PoolFlow:
    """Jointly optimal plan and allocation (see the module docstring); fewest new places on ties.

    Falls back to no tie-break (still contract-optimal) when the scaled weights would overflow.
    """
    try:
        return _solve(grown, open_sites, budget, tie=1)
    except CostsTooLarge:
        return _solve(grown, open_sites, budget, tie=0)


def _solve(grown: GrowableInstance, open_sites: BoolArray, budget: int, tie: int) -> PoolFlow:
    instance = grown.instance
    pairs = instance.usable_pairs(open_sites)
    chosen = np.full(instance.child_count, -1, np.int64)
    bucket_count = instance.bucket_school.size
    free = np.flatnonzero(instance.locked_school < 0)
    if pairs.size == 0 or free.size == 0:
        return PoolFlow(chosen, np.zeros(bucket_count, np.int64))
    scale_a, _, weight = lexicographic_weights(instance, pairs)
    usable_new = int(min(budget, int(grown.max_extra.sum())))
    scale_k = usable_new + 1 if tie else 1
    n = instance.child_count
    pool = n + bucket_count
    sink = pool + 1
    node_count = sink + 1
    largest = max(weight.values()) * scale_k
    if largest * (node_count + 1) >= _SAFE_LIMIT:
        raise CostsTooLarge(f"largest arc cost {largest} with {node_count} nodes")

    secondary = (instance.pair_cost[pairs] * scale_a + instance.pair_minutes[pairs]) * scale_k
    unplaced_cost = np.array([weight[int(p)] * scale_k for p in instance.child_priority[free]], np.int64)
    buckets = n + np.arange(bucket_count)
    tails = np.concatenate([instance.pair_child[pairs], free, buckets, buckets, [pool]])
    heads = np.concatenate(
        [
            n + instance.pair_bucket[pairs],
            np.full(free.size, sink),
            np.full(bucket_count, sink),
            np.full(bucket_count, pool),
            [sink],
        ]
    )
    capacities = np.concatenate(
        [
            np.ones(pairs.size, np.int64),
            np.ones(free.size, np.int64),
            grown.base_free,
            grown.max_extra,
            [max(budget, 0)],
        ]
    )
    costs = np.concatenate(
        [secondary, unplaced_cost, np.zeros(bucket_count, np.int64), np.full(bucket_count, tie, np.int64), [0]]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int64), heads.astype(np.int64), capacities.astype(np.int64), costs.astype(np.int64)
    )
    supplies = np.zeros(node_count, np.int64)
    supplies[free] = 1
    supplies[sink] = -free.size
    flow.set_nodes_supplies(np.arange(node_count), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    used = flow.flows(np.arange(pairs.size)) > 0
    chosen[instance.pair_child[pairs[used]]] = pairs[used]
    # New places actually needed: children at a bucket beyond its places left after locks.
    load = np.bincount(instance.pair_bucket[chosen[chosen >= 0]], minlength=bucket_count)
    new_places = np.maximum(load - grown.base_free, 0).astype(np.int64)
    return PoolFlow(chosen, new_places)
