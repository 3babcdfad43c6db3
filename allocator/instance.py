"""Eligibility: which child-place pairs exist at all, as index arrays.

A *bucket* is one school's places for one need. A *pair* is a child and a bucket whose
need is the child's and whose school takes the child's age (rules 1 and 2 of CONTRACT.md).
Each pair carries its travel minutes, the family's rank (0 = not ranked), its preference
cost and whether it passes rule 3 (within the phase limit, or ranked). Rule 4 (candidate
sites) depends on which sites a run opens, so it is applied by the solvers.

Pairs that cannot pass rule 3 are dropped before their exact minutes are computed: not
ranked, no given figure, and a lower bound on the estimate already over the limit (the
bound is the great-circle distance on a sphere 0.7% smaller than the ellipsoid's smallest
radius of curvature, which no geodesic undercuts). At national scale this keeps tens of
millions of need-and-age pairs out of memory. The unplaced children's reasons and counterfactuals
talk about the dropped pairs too: `allocator.beyond` prices only those they name or use;
`need_and_age_options` prices every one (for one child, or to check that module).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from allocator.bounds import ecef, estimated_minutes
from data.arrays import BoolArray, IntArray, joined, sorted_unique
from data.travel import TravelTable, pair_minutes
from models.case import Case, Policy, SchoolKind
from models.need import Need

NEEDS = list(Need)
CHUNK_PAIRS = 4_000_000
NEARBY_FROM = 2_000_000  # need-and-age pairs above which a k-d tree finds the nearby ones
# a(1 - e^2) for WGS 84 is 6335.439 km, the smallest radius of curvature; 0.7% below it leaves
# room for the sphere-versus-ellipsoid difference of a great circle (under 0.56%).
LOWER_BOUND_RADIUS_KM = 6335.439 * 0.993


@dataclass(frozen=True)
class Options:
    """Need-and-age options of some children (see Instance.need_and_age_options)."""

    child: IntArray
    bucket: IntArray
    minutes: IntArray
    rank: IntArray


@dataclass(frozen=True)
class Instance:
    case: Case
    # children, in case order
    child_need: IntArray
    child_age: IntArray
    child_priority: IntArray
    child_limit: IntArray  # travel limit in minutes by phase
    locked_school: IntArray  # school index, -1 when not locked
    locked_minutes: IntArray
    locked_rank: IntArray
    locked_bucket: IntArray  # bucket index, -1 when not locked
    # schools, in case order
    is_candidate: BoolArray
    # buckets
    bucket_school: IntArray
    bucket_need: IntArray
    bucket_places: IntArray  # places free in this round
    bucket_free: IntArray  # places left after locked placements
    # pairs (children that are not locked)
    pair_child: IntArray
    pair_bucket: IntArray
    pair_school: IntArray
    pair_minutes: IntArray
    pair_rank: IntArray
    pair_cost: IntArray  # preference cost: rank, or unranked_cost
    pair_eligible: BoolArray  # rules 1-3
    # for explanations: what is needed to recompute one child's options
    travel: TravelTable
    child_coords: npt.NDArray[np.float64]
    school_coords: npt.NDArray[np.float64]
    child_xyz: npt.NDArray[np.float64]  # Earth-centred coordinates (allocator.bounds)
    school_xyz: npt.NDArray[np.float64]
    school_age_min: IntArray
    school_age_max: IntArray
    rank_keys: IntArray
    rank_values: IntArray

    @property
    def child_count(self) -> int:
        return int(self.child_need.size)

    @property
    def school_count(self) -> int:
        return int(self.is_candidate.size)

    @cached_property
    def pair_starts(self) -> IntArray:
        """Child c's pairs are [pair_starts[c], pair_starts[c + 1]) (pairs are in child order)."""
        return np.searchsorted(self.pair_child, np.arange(self.child_count + 1))

    def tiers(self) -> list[int]:
        """Priority tiers present, highest first."""
        return sorted({int(p) for p in self.child_priority}, reverse=True)

    def need_and_age_options(self, children: IntArray) -> "Options":
        """Every (child, bucket) of the given children whose need matches and whose school
        takes the child's age, whatever the travel, with exact minutes and ranks, ordered by
        child then bucket: every option an explanation could talk about, each priced with a
        geodesic (see `allocator.beyond` for pricing only those it does talk about)."""
        parts = list(
            _need_and_age_pairs(
                children,
                self.child_need,
                self.child_age,
                self.bucket_need,
                self.bucket_school,
                self.school_age_min,
                self.school_age_max,
            )
        )
        child = joined([part[0] for part in parts])
        bucket = joined([part[1] for part in parts])
        order = np.lexsort((bucket, child))
        child, bucket = child[order], bucket[order]
        school = self.bucket_school[bucket]
        minutes, _ = pair_minutes(
            self.travel, child, school, self.child_coords, self.school_coords, self.case.policy.travel_estimate
        )
        ranks = _ranks(self.rank_keys, self.rank_values, child * self.school_count + school)
        return Options(child, bucket, minutes.astype(np.int64), ranks)

    def usable_pairs(self, open_sites: BoolArray) -> IntArray:
        """Indices of pairs passing rules 1-4 when `open_sites` (per school) are opened."""
        school_ok = ~self.is_candidate | open_sites
        return np.flatnonzero(self.pair_eligible & school_ok[self.pair_school])


