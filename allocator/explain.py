"""Reasons a parent can read, for every child left without a place.

Only schools, minutes, limits and counts by priority tier are named: never another child.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from allocator.instance import NEEDS, Instance
from models.need import NEED_LABELS
from models.results import UnplacedReason

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
MAX_NAMED = 4


def explain_unplaced(
    instance: Instance, chosen_pair: IntArray, open_sites: BoolArray
) -> dict[int, tuple[UnplacedReason, str]]:
    """Reason code and sentence for each unplaced child index."""
    occupants = _occupant_tiers(instance, chosen_pair)
    starts = np.searchsorted(instance.pair_child, np.arange(instance.child_count + 1))
    school_ok = ~instance.is_candidate | open_sites
    reasons: dict[int, tuple[UnplacedReason, str]] = {}
    for child in range(instance.child_count):
        if instance.locked_school[child] >= 0 or chosen_pair[child] >= 0:
            continue
        pairs = np.arange(starts[child], starts[child + 1])
        usable = pairs[instance.pair_eligible[pairs] & school_ok[instance.pair_school[pairs]]]
        if usable.size:
            reasons[child] = (UnplacedReason.NO_PLACE_LEFT, _all_taken(instance, child, usable, occupants))
        else:
            reasons[child] = (UnplacedReason.NO_ELIGIBLE_SCHOOL, _no_eligible(instance, child, school_ok))
    return reasons


def _no_eligible(instance: Instance, child: int, school_ok: BoolArray) -> str:
    buckets, minutes, ranks = instance.need_and_age_options(child)
    if buckets.size == 0:
        return _no_school_for_need_and_age(instance, child)
    return _out_of_reach(instance, child, instance.bucket_school[buckets], minutes, ranks, school_ok)


def _need_words(instance: Instance, child: int) -> str:
    need = NEEDS[int(instance.child_need[child])]
    return f"{need.value} ({NEED_LABELS[need]})"


def _no_school_for_need_and_age(instance: Instance, child: int) -> str:
    need_code = int(instance.child_need[child])
    age = int(instance.child_age[child])
    buckets = np.flatnonzero(instance.bucket_need == need_code)
    if buckets.size == 0:
        return f"No school has places for {_need_words(instance, child)} in this round."
    schools = instance.case.schools
    ranges = sorted({(schools[s].age_min, schools[s].age_max) for s in instance.bucket_school[buckets]})
    described = ", ".join(f"{low}-{high}" for low, high in ranges[:MAX_NAMED])
    return (
        f"The schools with places for {_need_words(instance, child)} in this round take ages "
        f"{described}; none takes a child aged {age}."
    )


def _school_list(instance: Instance, schools: IntArray, minutes: IntArray, ranks: IntArray) -> str:
    """The nearest few schools by name with their minutes (and the family's rank, if any)."""
    order = np.lexsort((schools, minutes))
    named = [
        _school_words(instance.case.schools[int(schools[i])].name, int(minutes[i]), int(ranks[i]))
        for i in order[:MAX_NAMED]
    ]
    more = order.size - len(named)
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def _pair_list(instance: Instance, pairs: IntArray) -> str:
    return _school_list(instance, instance.pair_school[pairs], instance.pair_minutes[pairs], instance.pair_rank[pairs])


def _school_words(name: str, minutes: int, rank: int) -> str:
    ranked = f", the family's choice {rank}" if rank else ""
    return f"{name} ({minutes} min{ranked})"


def _out_of_reach(
    instance: Instance, child: int, schools: IntArray, minutes: IntArray, ranks: IntArray, school_ok: BoolArray
) -> str:
    limit = int(instance.child_limit[child])
    phase = "primary" if instance.child_age[child] <= 10 else "secondary"
    in_time = (minutes <= limit) | (ranks > 0)
    closed = in_time & ~school_ok[schools]
    far = ~in_time
    sentence = (
        f"{schools.size} school(s) have places for {_need_words(instance, child)} at age "
        f"{int(instance.child_age[child])}, but each is "
    )
    parts = []
    if far.any():
        parts.append(
            f"beyond the {limit}-minute {phase} travel limit and not asked for by the family: "
            f"{_school_list(instance, schools[far], minutes[far], ranks[far])}"
        )
    if closed.any():
        parts.append(
            "a candidate site not opened in this run: "
            f"{_school_list(instance, schools[closed], minutes[closed], ranks[closed])}"
        )
    return sentence + "; or ".join(parts) + "."


def _all_taken(instance: Instance, child: int, usable: IntArray, occupants: "Occupants") -> str:
    buckets = np.unique(instance.pair_bucket[usable])
    taken = occupants.counts[buckets].sum(axis=0)
    own_tier = int(instance.child_priority[child])
    need = NEEDS[int(instance.child_need[child])].value
    by_tier = ", ".join(
        f"{int(taken[column])} to priority {tier}" for column, tier in enumerate(occupants.tiers) if taken[column]
    )
    locked = int(taken[-1])
    parts = [part for part in (by_tier, f"{locked} already decided by the panel" if locked else "") if part]
    return (
        f"{usable.size} school(s) could take this child (right need and age; "
        f"within the travel limit or chosen by the family): "
        f"{_pair_list(instance, usable)}. All their {need} places were taken "
        f"({'; '.join(parts)}). This child is priority {own_tier}; giving them one of these places "
        f"would leave a child of the same or higher priority without a place, or place fewer "
        f"children overall."
    )


@dataclass(frozen=True)
class Occupants:
    """counts[bucket, k]: places of the bucket taken by tier `tiers[k]` (highest first); the
    last column counts locked placements."""

    tiers: list[int]
    counts: IntArray


def _occupant_tiers(instance: Instance, chosen_pair: IntArray) -> Occupants:
    tiers = instance.tiers()
    column_of = {tier: k for k, tier in enumerate(tiers)}
    counts = np.zeros((instance.bucket_school.size, len(tiers) + 1), np.int64)
    placed = np.flatnonzero(chosen_pair >= 0)
    columns = np.array([column_of[int(t)] for t in instance.child_priority[placed]], np.int64)
    np.add.at(counts, (instance.pair_bucket[chosen_pair[placed]], columns), 1)
    bucket_of = {
        (int(s), int(n)): b for b, (s, n) in enumerate(zip(instance.bucket_school, instance.bucket_need, strict=True))
    }
    for locked in np.flatnonzero(instance.locked_school >= 0):
        counts[bucket_of[(int(instance.locked_school[locked]), int(instance.child_need[locked]))], -1] += 1
    return Occupants(tiers, counts)
