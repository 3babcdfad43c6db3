"""Eligibility: which child-place pairs exist at all, as index arrays.

A *bucket* is one school's places for one need. A *pair* is a child and a bucket whose
need is the child's and whose school takes the child's age (rules 1 and 2 of CONTRACT.md).
Each pair carries its travel minutes, the family's rank (0 = not ranked), its preference
cost and whether it passes rule 3 (within the phase limit, or ranked). Rule 4 (candidate
sites) depends on which sites a run opens, so it is applied by the solvers.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from data.travel import TravelTable, pair_minutes
from models.case import Case, SchoolKind
from models.need import Need

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
NEEDS = list(Need)


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

    @property
    def child_count(self) -> int:
        return int(self.child_need.size)

    @property
    def school_count(self) -> int:
        return int(self.is_candidate.size)

    def tiers(self) -> list[int]:
        """Priority tiers present, highest first."""
        return sorted({int(p) for p in self.child_priority}, reverse=True)

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
    bucket_free = bucket_places.copy()
    locked = np.flatnonzero(locked_school >= 0)
    for child in locked:
        bucket_free[bucket_of[(int(locked_school[child]), int(child_need[child]))]] -= 1
    locked_minutes = np.zeros(len(children), dtype=np.int64)
    locked_rank = np.zeros(len(children), dtype=np.int64)
    if locked.size:
        minutes, _ = pair_minutes(
            travel, locked, locked_school[locked], child_coords, school_coords, policy.travel_estimate
        )
        locked_minutes[locked] = minutes
        locked_rank[locked] = _ranks(rank_keys, rank_values, locked * len(schools) + locked_school[locked])

    pair_child, pair_bucket = _need_and_age_pairs(
        child_need, child_age, locked_school, bucket_need, bucket_school, age_min, age_max
    )
    pair_school = bucket_school[pair_bucket]
    minutes, _ = pair_minutes(travel, pair_child, pair_school, child_coords, school_coords, policy.travel_estimate)
    pair_rank = _ranks(rank_keys, rank_values, pair_child * len(schools) + pair_school)
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
    )


def _need_and_age_pairs(
    child_need: IntArray,
    child_age: IntArray,
    locked_school: IntArray,
    bucket_need: IntArray,
    bucket_school: IntArray,
    age_min: IntArray,
    age_max: IntArray,
) -> tuple[IntArray, IntArray]:
    """Every (unlocked child, bucket) with the same need whose school takes the child's age,
    ordered by child then bucket."""
    child_parts: list[IntArray] = []
    bucket_parts: list[IntArray] = []
    free_children = np.flatnonzero(locked_school < 0)
    for need in np.unique(child_need[free_children]) if free_children.size else []:
        kids = free_children[child_need[free_children] == need]
        buckets = np.flatnonzero(bucket_need == need)
        if buckets.size == 0:
            continue
        kid_col = np.repeat(kids, buckets.size)
        bucket_col = np.tile(buckets, kids.size)
        school = bucket_school[bucket_col]
        ages = child_age[kid_col]
        fits = (age_min[school] <= ages) & (ages <= age_max[school])
        child_parts.append(kid_col[fits])
        bucket_parts.append(bucket_col[fits])
    if not child_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pair_child = np.concatenate(child_parts)
    pair_bucket = np.concatenate(bucket_parts)
    order = np.lexsort((pair_bucket, pair_child))
    return pair_child[order], pair_bucket[order]


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
