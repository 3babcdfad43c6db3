"""One more place at every full bucket at once: shortest paths in the flow's residual network.

Sensitivity of a min-cost flow (e.g. Ahuja, Magnanti & Orlin, Network Flows, ch. 9): raising
the capacity of one arc b -> sink by a unit changes the optimum by at most one augmenting cycle
through that arc, and the best such cycle is a shortest sink -> b path in the residual network
of the optimal flow, closed by the new unit (cost 0). The residual network of an optimal flow
has no negative cycle, so one Bellman-Ford from the sink gives, for every bucket b at once, the
shortest path; when its length is negative, pushing the unit along it gives an optimal
allocation with one more place at b, otherwise the allocation does not change.

Residual arcs, with the arc costs of `allocator.flow` (secondary cost per pair, W[tier] for
leaving a child unplaced): child -> bucket (+cost) for every usable pair not chosen, bucket ->
child (-cost) for each chosen one; child -> sink (+W) for placed children, sink -> child (-W) for
unplaced ones; bucket -> sink (0) while places are left, sink -> bucket (0) while one is used.
"""

import numpy as np

from allocator.flow import lexicographic_weights
from allocator.instance import Instance
from data.arrays import BoolArray, IntArray

_UNREACHED = np.int64(2**62)
# Rounds of Bellman-Ford before giving up (the caller then re-solves each bucket): paths in
# these networks alternate child and bucket and are short; the cap bounds the work when the
# given allocation is not optimal (a negative cycle) or a path is unusually long.
MAX_ROUNDS = 400


def allocations_with_one_more_place(
    instance: Instance, open_sites: BoolArray, chosen_pair: IntArray, buckets: IntArray
) -> dict[int, IntArray]:
    """For each given bucket, an optimal `chosen_pair` with one more place there.

    `chosen_pair` must be optimal for `open_sites` (as `solve_flow` returns). Buckets whose
    shortest path is missing or cannot be traced are left out (the caller re-solves them).
    """
    pairs = instance.usable_pairs(open_sites)
    free = np.flatnonzero(instance.locked_school < 0)
    result: dict[int, IntArray] = {}
    if pairs.size == 0 or free.size == 0:
        return {int(b): chosen_pair for b in buckets}
    scale_a, _, weight = lexicographic_weights(instance, pairs)
    tails, heads, costs, arc_pair = _residual_arcs(instance, pairs, free, chosen_pair, scale_a, weight)
    n = instance.child_count
    sink = n + instance.bucket_school.size
    converged, distance, predecessor = _bellman_ford(tails, heads, costs, sink + 1, sink)
    if not converged:
        return result
    for bucket in buckets.tolist():
        node = n + int(bucket)
        if distance[node] >= 0:
            result[int(bucket)] = chosen_pair
            continue
        moved = _trace(predecessor, tails, arc_pair, node, sink, instance, chosen_pair)
        if moved is not None:
            result[int(bucket)] = moved
    return result


def _residual_arcs(
    instance: Instance,
    pairs: IntArray,
    free: IntArray,
    chosen_pair: IntArray,
    scale_a: int,
    weight: dict[int, int],
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    n = instance.child_count
    bucket_count = instance.bucket_school.size
    sink = n + bucket_count
    child = instance.pair_child[pairs]
    bucket = n + instance.pair_bucket[pairs]
    cost = instance.pair_cost[pairs] * scale_a + instance.pair_minutes[pairs]
    chosen = chosen_pair[child] == pairs
    unplaced_cost = np.array([weight[int(p)] for p in instance.child_priority[free]], np.int64)
    placed = chosen_pair[free] >= 0
    load = np.bincount(instance.pair_bucket[chosen_pair[chosen_pair >= 0]], minlength=bucket_count)
    buckets = n + np.arange(bucket_count)
    room = load < instance.bucket_free
    used = load > 0
    tails = np.concatenate(
        [
            np.where(chosen, bucket, child),
            free[placed],
            np.full(int((~placed).sum()), sink),
            buckets[room],
            np.full(int(used.sum()), sink),
        ]
    )
    heads = np.concatenate(
        [
            np.where(chosen, child, bucket),
            np.full(int(placed.sum()), sink),
            free[~placed],
            np.full(int(room.sum()), sink),
            buckets[used],
        ]
    )
    costs = np.concatenate(
        [
            np.where(chosen, -cost, cost),
            unplaced_cost[placed],
            -unplaced_cost[~placed],
            np.zeros(int(room.sum()) + int(used.sum()), np.int64),
        ]
    )
    arc_pair = np.concatenate([np.where(chosen, -1, pairs), np.full(tails.size - pairs.size, -1)])
    return tails.astype(np.int64), heads.astype(np.int64), costs.astype(np.int64), arc_pair.astype(np.int64)


def _bellman_ford(
    tails: IntArray, heads: IntArray, costs: IntArray, node_count: int, source: int
) -> tuple[bool, IntArray, IntArray]:
    """(converged, shortest distances from `source`, the arc into each node on its path or -1)."""
    distance = np.full(node_count, _UNREACHED, np.int64)
    distance[source] = 0
    predecessor = np.full(node_count, -1, np.int64)
    for _ in range(min(node_count, MAX_ROUNDS)):
        reached = distance[tails] < _UNREACHED
        candidate = np.where(reached, distance[tails] + costs, _UNREACHED)
        best = distance.copy()
        np.minimum.at(best, heads, candidate)
        improved = best < distance
        if not improved.any():
            return True, distance, predecessor
        tight = np.flatnonzero(improved[heads] & (candidate == best[heads]))
        predecessor[heads[tight]] = tight
        distance = best
    return False, distance, predecessor


def _trace(
    predecessor: IntArray,
    tails: IntArray,
    arc_pair: IntArray,
    node: int,
    sink: int,
    instance: Instance,
    chosen_pair: IntArray,
) -> IntArray | None:
    """Push one unit along the traced path into `node`; None if the trace does not reach the sink."""
    moved = chosen_pair.copy()
    seen: set[int] = set()
    while node != sink:
        arc = int(predecessor[node])
        if arc < 0 or node in seen:
            return None
        seen.add(node)
        if arc_pair[arc] >= 0:
            moved[instance.pair_child[arc_pair[arc]]] = arc_pair[arc]
        node = int(tails[arc])
    return moved
