"""The unplaced children's options beyond the travel limit, priced only as far as the
explanations use them.

A child's need-and-age options (rules 1 and 2 of CONTRACT.md: a bucket of the child's need at a
school taking the child's age) are of two kinds:

* In time (rule 3: within the phase limit, or ranked by the family). These are exactly the
  child's eligible pairs of the instance (`Instance.pair_eligible`), already priced exactly:
  `build_instance` drops a need-and-age pair only when it is not ranked, has no given figure and a
  lower bound of its estimate is over the limit (so its minutes are too), and the k-d tree's
  nearby pairs are a superset of the others (tests/core/test_nearby_pairs.py). Candidate sites
  are pairs like any other school's: rule 4 is left to the solvers.
* Beyond the limit (not ranked, minutes over the limit): the child's other pairs of the instance,
  priced exactly, and the pairs `build_instance` dropped, which have no given figure.

Of the beyond options the explanations use only: how many there are and the nearest few by
(minutes, school) with their exact minutes (`beyond_limit`, for the unplaced reasons); for the
counterfactuals, the least minutes among those that would place the child (`least_placing`) and
the largest minutes at schools open in the run (`largest_beyond`, which sizes the weights). Each is
found from the bounds of `allocator.bounds` (lower <= exact <= upper, in minutes), pricing
exactly (with a geodesic, where the two bounds differ) only the options the bounds leave open;
the proof of each is in its docstring.

Options are taken a need and an age at a time: the children of that need and age against every
bucket of that need at a school taking that age, as a grid (`_Block`), without a sort.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from allocator.bounds import lower_minutes_grid, minutes_bounds
from allocator.instance import Instance
from data.arrays import BoolArray, FloatArray, IntArray, joined, ranges
from data.travel import estimate_minutes

CHUNK_OPTIONS = 1_000_000  # grid cells per block, so that memory stays bounded at any scale
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Beyond:
    """Per child (children not asked about have none): `count` options beyond the travel limit,
    and the nearest `nearest` of them by (minutes, school), with exact minutes, in that order:
    child c's are [named_starts[c], named_starts[c + 1]) of `named_bucket` and `named_minutes`."""

    count: IntArray
    named_starts: IntArray
    named_bucket: IntArray
    named_minutes: IntArray


def beyond_limit(instance: Instance, children: IntArray, nearest: int) -> Beyond:
    """The `children`'s options beyond the travel limit (`Beyond`).

    Nearest: for a child with more than `nearest` of them, take any `nearest` with the least lower
    bounds and let T be the largest of their exact minutes. An option whose lower bound is over T
    has more minutes than each of those `nearest`, so it comes after them in (minutes, school)
    order: the nearest `nearest` are among the options whose lower bound is at most T, and only
    those are priced exactly and sorted."""
    n = instance.child_count
    count = np.zeros(n, np.int64)
    kids, buckets, minutes = [], [], []
    for block in _blocks(instance, children):
        count[block.kids] = block.beyond.sum(axis=1)
        rows, cols = block.nearest_candidates(nearest)
        kids.append(block.kids[rows])
        buckets.append(block.buckets[cols])
        minutes.append(block.minutes(rows, cols))
    child, bucket, exact = joined(kids), joined(buckets), joined(minutes)
    order = np.lexsort((instance.bucket_school[bucket], exact, child))
    child, bucket, exact = child[order], bucket[order], exact[order]
    within = np.arange(child.size) - np.searchsorted(child, child)  # position among the child's
    keep = within < nearest
    return Beyond(count, np.searchsorted(child[keep], np.arange(n + 1)), bucket[keep], exact[keep])


def largest_beyond(instance: Instance, children: IntArray, school_ok: BoolArray) -> int:
    """The largest minutes of the `children`'s options beyond the limit at schools `school_ok`
    (0 when none). With L the largest lower bound, the largest is at least L, so an option whose
    upper bound is under L is not it: only the others are priced exactly."""
    found = []
    for block in _blocks(instance, children):
        rows, cols = np.nonzero(block.beyond & school_ok[instance.bucket_school[block.buckets]][None, :])
        low, high = block.bounds(rows, cols)
        found.append((block, rows, cols, low, high))
    least = max((int(low.max()) for _, _, _, low, _ in found if low.size), default=0)
    largest = 0
    for block, rows, cols, _, high in found:
        reach = high >= least
        if reach.any():
            largest = max(largest, int(block.minutes(rows[reach], cols[reach]).max()))
    return largest


def least_placing(
    instance: Instance,
    children: IntArray,
    school_ok: BoolArray,
    budget: IntArray,
    bucket_cost: IntArray,
    reachable: BoolArray,
) -> IntArray:
    """Per child (-1 when none): the least minutes among the child's options beyond the limit at
    schools `school_ok` whose minutes m satisfy m <= budget[child] - bucket_cost[bucket], with
    the bucket `reachable` (the counterfactuals' test of an option placing the child).

    The test is monotone in m: an option failing it at its lower bound fails at its minutes. An
    option passing it at its upper bound passes; the least such upper bound U bounds the answer,
    so an option whose lower bound is over U cannot be the least. Only options passing at their
    lower bound, with a lower bound at most U, are priced exactly."""
    least = np.full(instance.child_count, -1, np.int64)
    for block in _blocks(instance, children):
        open_buckets = school_ok[instance.bucket_school[block.buckets]] & reachable[block.buckets]
        cap = np.where(open_buckets[None, :], budget[block.kids][:, None] - bucket_cost[block.buckets][None, :], -1)
        rows, cols = np.nonzero(block.beyond & (block.low <= cap))
        low, high = block.bounds(rows, cols)
        limit = cap[rows, cols]
        sure = np.full(block.kids.size, _NEVER)
        np.minimum.at(sure, rows[high <= limit], high[high <= limit])
        keep = low <= sure[rows]
        rows, cols, limit = rows[keep], cols[keep], limit[keep]
        minutes = block.minutes(rows, cols)
        works = minutes <= limit
        best = np.full(block.kids.size, _NEVER)
        np.minimum.at(best, rows[works], minutes[works])
        placed = best < _NEVER
        least[block.kids[placed]] = best[placed]
    return least


