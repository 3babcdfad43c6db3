"""The per-child writing code that `allocator.summary`, `allocator.explanations`,
`allocator.fairness` and `data.outputs` replaced with array-wise code (README, "Writing large runs
quickly"), kept as the slow reference the fast code must equal: one Placement, one explanation row
and one fairness group at a time, straight from the models and the solution, and the csv module's
writer for the files."""

import csv
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from allocator.counterfactuals import ChildChanges, exact_changes, first_choice_schools
from allocator.explain import counted
from allocator.explanations import NOT_FORCED, sites_in_use
from allocator.fairness import BETA, KAPPA_DECIMALS, MINUTES_DECIMALS, SHARE_DECIMALS, kolm_pollak_kappa
from allocator.instance import NEEDS, Instance
from allocator.objective import evaluate
from allocator.solution import Solution
from allocator.stable import stability_summary
from allocator.summary import _software
from data.outputs import FORMULA_STARTS
from models.case import Case, SchoolKind
from models.need import NEED_LABELS, Need
from models.results import Allocation, ChildExplanation, Outcome, Placement, RunSummary, UnplacedReason

NOT_GIVEN = "(not given)"


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """csv.writer with CR LF line ends (so it quotes a carriage return), each line end then made
    a bare newline, every text cell starting a formula given an apostrophe."""

    def safe(value: object) -> object:
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    class Lines:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, line: str) -> int:
            assert line.endswith("\r\n")
            self.parts.append(line[:-2] + "\n")
            return len(line)

    lines = Lines()
    writer = csv.writer(lines, lineterminator="\r\n")
    writer.writerow([safe(c) for c in columns])
    writer.writerows([safe(c) for c in row] for row in rows)
    return "".join(lines.parts)


def build_allocation(
    instance: Instance,
    solution: Solution,
    reasons: dict[int, tuple[UnplacedReason, str]],
    input_sha256: str,
    seconds: float,
) -> Allocation:
    """`allocator.summary.build_allocation` as it was: every figure from the Placements."""
    rows = placements(instance, solution, reasons)
    value = evaluate(instance, solution.chosen_pair)
    tiers = instance.tiers()
    placed_by_tier = value.placed_by_tier(tiers)
    children_by_tier = Counter(int(p) for p in instance.child_priority)
    used_schools = {p.school_id for p in rows if p.school_id is not None}
    opened = [
        school.school_id
        for index, school in enumerate(instance.case.schools)
        if solution.open_sites[index] and school.kind == SchoolKind.CANDIDATE and school.school_id in used_schools
    ]
    summary = RunSummary(
        status=solution.status,
        placed_by_priority={str(t): placed_by_tier[t] for t in tiers},
        children_by_priority={str(t): children_by_tier[t] for t in tiers},
        preference_cost=value.preference_cost,
        travel_minutes=value.travel_minutes,
        opened_sites=opened,
        solve_seconds=float(math.floor(seconds)),
        input_sha256=input_sha256,
        solver=solution.solver,
        objective_bound=solution.bounds,
        gap=round(solution.gap, 6),
        software=_software(),
        stability=stability_summary(instance, solution),
        fairness=fairness_figures(instance.case, rows),
        **summary_figures(instance, rows),
    )
    return Allocation(placements=rows, summary=summary)


def placements(
    instance: Instance, solution: Solution, reasons: dict[int, tuple[UnplacedReason, str]]
) -> tuple[Placement, ...]:
    return tuple(_placement(instance, solution, reasons, child) for child in range(instance.child_count))


def _placement(
    instance: Instance, solution: Solution, reasons: dict[int, tuple[UnplacedReason, str]], child: int
) -> Placement:
    child_id = instance.case.children[child].child_id
    schools = instance.case.schools
    locked = int(instance.locked_school[child])
    if locked >= 0:
        rank = int(instance.locked_rank[child])
        return Placement(
            child_id=child_id,
            school_id=schools[locked].school_id,
            travel_minutes=int(instance.locked_minutes[child]),
            preference_rank=rank or None,
            locked=True,
        )
    pair = int(solution.chosen_pair[child])
    if pair >= 0:
        rank = int(instance.pair_rank[pair])
        return Placement(
            child_id=child_id,
            school_id=schools[int(instance.pair_school[pair])].school_id,
            travel_minutes=int(instance.pair_minutes[pair]),
            preference_rank=rank or None,
        )
    reason, sentence = reasons[child]
    return Placement(child_id=child_id, reason=reason, explanation=sentence)


