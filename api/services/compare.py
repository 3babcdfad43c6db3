"""What changed between two runs of a case: the children who moved, each with a reason in plain
English, the moves counted by priority tier, and the change in every summary figure.

A run is seen as the round it solved (`RoundView`): the case as that run read it (the panel's
locks of the time, and for `plan-places` its plan.csv's new places, for `whatif` its scenario),
where each child went, and the summary. The same diff (`diff_rounds`) serves the knock-on preview
(`api.services.knock_on`), whose second round is a re-solve rather than a stored run.

The reason for a move is the first that the two rounds show, in this order: a panel decision
placed the child; the panel's decision that held them was withdrawn; places were removed where
they were; the travel limit changed; a new site opened where they went; a place was added where
they went; a child of more urgent priority, or one the panel placed, took a place where they
were; a place came free where they went. Otherwise, when the runs' objective figures are equal,
"the optimiser chose an equally good allocation". No reason ever names another child.
"""

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from allocator.estates.network import grow_case
from allocator.estates.whatif import apply_scenario, figure_changes
from api.errors import ApiError, not_found
from api.jobs import FINISHED, SCENARIO_NAME
from api.services.case_files import load_files
from api.storage.cases import case_files
from api.storage.database import Database
from api.storage.placements import has_placements, placements_of_run
from api.storage.runs import get_run, output_file, status_of
from api.storage.tables import RunRecord
from data.loader import LoadedCase
from data.scenario import parse_scenario
from models.case import Case, Child
from models.need import Need
from models.problems import CaseInvalid
from models.results import Placement

EQUALLY_GOOD = "the optimiser chose an equally good allocation"
# Objective levels (CONTRACT.md): equal in both rounds means the two allocations are equally good.
OBJECTIVE = ("placed_by_priority", "preference_cost", "travel_minutes")


@dataclass(frozen=True)
class Seat:
    """Where one child went in a round (school_id None: not placed)."""

    school_id: str | None
    travel_minutes: int | None
    preference_rank: int | None
    locked: bool


@dataclass(frozen=True)
class RoundView:
    """A round as one run solved it: the case it read, each child's seat, its summary."""

    case: Case
    seats: Mapping[str, Seat]
    summary: Mapping[str, Any]


@dataclass(frozen=True)
class ChildMove:
    """A child whose school differs between the rounds (None: not placed)."""

    child_id: str
    need: str
    priority: int
    from_school_id: str | None
    from_school: str
    to_school_id: str | None
    to_school: str
    reason: str


@dataclass(frozen=True)
class FigureChange:
    """One summary figure in both rounds. `figure` is the summary.json key path (dots)."""

    figure: str
    label: str
    before: float
    after: float

    @property
    def change(self) -> float:
        """after - before, to 6 decimal places (shares and means are rounded in summary.json)."""
        return round(self.after - self.before, 6)


@dataclass(frozen=True)
class RoundDiff:
    moves: tuple[ChildMove, ...]
    moves_by_priority: dict[str, int]
    figures: tuple[FigureChange, ...]


@dataclass(frozen=True)
class RunComparison:
    case_id: str
    run_a: str
    run_b: str
    diff: RoundDiff


def compare_runs(database: Database, run_a: str, run_b: str) -> RunComparison:
    """Compare run `run_b` with run `run_a` (the earlier, usually). Both must be finished runs
    with an allocation, of the same case: 404 `run_not_found`, 409 `run_not_finished`,
    409 `run_has_no_allocation`, 409 `runs_of_different_cases`."""
    with database.session() as session:
        first, second = get_run(session, run_a), get_run(session, run_b)
        for run_id, run in ((run_a, first), (run_b, second)):
            if run is None:
                raise not_found("run", run_id)
        assert first is not None and second is not None
        if first.case_id != second.case_id:
            raise ApiError(
                409,
                "runs_of_different_cases",
                f"run '{run_a}' is a run of case '{first.case_id}' and run '{run_b}' of case '{second.case_id}'",
            )
        for run in (first, second):
            if status_of(run) not in FINISHED:
                raise ApiError(409, "run_not_finished", f"run '{run.run_id}' has not finished ({run.status})")
            if not has_placements(session, run.run_id):
                raise ApiError(409, "run_has_no_allocation", f"a '{run.kind}' run places no children")
        files = case_files(session, first.case_id)
        views = [stored_round(database, files, run) for run in (first, second)]
    return RunComparison(first.case_id, run_a, run_b, diff_rounds(views[0], views[1]))