class _Block:
    """Children of one need and age (rows) against every bucket of that need at a school that
    takes that age (columns): `low` bounds each option's minutes from below and is exact where
    `exact`; `beyond` marks the options beyond the travel limit (all but the eligible pairs)."""

    def __init__(
        self,
        instance: Instance,
        kids: IntArray,
        buckets: IntArray,
        pair_starts: IntArray,
        child_xyz: FloatArray,
        school_xyz: FloatArray,
    ) -> None:
        self.instance, self.kids, self.buckets = instance, kids, buckets
        self.schools = instance.bucket_school[buckets]
        self.child_xyz, self.school_xyz = child_xyz, school_xyz
        estimate = instance.case.policy.travel_estimate
        self.low = lower_minutes_grid(child_xyz[kids], school_xyz[self.schools], estimate)
        self.exact = np.zeros(self.low.shape, bool)
        self.beyond = np.ones(self.low.shape, bool)
        first, last = pair_starts[kids], pair_starts[kids + 1]
        pairs = ranges(first, last)
        rows = np.repeat(np.arange(kids.size), last - first)
        cols = np.searchsorted(buckets, instance.pair_bucket[pairs])
        eligible = instance.pair_eligible[pairs]
        self.beyond[rows[eligible], cols[eligible]] = False
        far = ~eligible
        self.low[rows[far], cols[far]] = instance.pair_minutes[pairs[far]]
        self.exact[rows[far], cols[far]] = True

    def nearest_candidates(self, nearest: int) -> tuple[IntArray, IntArray]:
        """The options beyond the limit that may be among each row's nearest (`beyond_limit`)."""
        counts = self.beyond.sum(axis=1)
        threshold = np.full(self.kids.size, _NEVER)
        crowded = np.flatnonzero(counts > nearest)
        if crowded.size:
            key = np.where(self.beyond[crowded], self.low[crowded], _NEVER)
            cols = np.argpartition(key, nearest - 1, axis=1)[:, :nearest].ravel()
            rows = np.repeat(crowded, nearest)
            threshold[crowded] = self.minutes(rows, cols).reshape(-1, nearest).max(axis=1)
        rows, cols = np.nonzero(self.beyond & (self.low <= threshold[:, None]))
        return rows.astype(np.int64), cols.astype(np.int64)

    def bounds(self, rows: IntArray, cols: IntArray) -> tuple[IntArray, IntArray]:
        """Lower and upper bounds of the options' minutes (both exact where known)."""
        estimate = self.instance.case.policy.travel_estimate
        low, high = minutes_bounds(self.child_xyz[self.kids[rows]], self.school_xyz[self.schools[cols]], estimate)
        known, grid = self.exact[rows, cols], self.low[rows, cols]
        return np.where(known, grid, np.maximum(low, grid)), np.where(known, grid, high)

    def minutes(self, rows: IntArray, cols: IntArray) -> IntArray:
        """Exact minutes of the options: the bounds where they agree, else the estimate's geodesic
        (no option outside the instance has a given figure). Remembered in `low`."""
        low, high = self.bounds(rows, cols)
        minutes = low.copy()
        ask = np.flatnonzero(low < high)
        if ask.size:
            homes = self.instance.child_coords[self.kids[rows[ask]]]
            schools = self.instance.school_coords[self.schools[cols[ask]]]
            minutes[ask] = estimate_minutes(
                homes[:, 0], homes[:, 1], schools[:, 0], schools[:, 1], self.instance.case.policy.travel_estimate
            )
        self.low[rows, cols] = minutes
        self.exact[rows, cols] = True
        return minutes


def _blocks(instance: Instance, children: IntArray) -> Iterator[_Block]:
    """The `children`'s need-and-age options, a need and an age at a time (CHUNK_OPTIONS cells at most)."""
    children = np.unique(np.asarray(children, np.int64))
    pair_starts = instance.pair_starts
    child_xyz, school_xyz = instance.child_xyz, instance.school_xyz
    age_min, age_max = instance.school_age_min, instance.school_age_max
    for need in np.unique(instance.child_need[children]).tolist():
        of_need = children[instance.child_need[children] == need]
        need_buckets = np.flatnonzero(instance.bucket_need == need)
        schools = instance.bucket_school[need_buckets]
        for age in np.unique(instance.child_age[of_need]).tolist():
            kids = of_need[instance.child_age[of_need] == age]
            buckets = need_buckets[(age_min[schools] <= age) & (age <= age_max[schools])]
            if buckets.size == 0:
                continue
            step = max(1, CHUNK_OPTIONS // buckets.size)
            for start in range(0, kids.size, step):
                yield _Block(instance, kids[start : start + step], buckets, pair_starts, child_xyz, school_xyz)