def summary_figures(instance: Instance, placements: tuple[Placement, ...]) -> dict[str, Any]:
    """summary.json's placed, unplaced, by need, districts and costs."""
    return {
        "placed": sum(1 for p in placements if p.placed),
        "unplaced": sum(1 for p in placements if not p.placed),
        "placed_by_need": _by_need(instance, placements, placed=True),
        "unplaced_by_need": _by_need(instance, placements, placed=False),
        "districts": _districts(instance, placements),
        "cost_gbp_year": _costs(instance, placements),
    }


def _by_need(instance: Instance, placements: tuple[Placement, ...], placed: bool) -> dict[str, int]:
    counts = Counter(NEEDS[int(instance.child_need[i])].value for i, p in enumerate(placements) if p.placed == placed)
    return {need.value: counts[need.value] for need in NEEDS if counts[need.value]}


def _districts(instance: Instance, placements: tuple[Placement, ...]) -> dict[str, dict[str, int | float]]:
    kind = {s.school_id: s.kind for s in instance.case.schools}
    groups: dict[str, list[Placement]] = defaultdict(list)
    for child, placement in zip(instance.case.children, placements, strict=True):
        groups[child.district or NOT_GIVEN].append(placement)
    result: dict[str, dict[str, int | float]] = {}
    for district in sorted(groups):
        members = groups[district]
        placed = [p for p in members if p.placed]
        minutes = [p.travel_minutes or 0 for p in placed]
        result[district] = {
            "children": len(members),
            "placed": len(placed),
            "unplaced": len(members) - len(placed),
            "placed_share": round(len(placed) / len(members), 4),
            "mean_travel_minutes": round(float(np.mean(minutes)), 2) if minutes else 0.0,
            "max_travel_minutes": max(minutes) if minutes else 0,
            "independent_placements": sum(
                1 for p in placed if p.school_id is not None and kind[p.school_id] == SchoolKind.INDEPENDENT
            ),
        }
    return result


def _costs(instance: Instance, placements: tuple[Placement, ...]) -> dict[str, float]:
    cost = {s.school_id: s.annual_place_cost_gbp for s in instance.case.schools}
    placed = [p for p in placements if p.school_id is not None]
    known = [cost[p.school_id] for p in placed if p.school_id is not None and cost[p.school_id] is not None]
    places = float(sum(c for c in known if c is not None))
    transport = len(placed) * instance.case.policy.transport_cost_gbp
    return {
        "places": round(places, 2),
        "places_without_cost_data": float(len(placed) - len(known)),
        "transport": round(transport, 2),
        "total": round(places + transport, 2),
    }


def kolm_pollak_ede(minutes: Sequence[int], kappa: float) -> float:
    if kappa == 0:
        return math.fsum(minutes) / len(minutes)
    exponents = [-kappa * x for x in minutes]
    top = max(exponents)
    log_mean = top + math.log(math.fsum(math.exp(e - top) for e in exponents) / len(minutes))
    return -log_mean / kappa


def _share(part: int, whole: int) -> float:
    return round(float(Fraction(part, whole)), SHARE_DECIMALS) if whole else 0.0


