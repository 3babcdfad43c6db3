"""An allocation for a fixed set of open sites, built from the contract's models alone (no
allocator.instance, no allocator.flow): maximum flows then one min-cost flow per set of sites, so that a site
choice can be checked by brute force over every set.

Eligibility is the contract's rules 1-4 written out here over the models (places for the need,
age in range, travel within the phase limit unless the family ranked the school, candidate
sites only when opened), with travel by `allocator.checker.independent_travel` (geopy's
geodesic, not the product's pyproj estimate).

Network: child -> (school, need) -> sink (the school's places for that need, less its locked
children). Two stages, so that no weight is large:
1. the tiers (`placed_by_tier`): for each tier t from the highest, scipy's maximum flow from the
   children of tier t or higher; the differences are the most children of each tier that the
   contract's levels 1 place (see that method for why);
2. preference and travel with those counts held: one source per tier with exactly that tier's
   count to send (no bypass), placing c at s costs A * preference_cost(c, s) + minutes(c, s)
   with A one more than the largest possible travel total (levels 2 and 3).
Any allocation with stage 1's counts is optimal for level 1, so stage 2's optimum is the
contract's. Locked children keep their school and are counted as placed, with their rank (or
unranked_cost) and minutes.
"""

from collections import Counter
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from allocator.checker import independent_travel
from models.case import Case, SchoolKind


@dataclass(frozen=True)
class Value:
    """A run's objective as the contract orders it: placed per tier (highest first), preference
    cost, travel minutes. Larger `key()` is better."""

    placed_by_tier: tuple[tuple[int, int], ...]  # (tier, placed), highest tier first
    preference_cost: int
    travel_minutes: int

    def key(self) -> tuple[tuple[int, ...], int, int]:
        return tuple(n for _, n in self.placed_by_tier), -self.preference_cost, -self.travel_minutes


