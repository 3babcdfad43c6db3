"""explanations.csv: one row per child, in children.csv order, with plain sentences.

The sentences name schools, minutes, limits and counts, never another child. The numbers in a
row (forced, the counterfactuals) come from `allocator.counterfactuals`, exact.
"""

from dataclasses import replace

import numpy as np

from allocator.counterfactuals import ChildChanges, exact_changes, first_choice_schools
from allocator.explain import counted
from allocator.instance import NEEDS, Instance
from allocator.solution import Solution
from data.arrays import BoolArray
from models.need import NEED_LABELS
from models.results import ChildExplanation, Outcome, UnplacedReason

NOT_FORCED = (
    "Another way to share the places, just as good for the round as a whole, would place this child differently."
)


def explain_children(
    instance: Instance, solution: Solution, reasons: dict[int, tuple[UnplacedReason, str]], exact: bool = True
) -> tuple[ChildExplanation, ...]:
    """Every child's row; `reasons` are the unplaced children's sentences of allocation.csv.
    Without `exact` (a stable or fair allocation, optimal for another objective than the
    contract's), `forced` and the counterfactuals stay empty.
    The opened sites are those summary.json names (sites some child, locked or not, is placed
    at): the allocation stays optimal with only them open, and an opened site no child uses
    would otherwise change what counts as forced."""
    solution = replace(solution, open_sites=sites_in_use(instance, solution))
    changes = exact_changes(instance, solution) if exact else None
    writer = _Writer(instance, solution)
    return tuple(
        writer.row(child, reasons.get(child), None if changes is None else changes[child])
        for child in range(instance.child_count)
    )