def build_instance(case: Case, travel: TravelTable) -> Instance:
    """Index the case and compute every pair's minutes, rank and eligibility, vectorised."""
    schools = case.schools
    school_index = {school.school_id: i for i, school in enumerate(schools)}
    need_code = {need: i for i, need in enumerate(NEEDS)}
    children = case.children
    policy = case.policy

    child_need = np.array([need_code[c.need] for c in children], dtype=np.int64)
    child_age = np.array([c.age for c in children], dtype=np.int64)
    child_priority = np.array([c.priority for c in children], dtype=np.int64)
    child_limit = np.array([policy.travel_limit(c.age) for c in children], dtype=np.int64)
    locked_school = np.array(
        [school_index[c.locked_school_id] if c.locked_school_id else -1 for c in children],
        dtype=np.int64,
    )
    child_coords = np.array([(c.lat, c.lon) for c in children], dtype=np.float64).reshape(-1, 2)
    school_coords = np.array([(s.lat, s.lon) for s in schools], dtype=np.float64).reshape(-1, 2)
    age_min = np.array([s.age_min for s in schools], dtype=np.int64)
    age_max = np.array([s.age_max for s in schools], dtype=np.int64)
    is_candidate = np.array([s.kind == SchoolKind.CANDIDATE for s in schools], dtype=bool)

    offers = sorted((school_index[o.school_id], need_code[o.need], o.places) for o in case.places if o.places > 0)
    bucket_school = np.array([o[0] for o in offers], dtype=np.int64)
    bucket_need = np.array([o[1] for o in offers], dtype=np.int64)
    bucket_places = np.array([o[2] for o in offers], dtype=np.int64)

    rank_keys, rank_values = _preference_index(case, school_index, len(schools))

    # Locked children: their bucket loses a place; their minutes and rank are reported.
    bucket_of = {(int(s), int(n)): b for b, (s, n) in enumerate(zip(bucket_school, bucket_need, strict=True))}
    locked = np.flatnonzero(locked_school >= 0)
    locked_bucket = np.full(len(children), -1, dtype=np.int64)
    for child in locked:
        locked_bucket[child] = bucket_of[(int(locked_school[child]), int(child_need[child]))]
    bucket_free = bucket_places - np.bincount(locked_bucket[locked], minlength=bucket_places.size)
    locked_minutes = np.zeros(len(children), dtype=np.int64)
    locked_rank = np.zeros(len(children), dtype=np.int64)
    if locked.size:
        minutes, _ = pair_minutes(
            travel, locked, locked_school[locked], child_coords, school_coords, policy.travel_estimate
        )
        locked_minutes[locked] = minutes
        locked_rank[locked] = _ranks(rank_keys, rank_values, locked * len(schools) + locked_school[locked])

    child_xyz, school_xyz = ecef(child_coords), ecef(school_coords)
    parts = [
        _reachable(
            chunk_child,
            chunk_bucket,
            bucket_school,
            child_limit,
            (child_coords, child_xyz),
            (school_coords, school_xyz),
            travel,
            rank_keys,
            rank_values,
            policy,
        )
        for chunk_child, chunk_bucket in _candidate_pairs(
            np.flatnonzero(locked_school < 0),
            child_need,
            child_age,
            bucket_need,
            bucket_school,
            age_min,
            age_max,
            child_coords,
            school_coords,
            child_limit,
            policy,
            np.concatenate([rank_keys, travel.keys]),
        )
    ]
    pair_child = joined([part[0] for part in parts])
    pair_bucket = joined([part[1] for part in parts])
    minutes = joined([part[2] for part in parts])
    pair_rank = joined([part[3] for part in parts])
    keys = pair_child * max(1, bucket_school.size) + pair_bucket
    if not np.all(keys[1:] > keys[:-1]):  # the k-d tree's pairs come in (child, bucket) order already
        order = np.lexsort((pair_bucket, pair_child))
        pair_child, pair_bucket, minutes, pair_rank = (
            pair_child[order],
            pair_bucket[order],
            minutes[order],
            pair_rank[order],
        )
    pair_school = bucket_school[pair_bucket]
    pair_cost = np.where(pair_rank > 0, pair_rank, policy.unranked_cost).astype(np.int64)
    pair_eligible = (minutes <= child_limit[pair_child]) | (pair_rank > 0)

    return Instance(
        case=case,
        child_need=child_need,
        child_age=child_age,
        child_priority=child_priority,
        child_limit=child_limit,
        locked_school=locked_school,
        locked_minutes=locked_minutes,
        locked_rank=locked_rank,
        locked_bucket=locked_bucket,
        is_candidate=is_candidate,
        bucket_school=bucket_school,
        bucket_need=bucket_need,
        bucket_places=bucket_places,
        bucket_free=bucket_free,
        pair_child=pair_child,
        pair_bucket=pair_bucket,
        pair_school=pair_school,
        pair_minutes=minutes.astype(np.int64),
        pair_rank=pair_rank,
        pair_cost=pair_cost,
        pair_eligible=pair_eligible,
        travel=travel,
        child_coords=child_coords,
        school_coords=school_coords,
        child_xyz=child_xyz,
        school_xyz=school_xyz,
        school_age_min=age_min,
        school_age_max=age_max,
        rank_keys=rank_keys,
        rank_values=rank_values,
    )