def stored_round(database: Database, files: dict[str, bytes], run: RunRecord) -> RoundView:
    """The round a stored, finished run solved (see the module docstring)."""
    locks: dict[str, str] = dict(run.options.get("locks") or {})
    try:
        loaded = load_files(files, locks)
        case = _case_as_run_read_it(loaded, run, database)
    except CaseInvalid:  # the run itself would have failed on this; it finished, so it did not
        raise ApiError(409, "run_not_comparable", f"run '{run.run_id}' cannot be read again") from None
    with database.session() as session:
        rows = placements_of_run(session, run.run_id)
    seats = {row.child_id: Seat(row.school_id, row.travel_minutes, row.preference_rank, row.locked) for row in rows}
    summary = run.summary or {}
    if run.kind == "whatif":  # its allocation is the scenario's; the baseline's figures sit beside
        summary = summary.get("scenario") or {}
    return RoundView(case, seats, summary)


def solved_round(loaded: LoadedCase, placements: Iterable[Placement], summary: Mapping[str, Any]) -> RoundView:
    """The round a run solved without storing it (the knock-on preview)."""
    seats = {p.child_id: Seat(p.school_id, p.travel_minutes, p.preference_rank, p.locked) for p in placements}
    return RoundView(loaded.case, seats, summary)


def _case_as_run_read_it(loaded: LoadedCase, run: RunRecord, database: Database) -> Case:
    if run.kind == "plan-places":
        with database.session() as session:
            plan = output_file(session, run.run_id, "plan.csv") or ""
        extra = {
            (row["school_id"], Need(row["need"])): int(row["extra_places"]) for row in csv.DictReader(io.StringIO(plan))
        }
        return grow_case(loaded.case, extra)
    if run.kind == "whatif":
        text = str(run.options.get("scenario", ""))
        name = str(run.options.get("scenario_name", SCENARIO_NAME))
        return apply_scenario(loaded, parse_scenario(text, loaded.case, name), text).case
    return loaded.case


def diff_rounds(before: RoundView, after: RoundView) -> RoundDiff:
    """The moves from `before` to `after` (children of the case in both, in children.csv order),
    the moves counted by priority tier (every tier of the case, zero included), and every numeric
    summary figure's change."""
    reasons = _Reasons(before, after)
    moves = []
    for child in before.case.children:
        old, new = before.seats.get(child.child_id), after.seats.get(child.child_id)
        if old is None or new is None or old.school_id == new.school_id:
            continue
        moves.append(
            ChildMove(
                child.child_id,
                child.need.value,
                child.priority,
                old.school_id,
                reasons.school_name(old.school_id),
                new.school_id,
                reasons.school_name(new.school_id),
                reasons.why(child, old, new),
            )
        )
    counted = Counter(str(move.priority) for move in moves)
    tiers = sorted({child.priority for child in before.case.children}, reverse=True)
    by_tier = {str(tier): counted[str(tier)] for tier in tiers}
    return RoundDiff(tuple(moves), by_tier, summary_changes(before.summary, after.summary))


def summary_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FigureChange, ...]:
    """Every numeric figure of two summaries (summary.json), labelled in plain English."""
    return tuple(
        FigureChange(name, figure_label(name), old_value, new_value)
        for name, old_value, new_value in figure_changes(before, after)
    )


