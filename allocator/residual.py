"""The optimal flow's residual network with exact potentials: what is forced, and what one
small change would do, without solving again.

Network (fixed open sites, as `allocator.flow`): node c per child, n + b per bucket, a sink.
Arc costs are the lexicographic weights of `WeightBase.weights`: a pair costs `pref * A + minutes`,
leaving a child of tier t unplaced costs `W(t)`. With present tiers q_1 < ... < q_m,
W(q_i) = BIG * 2i and a tier t absent from the case with q_i < t < q_{i+1} gets BIG * (2i + 1):
the gaps stay at least BIG, so these weights order allocations exactly as the contract does (the
argument of `allocator.flow`), also after one child's tier is raised to any t. A and BIG are
taken with a margin (`extra_minutes`), so they stay valid when one child gains one option of at
most that many minutes.

Which `extra_minutes`: every decision below (forced, a place that works, a limit or a tier that
places a child) compares the costs of allocations of the round or of the round with one such
change, and weights valid for all of them decide each comparison exactly as the contract's order
does. So any value at least every minutes figure a comparison gives a child (the options beyond
the limit `allocator.counterfactuals` tries) gives the same decisions. The value also decides,
through `_in_range`, whether the counterfactuals are computed at all (the weights grow with
it), so the counterfactuals pass the exact largest such minutes, `allocator.beyond.largest_beyond`:
the same weights, the same range check, whatever pricing found it. And since the weights only
grow with `extra_minutes`, a round whose weights are out of range with 0 is out of range with
any value (`WeightBase.in_range`), which is known before any option beyond the limit is priced.

Residual network G of an optimal flow f: a pair arc c -> b (cost +cost) when unused, b -> c
(cost -cost) when used; c -> sink (+W) when c is placed, sink -> c (-W) when unplaced; b -> sink
(0) when b has a place left, sink -> b (0) when b holds a child. Locked children are not in it.

Potentials: f is optimal exactly when G has no negative cycle (the difference of two flows
decomposes into cycles of G), so shortest distances d from a virtual source joined to every
node exist (Bellman-Ford, exact integers) and every reduced cost `cost + d[tail] - d[head]` is
>= 0. Any path's true cost is its reduced cost minus d[start] plus d[end], so Dijkstra on the
reduced costs gives exact true distances (floats are exact here: every sum is an integer below
2^53, checked by `_in_range`).

Forced (`forced_children`): another optimal flow f' differs from f by cycles of G whose costs are
>= 0 and sum to 0, so each has cost 0; a cycle of cost 0 has every reduced cost 0 (reduced costs
of a cycle sum to its cost and are >= 0). Conversely pushing one unit around any cycle of
zero-reduced-cost arcs keeps the cost, so it is another optimal flow. A child's outcome is its
one unit's arc (a pair arc, or c -> sink); it changes in some optimal flow iff the reverse of
that arc (in G) lies on a zero-reduced-cost cycle, i.e. has reduced cost 0 and both ends in one
strongly connected component of the zero-reduced-cost subgraph: one SCC computation for all.

One more unit of capacity on one arc (a place at bucket b: a new arc b -> sink of cost 0): the
new optimum differs from f by cycles of G plus that arc, at most one using it (its capacity is
one), and the others cost >= 0; so the new optimum is C + min(0, dist_G(sink, b)).
"""

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from allocator.instance import Instance
from allocator.potentials import shortest_distances
from allocator.status import SolverFailure
from data.arrays import BoolArray, FloatArray, IntArray

UNREACHABLE = 2**62
_EXACT = 2**53


class TooLargeToExplain(Exception):
    """The exact weights would not stay exact in the shortest-path arithmetic (a national round)."""


@dataclass(frozen=True)
class Weights:
    """`pref * A + minutes` per pair; `unplaced_cost(t)` for a child of tier t left unplaced."""

    scale_a: int
    big: int
    present: tuple[int, ...]  # the case's tiers, lowest first

    def unplaced_cost(self, tier: int) -> int:
        below = bisect_left(self.present, tier)
        present = below < len(self.present) and self.present[below] == tier
        return self.big * (2 * below + (2 if present else 1))


