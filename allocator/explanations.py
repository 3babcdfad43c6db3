"""explanations.csv: one row per child, in children.csv order, with plain sentences.

The sentences name schools, minutes, limits and counts, never another child. The numbers in a
row (forced, the counterfactuals) come from `allocator.counterfactuals`, exact.
"""

from dataclasses import replace

import numpy as np

from allocator.counterfactuals import ChildChanges, exact_changes, first_choice_schools
from allocator.explain import counted
from allocator.instance import NEEDS, Instance
from allocator.placed import placed_children
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
    return _Writer(instance, solution).rows(reasons, changes)


_SECOND_SENTENCE_FOR = (Outcome.OTHER_CHOICE, Outcome.NOT_RANKED, Outcome.UNPLACED)


class _Writer:
    """The rows of one solution. What every row needs (outcomes, schools, minutes, whether a
    nearer school was in reach) is computed for all children at once; the sentences saying who
    holds a first choice's places are computed once per place, priority and journey."""

    def __init__(self, instance: Instance, solution: Solution) -> None:
        self.instance = instance
        self.chosen = solution.chosen_pair
        self.placed = placed_children(instance, solution.chosen_pair)
        self.first = first_choice_schools(instance)
        usable = instance.usable_pairs(solution.open_sites)
        self.usable_count = np.bincount(instance.pair_child[usable], minlength=instance.child_count)
        usable_child = instance.pair_child[usable]
        nearer_pairs = instance.pair_minutes[usable] < self.placed.minutes[usable_child]
        self.nearer = np.bincount(usable_child[nearer_pairs], minlength=instance.child_count) > 0
        self.school_ok: BoolArray = ~instance.is_candidate | solution.open_sites
        self.bucket_of = {
            (int(s), int(need)): b
            for b, (s, need) in enumerate(zip(instance.bucket_school, instance.bucket_need, strict=True))
        }
        self.pair_starts = instance.pair_starts
        self.names = [school.name for school in instance.case.schools]
        self.need_words = [NEED_LABELS[need] for need in NEEDS]
        self.panel_count = np.bincount(
            instance.locked_bucket[instance.locked_bucket >= 0], minlength=instance.bucket_school.size
        )
        holders = np.flatnonzero(self.chosen >= 0)
        holder_bucket = instance.pair_bucket[self.chosen[holders]]
        order = np.argsort(holder_bucket, kind="stable")
        self.holders = holders[order]
        self.holder_starts = np.searchsorted(holder_bucket[order], np.arange(instance.bucket_school.size + 1))
        self.took: dict[tuple[int, int, int | None], tuple[str, str]] = {}

    def outcomes(self) -> list[Outcome]:
        """Each child's outcome: locked, unplaced, placed (the family named no school), at the
        first choice, at another ranked choice, or at a school the family did not rank."""
        placed, first = self.placed, self.first
        code = np.select(
            [placed.locked, ~placed.placed, first < 0, placed.school == first, placed.rank > 0],
            [0, 1, 2, 3, 4],
            5,
        )
        kinds = (
            Outcome.LOCKED,
            Outcome.UNPLACED,
            Outcome.PLACED,
            Outcome.FIRST_CHOICE,
            Outcome.OTHER_CHOICE,
            Outcome.NOT_RANKED,
        )
        return [kinds[c] for c in code.tolist()]

    def rows(
        self, reasons: dict[int, tuple[UnplacedReason, str]], changes: list[ChildChanges] | None
    ) -> tuple[ChildExplanation, ...]:
        instance, names = self.instance, self.names
        school_ids = [school.school_id for school in instance.case.schools]
        columns = zip(
            instance.case.children,
            self.outcomes(),
            self.placed.school.tolist(),
            self.placed.minutes.tolist(),
            self.placed.rank.tolist(),
            self.first.tolist(),
            self.nearer.tolist(),
            strict=True,
        )
        rows = []
        for child, (child_row, outcome, school, minutes, rank, first, nearer) in enumerate(columns):
            if outcome is Outcome.LOCKED:
                sentences = [f"The panel has already decided this child's place at {names[school]}."]
            elif outcome is Outcome.UNPLACED:
                sentences = [reasons[child][1]]
            else:
                sentences = [_placed_sentence(names[school], minutes, rank, outcome, nearer)]
            why_not_first = None
            if first >= 0 and outcome in _SECOND_SENTENCE_FOR:
                sentence, why_not_first = self._why_not_first(child, first)
                sentences.append(sentence)
            change = None if changes is None else changes[child]
            if change is not None:
                sentences += self._what_would_change(child, outcome, change)
            rows.append(
                ChildExplanation(
                    child_id=child_row.child_id,
                    outcome=outcome,
                    school_id=school_ids[school] if school >= 0 else None,
                    first_choice_school_id=school_ids[first] if first >= 0 else None,
                    forced=None if change is None else change.forced,
                    add_place_school_id=_school_id(instance, change.add_place_school) if change else None,
                    extra_minutes=_given(change.extra_minutes) if change else None,
                    priority_needed=_given(change.priority_needed) if change else None,
                    explanation=" ".join(sentences),
                    why_not_first=why_not_first,
                )
            )
        return tuple(rows)

    def _why_not_first(self, child: int, first: int) -> tuple[str, str]:
        """The sentence, and its key in FIRST_CHOICE_REASONS (for the chief reason)."""
        instance = self.instance
        school = instance.case.schools[first]
        need_code = int(instance.child_need[child])
        need = self.need_words[need_code]
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
        and the reason most of them share (the first in that order on a tie). The same for
        every child of one priority whose journey to the bucket's school is the same."""
        key = (bucket, int(self.instance.child_priority[child]), self._minutes_at(child, bucket))
        if key not in self.took:
            self.took[key] = self._holders_sentence(*key)
        return self.took[key]

    def _holders_sentence(self, bucket: int, own_tier: int, own_minutes: int | None) -> tuple[str, str]:
        instance = self.instance
        holders = self.holders[self.holder_starts[bucket] : self.holder_starts[bucket + 1]]
        pairs = self.chosen[holders]
        left = instance.child_priority[holders] <= own_tier
        urgent = int(holders.size - left.sum())
        only = left & (self.usable_count[holders] == 1)
        left &= ~only
        first = left & (instance.pair_rank[pairs] == 1)
        left &= ~first
        nearer = left & (instance.pair_minutes[pairs] < own_minutes) if own_minutes is not None else np.zeros_like(left)
        left &= ~nearer
        counts = {
            "panel": int(self.panel_count[bucket]),
            "urgent": urgent,
            "only": int(only.sum()),
            "first": int(first.sum()),
            "nearer": int(nearer.sum()),
            "other": int(left.sum()),
        }
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
        need = self.need_words[int(instance.child_need[child])]
        sentences = []
        if change.add_place_school >= 0:
            name = self.names[change.add_place_school]
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


def _placed_sentence(name: str, minutes: int, rank: int, outcome: Outcome, nearer: bool) -> str:
    """A placed child's first sentence; `nearer`: a school in reach with a place for the
    child's need (over the sites in use) is nearer than the one given."""
    journey = f"The journey takes {counted(minutes, 'minute')}."
    if outcome is Outcome.FIRST_CHOICE:
        return f"This child has a place at {name}, the family's first choice. {journey}"
    if outcome is Outcome.OTHER_CHOICE:
        return f"This child has a place at {name}, choice {rank} on the family's list. {journey}"
    if outcome is Outcome.NOT_RANKED:
        return f"This child has a place at {name}, which the family did not ask for. {journey}"
    if nearer:
        nearest = "Nearer schools in reach had no place left for this child's need."
    else:
        nearest = "No school in reach with this need's places is nearer."
    return f"This child has a place at {name}. The family did not name any schools. {journey} {nearest}"


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