class _Group:
    def __init__(self) -> None:
        self.children = 0
        self.minutes: list[int] = []
        self.within = 0
        self.independent = 0

    def figures(self, kappa: float) -> dict[str, Any]:
        placed = len(self.minutes)
        some = placed > 0
        ordered = sorted(self.minutes)
        return {
            "children": self.children,
            "placed": placed,
            "placed_share": _share(placed, self.children),
            "within_limit_share": _share(self.within, placed) if some else None,
            "mean_travel_minutes": round(math.fsum(self.minutes) / placed, MINUTES_DECIMALS) if some else None,
            "p90_travel_minutes": ordered[max(0, -(-90 * placed // 100) - 1)] if some else None,
            "independent_placements": self.independent,
            "kolm_pollak_ede_minutes": round(kolm_pollak_ede(self.minutes, kappa), MINUTES_DECIMALS) if some else None,
        }


def fairness_figures(case: Case, placements: Sequence[Placement]) -> dict[str, Any]:
    kind = {school.school_id: school.kind for school in case.schools}
    districts: dict[str, _Group] = defaultdict(_Group)
    needs: dict[Need, _Group] = defaultdict(_Group)
    overall = _Group()
    for child, placement in zip(case.children, placements, strict=True):
        for group in (districts[child.district or NOT_GIVEN], needs[child.need], overall):
            group.children += 1
            if placement.school_id is not None:
                minutes = placement.travel_minutes or 0
                group.minutes.append(minutes)
                group.within += minutes <= case.policy.travel_limit(child.age)
                group.independent += kind[placement.school_id] == SchoolKind.INDEPENDENT
    kappa = kolm_pollak_kappa(overall.minutes)
    shares = {name: Fraction(len(g.minutes), g.children) for name, g in sorted(districts.items())}
    gap: dict[str, Any] = {"value": 0.0, "highest": None, "lowest": None}
    if shares:
        highest = max(shares, key=lambda name: shares[name])
        lowest = min(shares, key=lambda name: shares[name])
        gap = {
            "value": round(float(shares[highest] - shares[lowest]), SHARE_DECIMALS),
            "highest": highest,
            "lowest": lowest,
        }
    return {
        "overall": overall.figures(kappa),
        "by_district": {name: districts[name].figures(kappa) for name in sorted(districts)},
        "by_need": {need.value: needs[need].figures(kappa) for need in Need if need in needs},
        "largest_placed_share_gap": gap,
        "kolm_pollak": {"aversion": BETA, "kappa": round(kappa, KAPPA_DECIMALS)},
    }


def explain_children(
    instance: Instance, solution: Solution, reasons: dict[int, tuple[UnplacedReason, str]], exact: bool = True
) -> tuple[ChildExplanation, ...]:
    solution = Solution(
        solution.chosen_pair, sites_in_use(instance, solution), solution.status, solution.solver, solution.bounds
    )
    changes = exact_changes(instance, solution) if exact else None
    writer = _Writer(instance, solution)
    return tuple(
        writer.row(child, reasons.get(child), None if changes is None else changes[child])
        for child in range(instance.child_count)
    )


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


class _Writer:
    def __init__(self, instance: Instance, solution: Solution) -> None:
        self.instance = instance
        self.chosen = solution.chosen_pair
        self.first = first_choice_schools(instance)
        usable = instance.usable_pairs(solution.open_sites)
        self.usable = np.zeros(instance.pair_child.size, bool)
        self.usable[usable] = True
        self.usable_count = np.bincount(instance.pair_child[usable], minlength=instance.child_count)
        self.school_ok = ~instance.is_candidate | solution.open_sites
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
            add_place_school_id=schools[change.add_place_school].school_id
            if change and change.add_place_school >= 0
            else None,
            extra_minutes=change.extra_minutes if change and change.extra_minutes >= 0 else None,
            priority_needed=change.priority_needed if change and change.priority_needed >= 0 else None,
            explanation=" ".join(sentences),
            why_not_first=why_not_first,
        )

    def _outcome(self, child: int) -> tuple[int, int, int, Outcome]:
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
        mine = np.arange(self.pair_starts[child], self.pair_starts[child + 1])
        mine = mine[self.usable[mine]]
        if (self.instance.pair_minutes[mine] < minutes).any():
            nearest = "Nearer schools in reach had no place left for this child's need."
        else:
            nearest = "No school in reach with this need's places is nearer."
        return f"This child has a place at {name}. The family did not name any schools. {journey} {nearest}"

    def _why_not_first(self, child: int, first: int) -> tuple[str, str]:
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
        instance = self.instance
        own_tier = int(instance.child_priority[child])
        counts = {"panel": 0, "urgent": 0, "only": 0, "first": 0, "nearer": 0, "other": 0}
        counts["panel"] = int((instance.locked_bucket == bucket).sum())
        holders = np.flatnonzero(self.chosen >= 0)
        holders = holders[instance.pair_bucket[self.chosen[holders]] == bucket]
        mine = np.arange(self.pair_starts[child], self.pair_starts[child + 1])
        found = mine[instance.pair_bucket[mine] == bucket]
        own_minutes = int(instance.pair_minutes[found[0]]) if found.size else None
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
        parts = [
            f"one child {_HOLDER_WORDS[key][0]}" if count == 1 else f"{count} children {_HOLDER_WORDS[key][1]}"
            for key, count in counts.items()
            if count
        ]
        chief = max(counts, key=lambda key: counts[key]) if any(counts.values()) else "other"
        if not parts:
            return "", chief
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"Its places went to {joined}.", chief

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
