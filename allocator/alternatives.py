"""Further optimal allocations (`--alternatives K`): every one exact, each different.

The run's allocation is an optimal flow of the network of `allocator.flow` (children -> buckets ->
sink, child -> sink when left unplaced, one-network lexicographic costs) for the run's open sites.
Node potentials for it come from Bellman-Ford on its residual network (no negative cycle, as the
flow is optimal), in exact integers. An arc's reduced cost `cost + d(tail) - d(head)` is then the
same for every optimal flow (complementary slackness): arcs with a positive reduced cost carry no
flow and arcs with a negative one are full in every optimal flow, so the optimal flows are exactly
the flows that differ from the run's only on arcs of reduced cost zero (the *tight* arcs). Equal
flow cost means equal value on every level of the contract's objective (the weights are exact).

Enumeration (binary partition, as in Uno's enumeration of matchings): given an optimal flow F and a
set of fixed pair arcs, look for a cycle in F's residual network over tight, unfixed arcs. None:
F is the only optimal flow agreeing with F on the fixed arcs (the difference of two flows is a sum
of such cycles). One: pushing it gives F' (optimal, different from F on the cycle's first pair arc
e, so a different allocation); every optimal flow agreeing with F on the fixed arcs agrees on e with
exactly one of F and F', so recursing on (F, fixed + e) and (F', fixed + e) lists each optimal
allocation once. The search stops after K allocations; the order is deterministic.

Cycles: a simple cycle either avoids the sink (children and buckets only, where no two residual arcs
are opposite, so any directed cycle will do), or passes it once, entering from u and leaving to v
with u != v (a path from v to u avoiding the sink): bucket -> sink -> the same bucket would be one
arc pushed both ways, not a cycle.

Sites: alternatives keep the run's open sites (another set of sites that is equally good gives
allocations that are listed only when they also fit these sites).
"""

import time
from collections import deque
from dataclasses import replace

import numpy as np

from allocator.flow import lexicographic_weights
from allocator.instance import Instance
from allocator.potentials import residual_reduced_costs
from allocator.solve import Run, summarise
from data.arrays import BoolArray, IntArray
from models.results import Allocation, Alternatives

_INT64_SAFE = 2**62


class _TightNetwork:
    """The tight arcs of the run's network and the residual search over them."""

    def __init__(self, instance: Instance, open_sites: BoolArray, chosen_pair: IntArray) -> None:
        self.instance = instance
        pairs = instance.usable_pairs(open_sites)
        n, bucket_count = instance.child_count, instance.bucket_school.size
        self.sink = n + bucket_count
        free = np.unique(instance.pair_child[pairs])
        scale_a, _, weight = lexicographic_weights(instance, pairs) if pairs.size else (1, 1, {})
        # Arcs: pair arcs, bucket -> sink, child -> sink (left unplaced). Exact Python integers.
        tails = np.concatenate([instance.pair_child[pairs], n + np.arange(bucket_count), free])
        heads = np.concatenate([n + instance.pair_bucket[pairs], np.full(bucket_count + free.size, self.sink)])
        pair_costs = instance.pair_cost[pairs].astype(object) * scale_a + instance.pair_minutes[pairs].astype(object)
        unplaced_costs = np.array([weight[int(tier)] for tier in instance.child_priority[free]], dtype=object)
        costs = np.concatenate([pair_costs, np.zeros(bucket_count, dtype=object), unplaced_costs])
        load = np.bincount(instance.pair_bucket[chosen_pair[chosen_pair >= 0]], minlength=bucket_count)
        flows = np.concatenate(
            [
                (chosen_pair[instance.pair_child[pairs]] == pairs).astype(np.int64),
                load,
                (chosen_pair[free] < 0).astype(np.int64),
            ]
        )
        capacities = np.concatenate([np.ones(pairs.size, np.int64), instance.bucket_free, np.ones(free.size, np.int64)])
        reduced = _reduced_costs(tails, heads, costs, flows, capacities, self.sink + 1)
        # Not optimal for its sites (never for a flow's own allocation): no arc is tight, no alternative.
        tight = np.zeros(tails.size, bool) if reduced is None else reduced == 0
        self.tight_pairs = pairs[tight[: pairs.size]].tolist()
        self.tight_bucket = tight[pairs.size : pairs.size + bucket_count]
        self.tight_unplaced = dict(zip(free.tolist(), tight[pairs.size + bucket_count :].tolist(), strict=True))
        self.pair_of = {
            (child, bucket): pair
            for child, bucket, pair in zip(
                instance.pair_child[pairs].tolist(), instance.pair_bucket[pairs].tolist(), pairs.tolist(), strict=True
            )
        }

    def residual(self, chosen: IntArray, fixed: frozenset[int]) -> tuple[dict[int, list[int]], list[int], set[int]]:
        """Sink-free residual arcs over tight unfixed arcs (node -> heads), the nodes the sink
        reaches (out) and the nodes reaching it (in)."""
        instance, n = self.instance, self.instance.child_count
        graph: dict[int, list[int]] = {}
        for pair in self.tight_pairs:
            if pair in fixed:
                continue
            child, bucket = int(instance.pair_child[pair]), n + int(instance.pair_bucket[pair])
            if chosen[child] == pair:
                graph.setdefault(bucket, []).append(child)
            else:
                graph.setdefault(child, []).append(bucket)
        load = np.bincount(instance.pair_bucket[chosen[chosen >= 0]], minlength=instance.bucket_school.size)
        out: list[int] = []
        into: set[int] = set()
        for bucket in np.flatnonzero(self.tight_bucket).tolist():
            if load[bucket] < instance.bucket_free[bucket]:
                into.add(n + bucket)
            if load[bucket] > 0:
                out.append(n + bucket)
        for child, is_tight in self.tight_unplaced.items():
            if is_tight and chosen[child] < 0:
                out.append(child)
            elif is_tight:
                into.add(child)
        return graph, sorted(out), into

    def find_cycle(self, chosen: IntArray, fixed: frozenset[int]) -> list[int] | None:
        """Nodes of a residual cycle over tight unfixed arcs (the sink as `self.sink`), or None."""
        graph, out, into = self.residual(chosen, fixed)
        cycle = _directed_cycle(graph)
        if cycle is not None:
            return cycle
        path = _path_between(graph, out, into)
        return None if path is None else [self.sink, *path]

    def push(self, chosen: IntArray, cycle: list[int]) -> tuple[IntArray, int]:
        """The allocation after pushing one unit round `cycle`, and the cycle's first pair arc."""
        n = self.instance.child_count
        result = chosen.copy()
        first_pair = -1
        for tail, head in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
            if tail < n:  # a child leaves by its new arc: to a bucket, or to the sink (unplaced)
                result[tail] = -1 if head == self.sink else self.pair_of[(tail, head - n)]
                pair = result[tail] if head != self.sink else -1
            elif head < n and tail != self.sink:  # a child leaves its bucket
                pair = int(chosen[head])
            else:
                pair = -1
            if first_pair < 0 and pair >= 0:
                first_pair = int(pair)
        return result, first_pair


