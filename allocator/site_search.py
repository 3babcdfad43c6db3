"""Exact site choice with capacities: best-first branch and bound over sets of candidate sites,
each set allocated exactly by one min-cost flow.

Value of a set S of open sites: v(S) = the contract's objective of the optimal allocation with
S open (one flow, `allocator.flow`), as one exact integer

    g(S) = sum_t W_t * placed_t(S) - A * preference_cost(S) - travel_minutes(S)

with W_t = P * (P * (n + 1))**ordinal(t), P = 10**30 and A = 10**15: for every value the
flow can take (minutes below A, A * preference + minutes below P, at most n children a tier),
g orders sets exactly as the contract's strict order does.

Why the bound is valid. g(S) is the value of a maximum-weight assignment of children to the
places of the open sites, with weight W_t - A * pref - minutes > 0 per usable pair; as a
function of the set of places offered, the value of an assignment problem is submodular
(Shapley 1962: in the assignment game the sellers are substitutes), and so it is as a function
of sets of sites (each site a group of places). Opening a site never lowers it (monotone).
Hence for a node that has fixed the sites S (and allows only candidates after its last one),
every completion S + R with |R| = r satisfies

    g(S + R) <= g(S) + sum of the r largest gains g(S' + j) - g(S') over allowed j,

for any S' included in S whose gains are known (a gain can only shrink as the set grows). The
search pops the node with the largest bound; a node whose own value is not yet computed carries
the bound g(parent) + gain_ub(j) + ..., and is re-pushed with its exact value when popped
(lazy evaluation: a flow is solved only for nodes that reach the top). It stops when the best
bound left is no better than the best complete set found: that set is optimal. Ties keep the
first complete set popped (the heap orders equal bounds by their sites), so the answer is
deterministic.

At a time limit the best complete set found so far is returned as `feasible` (gap 1.0: the
bound is on the scalar g, not per level). The limit is a deterministic budget of flows, not the
clock: `flow_budget` converts the time limit with an estimate of one flow's seconds from the
round's size (usable pairs with every site open x `SECONDS_PER_PAIR`, measured on the 2-core
development machine), so the same case and options stop after the same node on every run and
write the same files. The allocation returned is the exact flow for the sets' open sites.
"""

import heapq
from dataclasses import dataclass, field

import numpy as np

from allocator.flow import assign
from allocator.instance import Instance
from allocator.objective import ObjectiveValue, evaluate
from allocator.site_choice import SiteChoice
from allocator.solution import Solution
from allocator.status import CostsTooLarge
from data.arrays import IntArray
from models.results import RunStatus

SOLVER = "min_cost_flow_branch_and_bound"
_P = 10**30
SECONDS_PER_PAIR = 2.7e-6  # one flow's seconds per usable pair (issue 12 measured 2.7 us)
_A = 10**15


@dataclass(order=True)
class _Node:
    priority: tuple[int, tuple[int, ...]]  # (-bound, sites): best bound first, then enumeration order
    sites: tuple[int, ...] = field(compare=False)  # positions in choice.choosable, increasing
    exact: bool = field(compare=False)  # the bound uses the node's own value
    gains: IntArray | None = field(compare=False, default=None)  # upper bounds of gains, per position


class _Search:
    def __init__(self, instance: Instance, choice: SiteChoice, budget: int) -> None:
        self.instance, self.choice, self.budget = instance, choice, budget
        self.tiers = instance.tiers()
        n = instance.child_count
        self.weight = {tier: _P * (_P * (n + 1)) ** ordinal for ordinal, tier in enumerate(sorted(self.tiers))}
        self.values: dict[tuple[int, ...], tuple[int, IntArray]] = {}
        self.flows = 0

    def scalar(self, value: ObjectiveValue) -> int:
        if value.travel_minutes >= _A or value.preference_cost * _A + value.travel_minutes >= _P:
            raise CostsTooLarge("travel or preference totals beyond the search's exact encoding")
        placed = sum(self.weight[tier] * count for tier, count in value.placed_by_tier(self.tiers).items())
        return placed - _A * value.preference_cost - value.travel_minutes

    def value(self, sites: tuple[int, ...]) -> int:
        """g of the forced sites plus `sites` (positions), solving one flow the first time."""
        if sites not in self.values:
            open_sites = self.choice.with_open(self.choice.choosable[list(sites)])
            chosen = assign(self.instance, open_sites).chosen_pair
            self.flows += 1
            self.values[sites] = (self.scalar(evaluate(self.instance, chosen)), chosen)
        return self.values[sites][0]

    def out_of_time(self) -> bool:
        return self.flows >= self.budget


