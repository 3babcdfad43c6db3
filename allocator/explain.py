"""Reasons a parent can read, for every child left without a place.

Only schools, minutes, limits and counts by priority tier are named: never another child.
"""

from dataclasses import dataclass

import numpy as np

from allocator.instance import NEEDS, Instance
from data.arrays import BoolArray, IntArray
from models.need import NEED_LABELS
from models.results import UnplacedReason

MAX_NAMED = 4


def explain_unplaced(
    instance: Instance, chosen_pair: IntArray, open_sites: BoolArray
) -> dict[int, tuple[UnplacedReason, str]]:
    """Reason code and sentence for each unplaced child index."""
    occupants = _occupant_tiers(instance, chosen_pair)
    unplaced = np.flatnonzero((instance.locked_school < 0) & (chosen_pair < 0))
    options = instance.need_and_age_options(unplaced)
    starts = np.searchsorted(options.child, np.arange(instance.child_count + 1))
    school_ok = ~instance.is_candidate | open_sites
    reasons: dict[int, tuple[UnplacedReason, str]] = {}
    for child in unplaced.tolist():
        mine = slice(starts[child], starts[child + 1])
        found = ChildOptions(
            instance.bucket_school[options.bucket[mine]],
            options.bucket[mine],
            options.minutes[mine],
            options.rank[mine],
        )
        if found.schools.size == 0:
            reasons[child] = (UnplacedReason.NO_ELIGIBLE_SCHOOL, _no_school_for_need_and_age(instance, child))
            continue
        in_time = (found.minutes <= instance.child_limit[child]) | (found.ranks > 0)
        usable = in_time & school_ok[found.schools]
        if usable.any():
            sentence = _all_taken(instance, child, found, usable, occupants) + _also_out_of_reach(
                instance, child, found, usable, school_ok
            )
            reasons[child] = (UnplacedReason.NO_PLACE_LEFT, sentence)
        else:
            reasons[child] = (
                UnplacedReason.NO_ELIGIBLE_SCHOOL,
                f"{counted(int(found.schools.size), 'school')} {'has' if found.schools.size == 1 else 'have'} "
                f"places for {_need_words(instance, child)} at age "
                f"{int(instance.child_age[child])}, but {'it' if found.schools.size == 1 else 'each'} is "
                + _out_of_reach(instance, child, found, school_ok)
                + ".",
            )
    return reasons


@dataclass(frozen=True)
class ChildOptions:
    """One child's need-and-age options: school, bucket, minutes and the family's rank (0: none)."""

    schools: IntArray
    buckets: IntArray
    minutes: IntArray
    ranks: IntArray

    def where(self, mask: BoolArray) -> "ChildOptions":
        return ChildOptions(self.schools[mask], self.buckets[mask], self.minutes[mask], self.ranks[mask])


def counted(count: int, noun: str) -> str:
    """'one school', '2 schools': a count a parent reads, never 'school(s)'."""
    return f"one {noun}" if count == 1 else f"{count} {noun}s"


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


def _school_list(instance: Instance, options: ChildOptions) -> str:
    """The nearest few schools by name with their minutes (and the family's rank, if any)."""
    order = np.lexsort((options.schools, options.minutes))
    named = [
        _school_words(
            instance.case.schools[int(options.schools[i])].name, int(options.minutes[i]), int(options.ranks[i])
        )
        for i in order[:MAX_NAMED]
    ]
    more = order.size - len(named)
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def _school_words(name: str, minutes: int, rank: int) -> str:
    ranked = f", the family's choice {rank}" if rank else ""
    return f"{name} ({minutes} min{ranked})"


def _out_of_reach(instance: Instance, child: int, options: ChildOptions, school_ok: BoolArray) -> str:
    """Why each option is out of reach: beyond the phase limit, or a candidate site not opened."""
    limit = int(instance.child_limit[child])
    phase = "primary" if instance.child_age[child] <= 10 else "secondary"
    in_time = (options.minutes <= limit) | (options.ranks > 0)
    closed = in_time & ~school_ok[options.schools]
    parts = []
    if (~in_time).any():
        parts.append(
            f"beyond the {limit}-minute {phase} travel limit and not asked for by the family: "
            f"{_school_list(instance, options.where(~in_time))}"
        )
    if closed.any():
        parts.append(f"a candidate site not opened in this run: {_school_list(instance, options.where(closed))}")
    return "; or ".join(parts)


def _also_out_of_reach(
    instance: Instance, child: int, options: ChildOptions, usable: BoolArray, school_ok: BoolArray
) -> str:
    if usable.all():
        return ""
    return (
        " Other schools with places for this need and age are "
        + _out_of_reach(instance, child, options.where(~usable), school_ok)
        + "."
    )


def _all_taken(instance: Instance, child: int, options: ChildOptions, usable: BoolArray, occupants: "Occupants") -> str:
    taken = occupants.counts[np.unique(options.buckets[usable])].sum(axis=0)
    own_tier = int(instance.child_priority[child])
    need = NEEDS[int(instance.child_need[child])].value
    policy = instance.case.policy
    by_tier = ", ".join(
        f"{int(taken[column])} to children with {policy.priority_name(tier)}"
        for column, tier in enumerate(occupants.tiers)
        if taken[column]
    )
    locked = int(taken[-1])
    parts = [part for part in (by_tier, f"{locked} already decided by the panel" if locked else "") if part]
    return (
        f"{counted(int(usable.sum()), 'school').capitalize()} could take this child (right need and age; "
        f"within the travel limit or chosen by the family): "
        f"{_school_list(instance, options.where(usable))}. All their {need} places were taken "
        f"({'; '.join(parts)}). This child has {policy.priority_name(own_tier)}; giving them one of "
        f"these places would leave a child of the same or a more urgent priority without a place, "
        f"or place fewer children overall."
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
    locked = instance.locked_bucket[instance.locked_bucket >= 0]
    counts[:, -1] = np.bincount(locked, minlength=instance.bucket_school.size)
    return Occupants(tiers, counts)
