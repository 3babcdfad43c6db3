"""Reasons a parent can read, for every child left without a place.

Only schools, minutes, limits and counts by priority tier are named: never another child.
"""

from dataclasses import dataclass

import numpy as np

from allocator.beyond import beyond_limit
from allocator.instance import NEEDS, Instance
from data.arrays import BoolArray, IntArray, ranges
from models.need import NEED_LABELS
from models.results import UnplacedReason

MAX_NAMED = 4


def explain_unplaced(
    instance: Instance, chosen_pair: IntArray, open_sites: BoolArray
) -> dict[int, tuple[UnplacedReason, str]]:
    """Reason code and sentence for each unplaced child index.

    A reason names the child's options in time (its eligible pairs, `allocator.beyond`) and, of
    those beyond the travel limit, their number and the nearest MAX_NAMED. One child's options
    are a handful, so they are Python tuples here, not arrays."""
    occupants = _occupant_tiers(instance, chosen_pair)
    unplaced = np.flatnonzero((instance.locked_school < 0) & (chosen_pair < 0))
    beyond = beyond_limit(instance, unplaced, MAX_NAMED)
    # the unplaced children's pairs only, as tuples: child c's are in_time[starts[c]:starts[c + 1]]
    first, last = instance.pair_starts[unplaced], instance.pair_starts[unplaced + 1]
    pairs = ranges(first, last)
    starts = np.zeros(instance.child_count + 1, np.int64)
    starts[unplaced + 1] = last - first
    starts = np.cumsum(starts).tolist()
    in_time = list(
        zip(
            instance.pair_minutes[pairs].tolist(),
            instance.pair_school[pairs].tolist(),
            instance.pair_bucket[pairs].tolist(),
            instance.pair_rank[pairs].tolist(),
            instance.pair_eligible[pairs].tolist(),
            strict=True,
        )
    )
    named_starts, beyond_count = beyond.named_starts.tolist(), beyond.count.tolist()
    named = list(zip(beyond.named_minutes.tolist(), instance.bucket_school[beyond.named_bucket].tolist(), strict=True))
    school_ok = (~instance.is_candidate | open_sites).tolist()
    reasons: dict[int, tuple[UnplacedReason, str]] = {}
    for child in unplaced.tolist():
        mine = [option[:4] for option in in_time[starts[child] : starts[child + 1]] if option[4]]
        usable = [option for option in mine if school_ok[option[1]]]
        closed = ChildOptions([option for option in mine if not school_ok[option[1]]])
        far = ChildOptions(
            [(minutes, school, -1, 0) for minutes, school in named[named_starts[child] : named_starts[child + 1]]],
            beyond_count[child],
        )
        total = len(mine) + far.count
        if total == 0:
            reasons[child] = (UnplacedReason.NO_ELIGIBLE_SCHOOL, _no_school_for_need_and_age(instance, child))
        elif usable:
            sentence = _all_taken(instance, child, usable, occupants) + _also_out_of_reach(instance, child, far, closed)
            reasons[child] = (UnplacedReason.NO_PLACE_LEFT, sentence)
        else:
            reasons[child] = (
                UnplacedReason.NO_ELIGIBLE_SCHOOL,
                f"{counted(total, 'school')} {'has' if total == 1 else 'have'} "
                f"places for {_need_words(instance, child)} at age "
                f"{int(instance.child_age[child])}, but {'it' if total == 1 else 'each'} is "
                + _out_of_reach(instance, child, far, closed)
                + ".",
            )
    return reasons


Option = tuple[int, int, int, int]  # minutes, school, bucket, the family's rank (0: not ranked)


class ChildOptions:
    """Some of one child's need-and-age options, and how many there are in all (`count`): when
    there are more than these, these are the nearest by (minutes, school)."""

    def __init__(self, options: list[Option], count: int | None = None) -> None:
        self.options = options
        self.count = len(options) if count is None else count


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
    schools = instance.case.schools
    named = [
        _school_words(schools[school].name, minutes, rank)
        for minutes, school, _, rank in sorted(options.options)[:MAX_NAMED]
    ]
    more = options.count - len(named)
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def _school_words(name: str, minutes: int, rank: int) -> str:
    ranked = f", the family's choice {rank}" if rank else ""
    return f"{name} ({minutes} min{ranked})"


def _out_of_reach(instance: Instance, child: int, beyond: ChildOptions, closed: ChildOptions) -> str:
    """Why each option is out of reach: beyond the phase limit, or a candidate site not opened."""
    limit = int(instance.child_limit[child])
    phase = "primary" if instance.child_age[child] <= 10 else "secondary"
    parts = []
    if beyond.count:
        parts.append(
            f"beyond the {limit}-minute {phase} travel limit and not asked for by the family: "
            f"{_school_list(instance, beyond)}"
        )
    if closed.count:
        parts.append(f"a candidate site not opened in this run: {_school_list(instance, closed)}")
    return "; or ".join(parts)


def _also_out_of_reach(instance: Instance, child: int, beyond: ChildOptions, closed: ChildOptions) -> str:
    if beyond.count == 0 and closed.count == 0:
        return ""
    return (
        " Other schools with places for this need and age are " + _out_of_reach(instance, child, beyond, closed) + "."
    )


def _all_taken(instance: Instance, child: int, usable: list[Option], occupants: "Occupants") -> str:
    taken = [
        sum(column) for column in zip(*(occupants.counts[bucket] for bucket in {o[2] for o in usable}), strict=True)
    ]
    own_tier = int(instance.child_priority[child])
    need = NEEDS[int(instance.child_need[child])].value
    policy = instance.case.policy
    by_tier = ", ".join(
        f"{taken[column]} to children with {policy.priority_name(tier)}"
        for column, tier in enumerate(occupants.tiers)
        if taken[column]
    )
    locked = taken[-1]
    parts = [part for part in (by_tier, f"{locked} already decided by the panel" if locked else "") if part]
    return (
        f"{counted(len(usable), 'school').capitalize()} could take this child (right need and age; "
        f"within the travel limit or chosen by the family): "
        f"{_school_list(instance, ChildOptions(usable))}. All their {need} places were taken "
        f"({'; '.join(parts)}). This child has {policy.priority_name(own_tier)}; giving them one of "
        f"these places would leave a child of the same or a more urgent priority without a place, "
        f"or place fewer children overall."
    )


@dataclass(frozen=True)
class Occupants:
    """counts[bucket, k]: places of the bucket taken by tier `tiers[k]` (highest first); the
    last column counts locked placements."""

    tiers: list[int]
    counts: list[list[int]]


def _occupant_tiers(instance: Instance, chosen_pair: IntArray) -> Occupants:
    tiers = instance.tiers()
    column_of = {tier: k for k, tier in enumerate(tiers)}
    counts = np.zeros((instance.bucket_school.size, len(tiers) + 1), np.int64)
    placed = np.flatnonzero(chosen_pair >= 0)
    columns = np.array([column_of[int(t)] for t in instance.child_priority[placed]], np.int64)
    np.add.at(counts, (instance.pair_bucket[chosen_pair[placed]], columns), 1)
    locked = instance.locked_bucket[instance.locked_bucket >= 0]
    counts[:, -1] = np.bincount(locked, minlength=instance.bucket_school.size)
    return Occupants(tiers, counts.tolist())
