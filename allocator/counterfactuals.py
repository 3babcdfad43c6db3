"""Exact counterfactuals for every child, from one residual network (`allocator.residual`).

"The child gets X after the change" means: some optimal allocation of the changed round (same
open sites) gives the child X. With C the optimum, f the optimal flow and G its residual network:

* Unplaced child c, one more place at bucket b: OPT(+b) = C + min(0, dist_G(sink, b)); the best
  flow of the changed round with c at b is c's place at b (the new one) and the rest as the round
  without c, whose optimum is C - W_c (c was unplaced: f without c is optimal for it, and any flow
  of it plus c unplaced is a flow of the round). So b works iff
  dist_G(sink, b) == cost(c, b) - W_c. One Dijkstra from the sink serves every child.
* Child c placed at x, first choice at bucket t: OPT(+t, c at t) = cost(c, t) + OPT(without c),
  and OPT(without c) = C - cost(c, x) + min(0, dist_{G - c}(sink, x)) (f without c is optimal for
  the round without c and with one place fewer at x; giving x its place back is one more unit of
  capacity). G - c is G without c's arcs (and without sink -> x when c was x's only child). So
  t works iff cost(c, t) - cost(c, x) + min(0, dist_{G-c}(sink, x)) == min(0, dist_G(sink, t)).
  One Dijkstra per such child.
* Unplaced child c, more minutes or a more urgent tier: a cycle that places c enters c through
  sink -> c (c has no other arc in), so the cheapest way to place c is
  -W_c + min over c's arcs c -> b of (cost(c, b) + dist_G(b, sink)), and such paths never pass
  through c again, so neither change alters dist_G(b, sink) (one Dijkstra to the sink for all).
  With N more minutes c gains the arcs to unranked schools within limit + N; with tier t,
  W_c becomes W(t). c is placed in some optimal allocation iff that cheapest cycle costs <= 0.
* A placed child's tier never changes which school it gets: every path that moves c from x to
  another school avoids c's arc to the sink, the only arc whose cost the tier sets. So
  `priority_needed` applies to unplaced children only.
"""

from dataclasses import dataclass

import numpy as np

from allocator.beyond import largest_beyond, least_placing
from allocator.instance import Instance
from allocator.residual import UNREACHABLE, ResidualNetwork, TooLargeToExplain, build_residual, weight_base
from allocator.solution import Solution
from data.arrays import BoolArray, IntArray
from models.results import RunStatus


@dataclass(frozen=True)
class ChildChanges:
    """Per child: `forced`, and the smallest changes (school index, minutes, tier; -1 when none)."""

    forced: bool
    add_place_school: int = -1
    extra_minutes: int = -1
    priority_needed: int = -1


def first_choice_schools(instance: Instance) -> IntArray:
    """The school each family ranked best (its lowest rank), -1 when it ranked none."""
    school_index = {school.school_id: i for i, school in enumerate(instance.case.schools)}
    child_index = {child.child_id: i for i, child in enumerate(instance.case.children)}
    best: dict[int, tuple[int, int]] = {}
    for preference in instance.case.preferences:
        child, school = child_index[preference.child_id], school_index[preference.school_id]
        if child not in best or (preference.rank, school) < best[child]:
            best[child] = (preference.rank, school)
    first = np.full(instance.child_count, -1, np.int64)
    for child, (_, school) in best.items():
        first[child] = school
    return first


def exact_changes(instance: Instance, solution: Solution) -> list[ChildChanges] | None:
    """Every child's ChildChanges, or None when the run is not proven optimal or its weights
    would not stay exact (see `allocator.residual`; out of range with no margin means out of
    range with any, so no option beyond the limit is priced then)."""
    if solution.status is not RunStatus.OPTIMAL:
        return None
    chosen = solution.chosen_pair
    base = weight_base(instance, instance.usable_pairs(solution.open_sites))
    if not base.in_range(0):
        return None
    unplaced = np.flatnonzero((instance.locked_school < 0) & (chosen < 0))
    school_ok = ~instance.is_candidate | solution.open_sites
    try:
        net = build_residual(instance, solution.open_sites, chosen, largest_beyond(instance, unplaced, school_ok), base)
    except TooLargeToExplain:
        return None
    return _Changes(instance, net, solution, unplaced, school_ok).all()