class _Writer:
    def __init__(self, instance: Instance, solution: Solution) -> None:
        self.instance = instance
        self.chosen = solution.chosen_pair
        self.first = first_choice_schools(instance)
        usable = instance.usable_pairs(solution.open_sites)
        self.usable = np.zeros(instance.pair_child.size, bool)
        self.usable[usable] = True
        self.usable_count = np.bincount(instance.pair_child[usable], minlength=instance.child_count)
        self.school_ok: BoolArray = ~instance.is_candidate | solution.open_sites
        self.ranked = {(p.child_id, p.school_id): p.rank for p in instance.case.preferences}
        self.bucket_of = {
            (int(s), int(need)): b
            for b, (s, need) in enumerate(zip(instance.bucket_school, instance.bucket_need, strict=True))
        }
        self.pair_starts = np.searchsorted(instance.pair_child, np.arange(instance.child_count + 1))

    def row(
        self, child: int, reason: tuple[UnplacedReason, str] | None, change: ChildChanges | None
    ) -> ChildExplanation:
        instance = self.instance
        schools = instance.case.schools
        first = int(self.first[child])
        school, minutes, rank, outcome = self._outcome(child)
        sentences: list[str] = []
        why_not_first = None
        if outcome is Outcome.LOCKED:
            sentences.append(f"The panel has already decided this child's place at {schools[school].name}.")
        elif outcome is Outcome.UNPLACED:
            assert reason is not None
            sentences.append(reason[1])
        else:
            sentences.append(self._placed_sentence(child, school, minutes, rank, outcome))
        if first >= 0 and outcome in (Outcome.OTHER_CHOICE, Outcome.NOT_RANKED, Outcome.UNPLACED):
            sentence, why_not_first = self._why_not_first(child, first)
            sentences.append(sentence)
        if change is not None:
            sentences += self._what_would_change(child, outcome, change)
        return ChildExplanation(
            child_id=instance.case.children[child].child_id,
            outcome=outcome,
            school_id=schools[school].school_id if school >= 0 else None,
            first_choice_school_id=schools[first].school_id if first >= 0 else None,
            forced=None if change is None else change.forced,
            add_place_school_id=_school_id(instance, change.add_place_school) if change else None,
            extra_minutes=_given(change.extra_minutes) if change else None,
            priority_needed=_given(change.priority_needed) if change else None,
            explanation=" ".join(sentences),
            why_not_first=why_not_first,
        )

    def _outcome(self, child: int) -> tuple[int, int, int, Outcome]:
        """(school, minutes, the family's rank or 0, outcome); school -1 when unplaced."""
        instance = self.instance
        if instance.locked_school[child] >= 0:
            return int(instance.locked_school[child]), int(instance.locked_minutes[child]), 0, Outcome.LOCKED
        pair = int(self.chosen[child])
        if pair < 0:
            return -1, 0, 0, Outcome.UNPLACED
        school, minutes, rank = (
            int(instance.pair_school[pair]),
            int(instance.pair_minutes[pair]),
            int(instance.pair_rank[pair]),
        )
        if self.first[child] < 0:
            return school, minutes, rank, Outcome.PLACED
        if school == self.first[child]:
            return school, minutes, rank, Outcome.FIRST_CHOICE
        return school, minutes, rank, Outcome.OTHER_CHOICE if rank else Outcome.NOT_RANKED

    def _placed_sentence(self, child: int, school: int, minutes: int, rank: int, outcome: Outcome) -> str:
        name = self.instance.case.schools[school].name
        journey = f"The journey takes {counted(minutes, 'minute')}."
        if outcome is Outcome.FIRST_CHOICE:
            return f"This child has a place at {name}, the family's first choice. {journey}"
        if outcome is Outcome.OTHER_CHOICE:
            return f"This child has a place at {name}, choice {rank} on the family's list. {journey}"
        if outcome is Outcome.NOT_RANKED:
            return f"This child has a place at {name}, which the family did not ask for. {journey}"
        return f"This child has a place at {name}. The family did not name any schools. {journey} " + self._nearest(
            child, minutes
        )

    def _nearest(self, child: int, minutes: int) -> str:
        mine = np.arange(self.pair_starts[child], self.pair_starts[child + 1])
        mine = mine[self.usable[mine]]
        if (self.instance.pair_minutes[mine] < minutes).any():
            return "Nearer schools in reach had no place left for this child's need."
        return "No school in reach with this need's places is nearer."

    def _why_not_first(self, child: int, first: int) -> tuple[str, str]:
        """The sentence, and its key in FIRST_CHOICE_REASONS (for the chief reason)."""
        instance = self.instance
        school = instance.case.schools[first]
        need_code = int(instance.child_need[child])
        need = NEED_LABELS[NEEDS[need_code]]
        bucket = self.bucket_of.get((first, need_code))
        age = int(instance.child_age[child])
        if bucket is None:
            return f"The first choice, {school.name}, has no places for {need} in this round.", "no_places_for_need"
        if not school.age_min <= age <= school.age_max:
            return (
                f"The first choice, {school.name}, takes ages {school.age_min} to {school.age_max}, not {age}.",
                "age",
            )
        if not self.school_ok[first]:
            return (
                f"The first choice, {school.name}, is a new site that was not opened in this round.",
                "site_not_opened",
            )
        holders, chief = self._who_took(child, bucket)
        return f"The first choice, {school.name}, had no {need} place left. {holders}".rstrip(), chief

    def _who_took(self, child: int, bucket: int) -> tuple[str, str]:
        """Counts of the children holding the bucket's places, by the first reason that fits;
        and the reason most of them share (the first in that order on a tie)."""
        instance = self.instance
        own_tier = int(instance.child_priority[child])
        counts = {"panel": 0, "urgent": 0, "only": 0, "first": 0, "nearer": 0, "other": 0}
        counts["panel"] = int((instance.locked_bucket == bucket).sum())
        holders = np.flatnonzero(self.chosen >= 0)
        holders = holders[instance.pair_bucket[self.chosen[holders]] == bucket]
        own_minutes = self._minutes_at(child, bucket)
        for holder in holders.tolist():
            pair = int(self.chosen[holder])
            if int(instance.child_priority[holder]) > own_tier:
                counts["urgent"] += 1
            elif self.usable_count[holder] == 1:
                counts["only"] += 1
            elif int(instance.pair_rank[pair]) == 1:
                counts["first"] += 1
            elif own_minutes is not None and int(instance.pair_minutes[pair]) < own_minutes:
                counts["nearer"] += 1
            else:
                counts["other"] += 1
        parts = [_children(count, *_HOLDER_WORDS[key]) for key, count in counts.items() if count]
        chief = max(counts, key=lambda key: counts[key]) if any(counts.values()) else "other"
        if not parts:
            return "", chief
        return f"Its places went to {_joined(parts)}.", chief

    def _minutes_at(self, child: int, bucket: int) -> int | None:
        mine = np.arange(self.pair_starts[child], self.pair_starts[child + 1])
        found = mine[self.instance.pair_bucket[mine] == bucket]
        return int(self.instance.pair_minutes[found[0]]) if found.size else None

    def _what_would_change(self, child: int, outcome: Outcome, change: ChildChanges) -> list[str]:
        instance = self.instance
        need = NEED_LABELS[NEEDS[int(instance.child_need[child])]]
        sentences = []
        if change.add_place_school >= 0:
            name = instance.case.schools[change.add_place_school].name
            if outcome is Outcome.UNPLACED:
                sentences.append(f"One more {need} place at {name} would have given this child a place there.")
            else:
                sentences.append(f"One more {need} place at {name} would have let this child go there.")
        if change.extra_minutes >= 0:
            limit = int(instance.child_limit[child])
            longer = limit + change.extra_minutes
            sentences.append(
                f"A travel limit of {longer} minutes instead of {limit} would have given this child a place."
            )
        if change.priority_needed >= 0:
            name = instance.case.policy.priority_name(change.priority_needed)
            sentences.append(f"With the priority {name}, this child would have had a place.")
        if not change.forced and outcome is not Outcome.LOCKED:
            sentences.append(NOT_FORCED)
        return sentences


# (one child ..., N children ...) for each reason a child holds a place the first choice had
_HOLDER_WORDS = {
    "panel": ("whose place the panel had already decided", "whose places the panel had already decided"),
    "urgent": ("with a more urgent priority", "with a more urgent priority"),
    "only": ("for whom it was the only school in reach", "for whom it was the only school in reach"),
    "first": ("who also put it first", "who also put it first"),
    "nearer": ("who lives nearer", "who live nearer"),
    "other": (
        "who would otherwise have had a longer journey or a school they wanted less",
        "who would otherwise have had longer journeys or schools they wanted less",
    ),
}


def _children(count: int, one: str, many: str) -> str:
    return f"one child {one}" if count == 1 else f"{count} children {many}"


def sites_in_use(instance: Instance, solution: Solution) -> BoolArray:
    """Schools that are not candidate sites, and the candidate sites holding a child."""
    used = np.zeros(instance.school_count, bool)
    used[instance.pair_school[solution.chosen_pair[solution.chosen_pair >= 0]]] = True
    used[instance.locked_school[instance.locked_school >= 0]] = True
    return ~instance.is_candidate | (solution.open_sites & used)


def _school_id(instance: Instance, school: int) -> str | None:
    return instance.case.schools[school].school_id if school >= 0 else None


def _given(value: int) -> int | None:
    return value if value >= 0 else None


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