class IndependentRound:
    """Eligible (child, school) options of every child with every candidate open, computed once
    (contract rules 1-3 by `allocator.checker`); `value(opened)` solves one flow for a set of sites."""

    def __init__(self, case: Case, given: dict[tuple[str, str], int] | None = None) -> None:
        self.case = case
        travel = independent_travel(case, given or {})
        ranks = {(p.child_id, p.school_id): p.rank for p in case.preferences}
        self.candidates = {s.school_id for s in case.schools if s.kind == SchoolKind.CANDIDATE}
        self.tiers = sorted({c.priority for c in case.children}, reverse=True)
        places = {(o.school_id, o.need.value): o.places for o in case.places}
        locked: Counter[tuple[str, str]] = Counter()
        placed_locked: Counter[int] = Counter()
        locked_pref = locked_minutes = 0
        child_rows, bucket_rows, prefs, minutes, tiers = [], [], [], [], []
        buckets: dict[tuple[str, str], int] = {}
        for index, child in enumerate(case.children):
            if child.locked_school_id is not None:
                locked[(child.locked_school_id, child.need.value)] += 1
                placed_locked[child.priority] += 1
                locked_pref += ranks.get((child.child_id, child.locked_school_id), case.policy.unranked_cost)
                locked_minutes += travel(child.child_id, child.locked_school_id)
                continue
            limit = case.policy.travel_limit(child.age)
            for school in case.schools:
                key = (school.school_id, child.need.value)
                if places.get(key, 0) <= 0 or not school.age_min <= child.age <= school.age_max:
                    continue
                if (child.child_id, school.school_id) not in ranks and travel(child.child_id, school.school_id) > limit:
                    continue
                child_rows.append(index)
                bucket_rows.append(buckets.setdefault(key, len(buckets)))
                prefs.append(ranks.get((child.child_id, school.school_id), case.policy.unranked_cost))
                minutes.append(travel(child.child_id, school.school_id))
                tiers.append(child.priority)
        self.locked_value = placed_locked, locked_pref, locked_minutes
        self.bucket_keys = list(buckets)
        self.bucket_places = np.array([places[k] - locked[k] for k in self.bucket_keys], dtype=np.int64)
        self.arc_child = np.array(child_rows, dtype=np.int64)
        self.arc_bucket = np.array(bucket_rows, dtype=np.int64)
        self.arc_pref = np.array(prefs, dtype=np.int64)
        self.arc_minutes = np.array(minutes, dtype=np.int64)
        self.arc_tier = np.array(tiers, dtype=np.int64)
        site_ids = sorted(self.candidates)
        self.site_ids = site_ids
        # per arc: the candidate site's position in site_ids, or -1 for a school that is always open
        self.arc_site = np.array(
            [
                site_ids.index(k[0]) if k[0] in self.candidates else -1
                for k in (self.bucket_keys[b] for b in bucket_rows)
            ],
            dtype=np.int64,
        )
        self.a = self._travel_weight()
        self.child_source = np.array([self.tiers.index(c.priority) for c in case.children], dtype=np.int64)

    def _travel_weight(self) -> int:
        """Stage 2's A: one more than the largest travel total any allocation can have."""
        most_minutes: dict[int, int] = {}
        for child, mins in zip(self.arc_child.tolist(), self.arc_minutes.tolist(), strict=True):
            most_minutes[child] = max(most_minutes.get(child, 0), mins)
        return sum(most_minutes.values()) + 1

    def _kept(self, opened: set[str]) -> np.ndarray:
        """Which arcs are usable with exactly the candidate sites `opened` open (rule 4)."""
        open_positions = [i for i, site in enumerate(self.site_ids) if site in opened]
        kept: np.ndarray = (self.arc_site < 0) | np.isin(self.arc_site, open_positions)
        return kept

    def placed_by_tier(self, opened: set[str]) -> tuple[int, ...]:
        """Stage 1: children placed per tier (highest first, locked children included), the
        contract's first levels, with exactly `opened` open, by scipy's maximum flow (not
        OR-Tools): the children who can be placed together form a matroid (a gammoid), so the
        best count of children of tier t or higher, in the lexicographic optimum, is the maximum
        flow from those children alone, for every t at once (a greedy basis has full rank on
        every prefix of the order)."""
        keep = self._kept(opened)
        children, buckets = len(self.case.children), len(self.bucket_keys)
        source, sink = children + buckets, children + buckets + 1
        free = np.array([c.locked_school_id is None for c in self.case.children])
        priority = np.array([c.priority for c in self.case.children])
        reachable: list[int] = []
        for tier in self.tiers:  # highest first
            senders = np.flatnonzero(free & (priority >= tier))
            tails = np.concatenate([np.full(senders.size, source), self.arc_child[keep], children + np.arange(buckets)])
            heads = np.concatenate([senders, children + self.arc_bucket[keep], np.full(buckets, sink)])
            capacity = np.concatenate(
                [np.ones(senders.size), np.ones(int(keep.sum())), np.maximum(self.bucket_places, 0)]
            )
            graph = csr_matrix((capacity.astype(np.int32), (tails, heads)), shape=(sink + 1, sink + 1))
            reachable.append(int(maximum_flow(graph, source, sink, method="dinic").flow_value))
        tally = Counter(self.locked_value[0])
        for index, tier in enumerate(self.tiers):
            tally[tier] += reachable[index] - (reachable[index - 1] if index else 0)
        return tuple(tally[t] for t in self.tiers)

    def value(self, opened: set[str]) -> Value:
        """The optimal objective with exactly the candidate sites `opened` open (both stages)."""
        keep = self._kept(opened)
        tier = self.arc_tier[keep]
        placed, pref, minutes = self.locked_value
        counts = Counter(dict(zip(self.tiers, self.placed_by_tier(opened), strict=True)))
        counts.subtract(placed)
        second = self._solve(keep, self.a * self.arc_pref[keep] + self.arc_minutes[keep], counts)
        tally = Counter(placed)
        tally.update(tier[second].tolist())
        assert Counter(tier[second].tolist()) == +counts
        return Value(
            tuple((t, tally[t]) for t in self.tiers),
            pref + int(self.arc_pref[keep][second].sum()),
            minutes + int(self.arc_minutes[keep][second].sum()),
        )

    def _solve(self, keep: np.ndarray, cost: np.ndarray, counts: Counter[int]) -> np.ndarray:
        """Stage 2's min-cost flow over the kept arcs, each tier's source sending exactly its
        count (so exactly `counts[t]` children of tier t are placed); which of the kept arcs
        carry a child."""
        children, buckets = len(self.case.children), len(self.bucket_keys)
        sink = children + buckets
        sources = {t: sink + 1 + i for i, t in enumerate(self.tiers)}
        child_tier = sink + 1 + self.child_source
        kept = int(keep.sum())
        flow = min_cost_flow.SimpleMinCostFlow()
        tails = np.concatenate([self.arc_child[keep], children + np.arange(buckets), child_tier])
        heads = np.concatenate([children + self.arc_bucket[keep], np.full(buckets, sink), np.arange(children)])
        capacity = np.concatenate([np.ones(kept), np.maximum(self.bucket_places, 0), np.ones(children)])
        unit_cost = np.concatenate([cost, np.zeros(buckets), np.zeros(children)])
        supplies = np.zeros(sink + 1 + len(self.tiers), dtype=np.int64)
        for t, node in sources.items():
            supplies[node] = counts[t]
        supplies[sink] = -int(supplies.sum())
        flow.add_arcs_with_capacity_and_unit_cost(
            tails.astype(np.int64), heads.astype(np.int64), capacity.astype(np.int64), unit_cost.astype(np.int64)
        )
        flow.set_nodes_supplies(np.arange(supplies.size), supplies)
        status = flow.solve()
        assert status == flow.OPTIMAL, status
        return np.asarray(flow.flows(np.arange(kept)), dtype=np.int64) > 0