def optimal_alternatives(
    instance: Instance, open_sites: BoolArray, chosen_pair: IntArray, count: int
) -> list[IntArray]:
    """Up to `count` different optimal allocations (`chosen_pair` per child), the run's first.
    `chosen_pair` must be optimal for `open_sites`."""
    found = [chosen_pair.copy()]
    if count <= 1:
        return found
    network = _TightNetwork(instance, open_sites, chosen_pair)
    stack: list[tuple[IntArray, frozenset[int]]] = [(found[0], frozenset())]
    while stack and len(found) < count:
        chosen, fixed = stack.pop()
        cycle = network.find_cycle(chosen, fixed)
        if cycle is None:
            continue
        other, arc = network.push(chosen, cycle)
        found.append(other)
        # depth-first, the run's own side first: both halves are searched until `count` are found
        stack.append((other, fixed | {arc}))
        stack.append((chosen, fixed | {arc}))
    return found


def _reduced_costs(
    tails: IntArray, heads: IntArray, costs: np.ndarray, flows: IntArray, capacities: IntArray, node_count: int
) -> np.ndarray | None:
    """Reduced costs of the arcs under shortest-path potentials of the residual network
    (Bellman-Ford from a virtual source joined to every node at cost 0), exact: int64 when every
    path length fits, else Python integers. None when the residual network has a negative cycle
    (the allocation given was not optimal for its sites)."""
    largest = max((abs(int(c)) for c in costs), default=0)
    if largest * (node_count + 1) < _INT64_SAFE:
        costs = costs.astype(np.int64)
    return residual_reduced_costs(tails, heads, capacities, costs, flows, node_count)


def _directed_cycle(graph: dict[int, list[int]]) -> list[int] | None:
    """A directed cycle (its nodes in order), by iterative depth-first search in node order."""
    state: dict[int, int] = {}  # 1 on the current path, 2 finished
    for root in sorted(graph):
        if root in state:
            continue
        path, iterators = [root], [iter(graph.get(root, []))]
        state[root] = 1
        while path:
            node = next(iterators[-1], None)
            if node is None:
                state[path.pop()] = 2
                iterators.pop()
                continue
            if state.get(node) == 1:
                return path[path.index(node) :]
            if node not in state:
                state[node] = 1
                path.append(node)
                iterators.append(iter(graph.get(node, [])))
    return None


def _path_between(graph: dict[int, list[int]], starts: list[int], ends: set[int]) -> list[int] | None:
    """A path of at least one arc from one of `starts` to one of `ends` (breadth-first; the
    graph has no cycle here, so its two ends differ), or None."""
    parent: dict[int, int] = {}
    queue = deque(starts)
    seen = set(starts)
    while queue:
        node = queue.popleft()
        for head in graph.get(node, []):
            if head in ends:
                path = [head, node]
                while path[-1] in parent:
                    path.append(parent[path[-1]])
                return path[::-1]
            if head not in seen:
                seen.add(head)
                parent[head] = node
                queue.append(head)
    return None


def with_alternatives(run: Run, count: int, input_sha256: str) -> tuple[Allocation, list[Allocation]]:
    """The run's allocation with summary `alternatives`, and up to `count - 1` further optimal
    allocations (the same open sites). A stable run has one allocation (the child-optimal stable
    allocation is unique), and a run with a [fairness] rule is not enumerated: both get none."""
    started = time.perf_counter()
    found: list[IntArray] = [run.solution.chosen_pair]
    if run.allocation.summary.objective == "optimal" and run.allocation.summary.price_of_fairness is None:
        found = optimal_alternatives(run.instance, run.solution.open_sites, run.solution.chosen_pair, count)
    further = [
        summarise(run.instance, replace(run.solution, chosen_pair=chosen), input_sha256, started)
        for chosen in found[1:]
    ]
    summary = run.allocation.summary.model_copy(
        update={"alternatives": Alternatives(requested=count, allocations=len(found))}
    )
    return run.allocation.model_copy(update={"summary": summary}), further