@dataclass(frozen=True)
class WeightBase:
    """The parts of the weights that do not depend on `extra_minutes`, over the usable pairs:
    per child (children with no usable pair count 0) its longest minutes; its largest preference
    cost, and the longest minutes among its pairs of that cost; the worst preference cost."""

    longest: int  # sum over children
    top_cost: int  # sum over children
    top_minutes: int  # sum over children
    worst_pref: int
    present: tuple[int, ...]  # the case's tiers, lowest first
    sink: int

    def weights(self, extra_minutes: int) -> Weights:
        """A = 1 + the sum of each child's longest usable minutes + `extra_minutes`; BIG = 1 + the
        sum of each child's largest `pref * A + minutes` + the largest cost a pair of
        `extra_minutes` could have. A child's largest `pref * A + minutes` is its largest cost
        times A plus the longest minutes at that cost: A exceeds every minutes figure of the
        child, so a pair of a smaller (integer) cost is at most (cost - 1) * A + minutes < cost * A."""
        scale_a = self.longest + 1 + extra_minutes
        big = self.top_cost * scale_a + self.top_minutes + 1 + self.worst_pref * scale_a + extra_minutes
        return Weights(scale_a, big, self.present)

    def in_range(self, extra_minutes: int) -> bool:
        """Whether `build_residual` with `extra_minutes` stays exact (else TooLargeToExplain)."""
        return _in_range(self.weights(extra_minutes), self.sink + 2)


def weight_base(instance: Instance, pairs: IntArray) -> WeightBase:
    """`WeightBase` of the usable `pairs` (ascending, so each child's are together)."""
    children = instance.pair_child[pairs]
    minutes, cost = instance.pair_minutes[pairs], instance.pair_cost[pairs]
    starts = np.flatnonzero(np.r_[True, children[1:] != children[:-1]]) if pairs.size else np.zeros(0, np.int64)
    longest = np.maximum.reduceat(minutes, starts) if pairs.size else np.zeros(0, np.int64)
    top = np.maximum.reduceat(cost, starts) if pairs.size else np.zeros(0, np.int64)
    segment = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, pairs.size]))
    at_top = np.where(cost == top[segment], minutes, -1)
    top_minutes = np.maximum.reduceat(at_top, starts) if pairs.size else np.zeros(0, np.int64)
    return WeightBase(
        longest=int(longest.sum()),
        top_cost=int(top.sum()),
        top_minutes=int(top_minutes.sum()),
        worst_pref=max(instance.case.policy.unranked_cost, int(cost.max(initial=0))),
        present=tuple(sorted(instance.tiers())),
        sink=instance.child_count + instance.bucket_school.size,
    )


@dataclass(frozen=True)
class ResidualNetwork:
    """G for an optimal `chosen_pair` over the usable `pairs` (see the module docstring)."""

    instance: Instance
    pairs: IntArray
    pair_cost: IntArray  # `pref * A + minutes` of each usable pair
    weights: Weights
    unplaced_cost: IntArray  # W(tier) per child
    bucket_load: IntArray
    tails: IntArray
    heads: IntArray
    reduced: IntArray
    potential: IntArray
    pair_arc: IntArray  # per usable pair, its arc in G (forward or reverse)
    child_arc: IntArray  # per child, its child <-> sink arc in G (-1 when locked)
    sink: int

    @property
    def node_count(self) -> int:
        return self.sink + 1

    def true_distance(self, reduced_distance: FloatArray, source: int, targets: IntArray) -> IntArray:
        finite = np.isfinite(reduced_distance)
        exact = np.where(finite, np.rint(np.where(finite, reduced_distance, 0.0)), 0).astype(np.int64)
        value = exact - self.potential[source] + self.potential[targets]
        return np.where(finite, value, UNREACHABLE).astype(np.int64)

    def distances_from(self, source: int, keep: BoolArray | None = None) -> IntArray:
        """Exact dist_G(source, v) for every node v (UNREACHABLE when none), over the arcs `keep`."""
        reduced = dijkstra(self._graph(keep), indices=source)
        return self.true_distance(reduced, source, np.arange(self.node_count))

    def distances_to(self, target: int) -> IntArray:
        """Exact dist_G(v, target) for every node v."""
        reverse = csr_matrix(
            (self.reduced.astype(np.float64), (self.heads, self.tails)), shape=(self.node_count, self.node_count)
        )
        reduced = dijkstra(reverse, indices=target)
        finite = np.isfinite(reduced)
        exact = np.where(finite, np.rint(np.where(finite, reduced, 0.0)), 0).astype(np.int64)
        value = exact - self.potential + self.potential[target]
        return np.where(finite, value, UNREACHABLE).astype(np.int64)

    def _graph(self, keep: BoolArray | None) -> csr_matrix:
        tails, heads, reduced = self.tails, self.heads, self.reduced
        if keep is not None:
            tails, heads, reduced = tails[keep], heads[keep], reduced[keep]
        return csr_matrix((reduced.astype(np.float64), (tails, heads)), shape=(self.node_count, self.node_count))

    def forced_children(self) -> BoolArray:
        """Per child: the same outcome in every optimal allocation with these sites (locked: True)."""
        zero = self.reduced == 0
        adjacency = csr_matrix(
            (np.ones(int(zero.sum())), (self.tails[zero], self.heads[zero])), shape=(self.node_count, self.node_count)
        )
        _, component = connected_components(adjacency, directed=True, connection="strong")
        n = self.instance.child_count
        forced = np.ones(n, bool)
        chosen = self._chosen()
        placed = chosen >= 0
        # the reverse of each child's used arc: the used pair's arc b -> c, or sink -> c
        used_arc = self.child_arc.copy()
        used_arc[placed] = self.pair_arc[chosen[placed]]
        free = self.child_arc >= 0
        arcs = used_arc[free]
        movable = zero[arcs] & (component[self.tails[arcs]] == component[self.heads[arcs]])
        forced[np.flatnonzero(free)] = ~movable
        return forced

    def _chosen(self) -> IntArray:
        """Per child, the index into `pairs` of its used pair (-1 unplaced or locked)."""
        chosen = np.full(self.instance.child_count, -1, np.int64)
        used = self.heads[self.pair_arc] < self.instance.child_count  # b -> c: a used pair
        chosen[self.instance.pair_child[self.pairs[used]]] = np.flatnonzero(used)
        return chosen