def flow_budget(instance: Instance, time_limit: float) -> int:
    """The flows a search may solve within `time_limit` seconds (at least one): a deterministic
    function of the case and the limit (see the module docstring)."""
    pairs = instance.usable_pairs(np.ones(instance.school_count, bool)).size
    return max(1, int(time_limit / (max(pairs, 1) * SECONDS_PER_PAIR)))


def _top_sum(gains: IntArray | list[int], after: int, count: int) -> int:
    """The sum of the `count` largest gains at positions after `after` (gains are Python ints)."""
    if count <= 0:
        return 0
    rest = sorted((int(g) for g in gains[after + 1 :]), reverse=True)
    return sum(max(g, 0) for g in rest[:count])


def branch_and_bound(instance: Instance, choice: SiteChoice, time_limit: float) -> Solution:
    """The best set of `choice.to_open` choosable sites (see the module docstring)."""
    search = _Search(instance, choice, flow_budget(instance, time_limit))
    size, r = int(choice.choosable.size), choice.to_open
    base = search.value(())
    root_gains = np.array([search.value((j,)) - base for j in range(size)], dtype=object)
    best: tuple[int, tuple[int, ...]] | None = None  # (g, sites) of the best complete set
    heap: list[_Node] = []

    def push(sites: tuple[int, ...], bound: int, exact: bool, gains: IntArray) -> None:
        if best is None or bound > best[0]:
            heapq.heappush(heap, _Node((-bound, sites), sites, exact, gains))

    push((), base + _top_sum(root_gains, -1, r), True, root_gains)
    timed_out = False
    while heap:
        node = heapq.heappop(heap)
        bound = -node.priority[0]
        if best is not None and bound <= best[0]:
            break  # no set left can beat the best: proven
        if search.out_of_time():
            timed_out = True
            break
        assert node.gains is not None
        last = node.sites[-1] if node.sites else -1
        if not node.exact:
            own = search.value(node.sites)
            push(node.sites, own + _top_sum(node.gains, last, r - len(node.sites)), True, node.gains)
            continue
        own = search.value(node.sites)
        if len(node.sites) == r:
            if best is None or own > best[0]:
                best = (own, node.sites)
            continue
        need = r - len(node.sites)
        gains = node.gains.copy()  # the gains known here are the tighter ones
        for position in range(last + 1, size):
            if (*node.sites, position) in search.values:
                gains[position] = min(int(gains[position]), search.values[(*node.sites, position)][0] - own)
        for position in range(last + 1, size - need + 1):
            child = (*node.sites, position)
            if child in search.values:
                child_value, exact = search.values[child][0], True
            else:
                child_value, exact = own + max(int(gains[position]), 0), False
            push(child, child_value + _top_sum(gains, position, need - 1), exact, gains)
    if best is None:  # out of time before any complete set: the greedy completion of the root
        sites = tuple(int(j) for j in sorted(np.argsort(-root_gains.astype(float), kind="stable")[:r]))
        best = (search.value(sites), sites)
        timed_out = True
    chosen = search.values[best[1]][1]
    open_sites = choice.with_open(choice.choosable[list(best[1])])
    status = RunStatus.FEASIBLE if timed_out else RunStatus.OPTIMAL
    stopped = time_limit if timed_out else None
    return Solution(chosen, open_sites, status, SOLVER, {}, 1.0 if timed_out else 0.0, stopped)