class _Reasons:
    """Why one child moved, from what the two rounds show (see the module docstring)."""

    def __init__(self, before: RoundView, after: RoundView) -> None:
        self.names = {school.school_id: school.name for school in after.case.schools}
        self.names.update({school.school_id: school.name for school in before.case.schools})
        self.places_before = _places(before.case)
        self.places_after = _places(after.case)
        self.locks_before = {c.child_id: c.locked_school_id for c in before.case.children if c.locked_school_id}
        self.locks_after = {c.child_id: c.locked_school_id for c in after.case.children if c.locked_school_id}
        self.policy_before, self.policy_after = before.case.policy, after.case.policy
        self.opened = set(after.summary.get("opened_sites") or ()) - set(before.summary.get("opened_sites") or ())
        self.occupants_before = _occupants(before)
        self.occupants_after = _occupants(after)
        self.equally_good = all(before.summary.get(level) == after.summary.get(level) for level in OBJECTIVE)

    def school_name(self, school_id: str | None) -> str:
        return "not placed" if school_id is None else self.names.get(school_id, school_id)

    def why(self, child: Child, old: Seat, new: Seat) -> str:
        lock_before, lock_after = self.locks_before.get(child.child_id), self.locks_after.get(child.child_id)
        if lock_after is not None and lock_after != lock_before and new.school_id == lock_after:
            return f"a panel decision placed them at {self.school_name(lock_after)}"
        if lock_before is not None and lock_after != lock_before and old.school_id == lock_before:
            return f"the panel's decision that kept them at {self.school_name(lock_before)} no longer applies"
        old_key, new_key = (old.school_id, child.need), (new.school_id, child.need)
        if old.school_id and self.places_after.get(old_key, 0) < self.places_before.get(old_key, 0):
            return f"places for their need were removed at {self.school_name(old.school_id)}"
        limits = (self.policy_before.travel_limit(child.age), self.policy_after.travel_limit(child.age))
        if limits[0] != limits[1] and (_beyond(old, limits[1]) or _beyond(new, limits[0])):
            return f"the travel limit for their age changed from {limits[0]} to {limits[1]} minutes"
        if new.school_id in self.opened:
            return f"{self.school_name(new.school_id)} opened as a new site"
        if new.school_id and self.places_after.get(new_key, 0) > self.places_before.get(new_key, 0):
            return f"a place for their need was added at {self.school_name(new.school_id)}"
        if old.school_id:
            taken = self._taken_from(child, old_key)
            if taken:
                return taken
        if new.school_id and not old.school_id:
            return f"a place came free at {self.school_name(new.school_id)}"
        if self.equally_good:
            return EQUALLY_GOOD
        return "with the other changes in this round, this is part of the best allocation overall"

    def _taken_from(self, child: Child, key: tuple[str | None, Need]) -> str | None:
        """A place where the child was went to a child of more urgent priority, or to a child the
        panel placed there: counted, never named."""
        before, after = self.occupants_before.get(key, []), self.occupants_after.get(key, [])
        if sum(1 for p, _, _ in after if p > child.priority) > sum(1 for p, _, _ in before if p > child.priority):
            return f"moved to make room at {self.school_name(key[0])} for a child of more urgent priority"
        # a child the panel placed here who was here already (an accept) took nobody's place
        there_before = {child_id for _, _, child_id in before}
        if any(locked and child_id not in there_before for _, locked, child_id in after):
            return f"moved to make room at {self.school_name(key[0])} for a child the panel placed there"
        return None


def _places(case: Case) -> dict[tuple[str | None, Need], int]:
    return {(offer.school_id, offer.need): offer.places for offer in case.places}


def _occupants(view: RoundView) -> dict[tuple[str | None, Need], list[tuple[int, bool, str]]]:
    """(school, need) -> (priority, locked, child id) of each child of the case placed there
    (the ids only to tell who was there before: never shown)."""
    found: dict[tuple[str | None, Need], list[tuple[int, bool, str]]] = {}
    for child in view.case.children:
        seat = view.seats.get(child.child_id)
        if seat is not None and seat.school_id is not None:
            found.setdefault((seat.school_id, child.need), []).append((child.priority, seat.locked, child.child_id))
    return found


def _beyond(seat: Seat, limit: int) -> bool:
    """Placed at a school the family did not rank, farther than `limit` minutes, not locked."""
    return (
        seat.school_id is not None
        and seat.preference_rank is None
        and (seat.travel_minutes or 0) > limit
        and not seat.locked
    )


_LABELS = {
    "placed": "children placed",
    "unplaced": "children not placed",
    "preference_cost": "preference cost (lower means more families got a school they ranked higher)",
    "travel_minutes": "total travel time, in minutes",
    "cost_gbp_year.places": "cost of places a year (£)",
    "cost_gbp_year.places_without_cost_data": "places with no cost given",
    "cost_gbp_year.transport": "cost of transport a year (£)",
    "cost_gbp_year.total": "total cost a year (£)",
    "new_places_used": "new places used",
    "school_need_pairs": "schools given new places for a need",
    "children_moving": "children moving",
}
_DISTRICT_FIGURES = {
    "children": "children",
    "placed": "children placed",
    "unplaced": "children not placed",
    "placed_share": "share of children placed",
    "mean_travel_minutes": "average travel time, in minutes",
    "max_travel_minutes": "longest travel time, in minutes",
    "independent_placements": "children placed at independent schools",
}


def figure_label(figure: str) -> str:
    """A summary figure (its key path) in plain English."""
    if figure in _LABELS:
        return _LABELS[figure]
    head, _, rest = figure.partition(".")
    if head in ("placed_by_priority", "children_by_priority"):
        what = "children placed" if head == "placed_by_priority" else "children"
        return f"{what} {tier_label(int(rest))}"
    if head in ("placed_by_need", "unplaced_by_need"):
        return f"children with {rest} as their need {'placed' if head == 'placed_by_need' else 'not placed'}"
    if head == "districts":
        district, _, key = rest.rpartition(".")
        return f"{district}: {_DISTRICT_FIGURES.get(key, key.replace('_', ' '))}"
    return figure.replace("_", " ").replace(".", ": ")


def tier_label(tier: int) -> str:
    """A priority tier in words (higher is more urgent; 0 is the usual tier)."""
    return "with no extra urgency" if tier == 0 else f"at urgency level {tier} (higher is more urgent)"