def build_residual(
    instance: Instance,
    open_sites: BoolArray,
    chosen_pair: IntArray,
    extra_minutes: int,
    base: WeightBase | None = None,
) -> ResidualNetwork:
    """G and exact potentials for an optimal `chosen_pair` (`base`: `weight_base` of the usable
    pairs for `open_sites`, when the caller has it already). Raises TooLargeToExplain, and
    SolverFailure when G has a negative cycle (the allocation was not optimal)."""
    pairs = instance.usable_pairs(open_sites)
    n, buckets = instance.child_count, instance.bucket_school.size
    sink = n + buckets
    weights = (base or weight_base(instance, pairs)).weights(extra_minutes)
    if not _in_range(weights, sink + 2):
        raise TooLargeToExplain(f"largest weight {_largest(weights)} with {sink + 2} nodes")
    cost = (instance.pair_cost[pairs] * weights.scale_a + instance.pair_minutes[pairs]).astype(np.int64)
    child, bucket = instance.pair_child[pairs], n + instance.pair_bucket[pairs]
    used = chosen_pair[child] == pairs
    unplaced_cost = np.array([weights.unplaced_cost(int(t)) for t in instance.child_priority], np.int64)
    free = np.flatnonzero(instance.locked_school < 0)
    placed = chosen_pair[free] >= 0
    load = np.bincount(instance.pair_bucket[chosen_pair[chosen_pair >= 0]], minlength=buckets).astype(np.int64)
    room = np.flatnonzero(load < instance.bucket_free)
    held = np.flatnonzero(load > 0)
    tails = np.concatenate(
        [np.where(used, bucket, child), np.where(placed, free, sink), n + room, np.full(held.size, sink)]
    ).astype(np.int64)
    heads = np.concatenate(
        [np.where(used, child, bucket), np.where(placed, sink, free), np.full(room.size, sink), n + held]
    ).astype(np.int64)
    costs = np.concatenate(
        [
            np.where(used, -cost, cost),
            np.where(placed, unplaced_cost[free], -unplaced_cost[free]),
            np.zeros(room.size + held.size, np.int64),
        ]
    ).astype(np.int64)
    potential = shortest_distances(tails, heads, costs, sink + 1)
    if potential is None:
        raise SolverFailure("the allocation to explain is not optimal: its residual network has a negative cycle")
    reduced = costs + potential[tails] - potential[heads]
    child_arc = np.full(n, -1, np.int64)
    child_arc[free] = pairs.size + np.arange(free.size)
    return ResidualNetwork(
        instance=instance,
        pairs=pairs,
        pair_cost=cost,
        weights=weights,
        unplaced_cost=unplaced_cost,
        bucket_load=load,
        tails=tails,
        heads=heads,
        reduced=reduced,
        potential=potential,
        pair_arc=np.arange(pairs.size, dtype=np.int64),
        child_arc=child_arc,
        sink=sink,
    )


def _largest(weights: Weights) -> int:
    return max(weights.unplaced_cost(max(weights.present)) if weights.present else 0, weights.big)


def _in_range(weights: Weights, nodes: int) -> bool:
    """Every path's cost, and every sum Dijkstra forms, stays an integer below 2^53."""
    return _largest(weights) * (nodes + 1) * 2 < _EXACT