def _need_and_age_pairs(
    children: IntArray,
    child_need: IntArray,
    child_age: IntArray,
    bucket_need: IntArray,
    bucket_school: IntArray,
    age_min: IntArray,
    age_max: IntArray,
) -> Iterator[tuple[IntArray, IntArray]]:
    """Every (child of `children`, bucket) with the same need whose school takes the child's
    age, in chunks of about CHUNK_PAIRS so that memory stays bounded at any scale."""
    for need in np.unique(child_need[children]) if children.size else []:
        kids = children[child_need[children] == need]
        buckets = np.flatnonzero(bucket_need == need)
        if buckets.size == 0:
            continue
        step = max(1, CHUNK_PAIRS // buckets.size)
        for start in range(0, kids.size, step):
            block = kids[start : start + step]
            kid_col = np.repeat(block, buckets.size)
            bucket_col = np.tile(buckets, block.size)
            school = bucket_school[bucket_col]
            ages = child_age[kid_col]
            fits = (age_min[school] <= ages) & (ages <= age_max[school])
            yield kid_col[fits], bucket_col[fits]


def _candidate_pairs(
    children: IntArray,
    child_need: IntArray,
    child_age: IntArray,
    bucket_need: IntArray,
    bucket_school: IntArray,
    age_min: IntArray,
    age_max: IntArray,
    child_coords: npt.NDArray[np.float64],
    school_coords: npt.NDArray[np.float64],
    child_limit: IntArray,
    policy: Policy,
    other_keys: IntArray,
) -> Iterator[tuple[IntArray, IntArray]]:
    """Every (child, bucket) that might pass rule 3: all need-and-age pairs for a small round,
    the nearby ones (and ranked or given) when there are more than NEARBY_FROM of them."""
    need_counts = np.bincount(child_need[children], minlength=len(NEEDS))
    bucket_counts = np.bincount(bucket_need, minlength=len(NEEDS))
    ages = (children, child_need, child_age, bucket_need, bucket_school, age_min, age_max)
    if int((need_counts * bucket_counts).sum()) <= NEARBY_FROM:
        yield from _need_and_age_pairs(*ages)
        return
    near = _nearby_schools(child_coords, school_coords, int(child_limit.max(initial=0)), policy)
    yield from _nearby_need_and_age_pairs(*ages, near, other_keys)


def _unit_vectors(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    lat, lon = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _nearby_schools(
    child_coords: npt.NDArray[np.float64], school_coords: npt.NDArray[np.float64], limit: int, policy: Policy
) -> IntArray:
    """Keys child * schools + school of every pair whose lower bound on the estimate
    (`_minutes_lower_bound`) can be within `limit` minutes, and a few more: a k-d tree of unit
    vectors queried with the chord of a slightly larger angle. A superset, each key once (the
    query with an angle of pi or more: ascending)."""
    school_count = school_coords.shape[0]
    if child_coords.shape[0] == 0 or school_count == 0:
        return np.zeros(0, np.int64)
    estimate = policy.travel_estimate
    # the bound is ceil(km * circuity / speed * 60) <= limit only if km <= limit * speed / 60 / circuity
    angle = (limit + 1) * estimate.speed_kmh / 60.0 / estimate.circuity / LOWER_BOUND_RADIUS_KM * 1.001
    if angle >= np.pi:
        children = np.arange(child_coords.shape[0], dtype=np.int64)
        return (children[:, None] * school_count + np.arange(school_count)[None, :]).ravel()
    chord = 2.0 * np.sin(angle / 2.0)
    from scipy.spatial import cKDTree  # loads in about 0.3 s: only for large rounds

    near = cKDTree(_unit_vectors(child_coords)).sparse_distance_matrix(
        cKDTree(_unit_vectors(school_coords)), chord, output_type="ndarray"
    )
    # each (i, j) appears once; `_nearby_need_and_age_pairs` sorts them with the other keys
    return near["i"].astype(np.int64) * school_count + near["j"].astype(np.int64)


def _nearby_need_and_age_pairs(
    children: IntArray,
    child_need: IntArray,
    child_age: IntArray,
    bucket_need: IntArray,
    bucket_school: IntArray,
    age_min: IntArray,
    age_max: IntArray,
    near_keys: IntArray,
    other_keys: IntArray,
) -> Iterator[tuple[IntArray, IntArray]]:
    """The (child of `children`, bucket) pairs of `_need_and_age_pairs` whose (child, school)
    key is near (`_nearby_schools`) or among `other_keys` (ranked, or with a given figure): every
    pair that might pass rule 3, without forming the need-and-age pairs of far schools."""
    school_count = age_min.size
    keys = sorted_unique(np.concatenate([near_keys, other_keys]))
    child, school = keys // school_count, keys % school_count
    unlocked = np.zeros(child_need.size, bool)
    unlocked[children] = True
    keep = unlocked[child]
    child, school = child[keep], school[keep]
    ages = child_age[child]
    fits = (age_min[school] <= ages) & (ages <= age_max[school])
    child, school = child[fits], school[fits]
    bucket_of = np.full((school_count, len(NEEDS)), -1, np.int64)
    bucket_of[bucket_school, bucket_need] = np.arange(bucket_school.size)
    bucket = bucket_of[school, child_need[child]]
    found = bucket >= 0
    child, bucket = child[found], bucket[found]
    for start in range(0, child.size, CHUNK_PAIRS):
        yield child[start : start + CHUNK_PAIRS], bucket[start : start + CHUNK_PAIRS]


def _reachable(
    pair_child: IntArray,
    pair_bucket: IntArray,
    bucket_school: IntArray,
    child_limit: IntArray,
    children: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    schools: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    travel: TravelTable,
    rank_keys: IntArray,
    rank_values: IntArray,
    policy: Policy,
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """The pairs that might pass rule 3, with their exact minutes (the given figure, else the
    estimate: `allocator.bounds.estimated_minutes`) and ranks. `children` and `schools` are
    their (lat, lon) and Earth-centred coordinates."""
    school = bucket_school[pair_bucket]
    keys = pair_child * schools[0].shape[0] + school
    ranks = _ranks(rank_keys, rank_values, keys)
    minutes, given = travel.lookup(pair_child, school)
    bound = _minutes_lower_bound(children[0][pair_child], schools[0][school], policy)
    keep = (ranks > 0) | given | (bound <= child_limit[pair_child])
    pair_child, pair_bucket, school, ranks = pair_child[keep], pair_bucket[keep], school[keep], ranks[keep]
    minutes, given = minutes[keep], given[keep]
    estimated = np.flatnonzero(~given)
    minutes[estimated] = estimated_minutes(
        pair_child[estimated], school[estimated], children, schools, policy.travel_estimate
    )
    return pair_child, pair_bucket, minutes.astype(np.int64), ranks


def _minutes_lower_bound(homes: npt.NDArray[np.float64], schools: npt.NDArray[np.float64], policy: Policy) -> IntArray:
    """ceil of the estimate's minutes over a distance no geodesic undercuts (see module doc)."""
    lat1, lon1 = np.radians(homes[:, 0]), np.radians(homes[:, 1])
    lat2, lon2 = np.radians(schools[:, 0]), np.radians(schools[:, 1])
    half = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    km = 2 * LOWER_BOUND_RADIUS_KM * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))
    estimate = policy.travel_estimate
    # rounded as the estimate is, so that a bound below the estimate stays below it after ceil
    return np.ceil(np.round(km * estimate.circuity / estimate.speed_kmh * 60.0, 9)).astype(np.int64)


def _preference_index(case: Case, school_index: dict[str, int], school_count: int) -> tuple[IntArray, IntArray]:
    child_index = {child.child_id: i for i, child in enumerate(case.children)}
    keys = np.array(
        [child_index[p.child_id] * school_count + school_index[p.school_id] for p in case.preferences],
        dtype=np.int64,
    )
    ranks = np.array([p.rank for p in case.preferences], dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    return keys[order], ranks[order]


def _ranks(keys: IntArray, ranks: IntArray, wanted: IntArray) -> IntArray:
    """Rank for each wanted key; 0 where the family did not rank that school."""
    if keys.size == 0 or wanted.size == 0:
        return np.zeros(wanted.size, np.int64)
    position = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    return np.where(keys[position] == wanted, ranks[position], 0).astype(np.int64)