class _Changes:
    def __init__(
        self, instance: Instance, net: ResidualNetwork, solution: Solution, unplaced: IntArray, school_ok: BoolArray
    ) -> None:
        self.instance, self.net, self.chosen = instance, net, solution.chosen_pair
        n = instance.child_count
        self.pair_child = instance.pair_child[net.pairs]
        self.starts = np.searchsorted(self.pair_child, np.arange(n + 1))
        self.from_sink = net.distances_from(net.sink)
        self.to_sink = net.distances_to(net.sink)
        self.first = first_choice_schools(instance)
        self.forced = net.forced_children()
        # an option beyond the limit at bucket b with m minutes places unplaced child c in some
        # optimal allocation of the longer limit iff unranked * A + m + dist(b, sink) - W_c <= 0
        reach = self.to_sink[n + np.arange(instance.bucket_school.size)]
        self.least_beyond = least_placing(
            instance,
            unplaced,
            school_ok,
            net.unplaced_cost - instance.case.policy.unranked_cost * net.weights.scale_a,
            reach,
            reach < UNREACHABLE,
        )

    def all(self) -> list[ChildChanges]:
        changes = []
        for child in range(self.instance.child_count):
            forced = bool(self.forced[child])
            if self.instance.locked_school[child] >= 0:
                changes.append(ChildChanges(forced=True))
            elif self.chosen[child] < 0:
                changes.append(self._unplaced(child, forced))
            else:
                changes.append(self._placed(child, forced))
        return changes

    def _unplaced(self, child: int, forced: bool) -> ChildChanges:
        net, instance = self.net, self.instance
        n = instance.child_count
        mine = slice(self.starts[child], self.starts[child + 1])
        buckets = instance.pair_bucket[net.pairs[mine]]
        costs = net.pair_cost[mine]
        own = int(net.unplaced_cost[child])
        reach = self.to_sink[n + buckets]
        cheapest = _least(costs + reach, reach < UNREACHABLE)
        if cheapest is not None and cheapest <= own:
            return ChildChanges(forced=forced)  # some optimal allocation already places the child
        works = self.from_sink[n + buckets] == costs - own
        schools = instance.bucket_school[buckets[works]]
        minutes = instance.pair_minutes[net.pairs[mine]][works]
        return ChildChanges(
            forced=forced,
            add_place_school=self._preferred(child, schools, minutes),
            extra_minutes=self._extra_minutes(child),
            priority_needed=self._priority_needed(child, cheapest),
        )

    def _preferred(self, child: int, schools: IntArray, minutes: IntArray) -> int:
        """The first choice if it is among `schools`, else the nearest (then the first listed)."""
        if schools.size == 0:
            return -1
        if self.first[child] >= 0 and (schools == self.first[child]).any():
            return int(self.first[child])
        return int(schools[np.lexsort((schools, minutes))[0]])

    def _extra_minutes(self, child: int) -> int:
        least = int(self.least_beyond[child])
        return least - int(self.instance.child_limit[child]) if least >= 0 else -1

    def _priority_needed(self, child: int, cheapest: int | None) -> int:
        if cheapest is None:
            return -1
        weights = self.net.weights
        for tier in range(int(self.instance.child_priority[child]) + 1, max(weights.present) + 1):
            if weights.unplaced_cost(tier) >= cheapest:
                return tier
        return -1

    def _placed(self, child: int, forced: bool) -> ChildChanges:
        net, instance = self.net, self.instance
        first = int(self.first[child])
        pair = int(self.chosen[child])
        if first < 0 or int(instance.pair_school[pair]) == first:
            return ChildChanges(forced=forced)
        mine = np.arange(self.starts[child], self.starts[child + 1])
        at_first = mine[instance.pair_school[net.pairs[mine]] == first]
        if at_first.size == 0:
            return ChildChanges(forced=forced)  # the first choice cannot take this child at all
        n = instance.child_count
        held = int(np.searchsorted(net.pairs, pair))
        bucket = int(instance.pair_bucket[pair])
        keep = (net.tails != child) & (net.heads != child)
        if net.bucket_load[bucket] == 1:
            keep &= ~((net.tails == net.sink) & (net.heads == n + bucket))
        freed = int(net.distances_from(net.sink, keep)[n + bucket])
        target = int(instance.pair_bucket[net.pairs[at_first[0]]])
        gain = int(net.pair_cost[at_first[0]]) - int(net.pair_cost[held]) + min(0, freed)
        works = gain == min(0, int(self.from_sink[n + target]))
        return ChildChanges(forced=forced, add_place_school=first if works else -1)


def _least(values: IntArray, valid: np.ndarray) -> int | None:
    return int(values[valid].min()) if valid.any() else None
