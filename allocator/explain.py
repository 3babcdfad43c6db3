"""Reasons a parent can read, for every child left without a place.

Only schools, minutes, limits and counts by priority tier are named: never another child.
"""

from collections import Counter

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
        if pairs.size == 0:
            reasons[child] = (UnplacedReason.NO_ELIGIBLE_SCHOOL, _no_school_for_need_and_age(instance, child))
            continue
        usable = pairs[instance.pair_eligible[pairs] & school_ok[instance.pair_school[pairs]]]
        if usable.size == 0:
            reasons[child] = (UnplacedReason.NO_ELIGIBLE_SCHOOL, _out_of_reach(instance, child, pairs, school_ok))
        else:
            reasons[child] = (UnplacedReason.NO_PLACE_LEFT, _all_taken(instance, child, usable, occupants))
    return reasons


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


def _school_list(instance: Instance, pairs: IntArray) -> str:
    order = pairs[np.lexsort((instance.pair_school[pairs], instance.pair_minutes[pairs]))]
    schools = instance.case.schools
    named = [
        _school_words(
            schools[int(instance.pair_school[p])].name, int(instance.pair_minutes[p]), int(instance.pair_rank[p])
        )
        for p in order[:MAX_NAMED]
    ]
    more = order.size - len(named)
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def _school_words(name: str, minutes: int, rank: int) -> str:
    ranked = f", the family's choice {rank}" if rank else ""
    return f"{name} ({minutes} min{ranked})"


def _out_of_reach(instance: Instance, child: int, pairs: IntArray, school_ok: BoolArray) -> str:
    limit = int(instance.child_limit[child])
    phase = "primary" if instance.child_age[child] <= 10 else "secondary"
    in_time = pairs[instance.pair_eligible[pairs]]
    far = pairs[~instance.pair_eligible[pairs]]
    sentence = (
        f"{pairs.size} school(s) have places for {_need_words(instance, child)} at age {int(instance.child_age[child])}"
    )
    parts = []
    if far.size:
        parts.append(f"beyond the {limit}-minute {phase} travel limit: {_school_list(instance, far)}")
    closed = in_time[~school_ok[instance.pair_school[in_time]]]
    if closed.size:
        parts.append(f"candidate site(s) not opened in this run: {_school_list(instance, closed)}")
    return sentence + ", but each is " + "; or ".join(parts) + ". The family ranked none of them."


def _all_taken(instance: Instance, child: int, usable: IntArray, occupants: dict[int, Counter[str]]) -> str:
    buckets = np.unique(instance.pair_bucket[usable])
    taken: Counter[str] = Counter()
    for bucket in buckets:
        taken.update(occupants.get(int(bucket), Counter()))
    own_tier = int(instance.child_priority[child])
    need = NEEDS[int(instance.child_need[child])].value
    tiers = sorted((int(tier), count) for tier, count in taken.items() if tier != "locked")
    by_tier = ", ".join(f"{count} to priority {tier}" for tier, count in reversed(tiers))
    locked = taken.get("locked", 0)
    parts = [part for part in (by_tier, f"{locked} already decided by the panel" if locked else "") if part]
    return (
        f"{usable.size} school(s) could take this child (right need and age; "
        f"within the travel limit or chosen by the family): "
        f"{_school_list(instance, usable)}. All their {need} places were taken "
        f"({'; '.join(parts)}). This child is priority {own_tier}; giving them one of these places "
        f"would leave a child of the same or higher priority without a place, or place fewer "
        f"children overall."
    )


def _occupant_tiers(instance: Instance, chosen_pair: IntArray) -> dict[int, Counter[str]]:
    """Per bucket, how many of its places went to each priority tier (or to locks)."""
    occupants: dict[int, Counter[str]] = {}
    for child in np.flatnonzero(chosen_pair >= 0):
        bucket = int(instance.pair_bucket[chosen_pair[child]])
        occupants.setdefault(bucket, Counter())[str(int(instance.child_priority[child]))] += 1
    bucket_of = {
        (int(s), int(n)): b for b, (s, n) in enumerate(zip(instance.bucket_school, instance.bucket_need, strict=True))
    }
    for child in np.flatnonzero(instance.locked_school >= 0):
        bucket = bucket_of[(int(instance.locked_school[child]), int(instance.child_need[child]))]
        occupants.setdefault(bucket, Counter())["locked"] += 1
    return occupants
