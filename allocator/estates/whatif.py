"""What-if runs: apply a scenario (`data.scenario`) to a copy of the case, solve both, compare.

Edits, in this order: places added and removed; closed schools lose all places and their
locked children are released; named candidate sites become ordinary schools (always open),
each uses one of `open_sites` and is listed in the scenario summary's `opened_sites`; travel
limits and `open_sites` as given; demand growth adds round(count * percent / 100) synthetic
children per need (half up), each a copy of a child of that need drawn with a generator seeded
by the case's input hash (so the same case and scenario give the same children), without lock
or preferences, with the template's given travel minutes.

A child "moves" when their school differs between the runs; the reason given is the first
that applies: school closed, places removed, travel limit changed, new site opened, place
added, nearer place opened, displaced by higher priority, displaced by new demand, place
freed, reshuffled for a better overall allocation.
"""

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from allocator.options import SolveOptions
from allocator.solve import allocate
from data.loader import LoadedCase
from data.scenario import Scenario
from data.travel import TravelTable
from models.case import Case, Child, PlaceOffer, SchoolKind, TravelLimits
from models.need import Need
from models.results import Allocation, Placement

SYNTHETIC_PREFIX = "WHATIF"


@dataclass(frozen=True)
class Move:
    child_id: str
    from_school: str
    to_school: str
    why: str


@dataclass(frozen=True)
class WhatIf:
    baseline: Allocation
    scenario: Allocation
    moves: tuple[Move, ...]
    changes: tuple[tuple[str, float, float], ...]  # figure, baseline, scenario
    synthetic_children: int
    opened_for_certain: tuple[str, ...]


def run_whatif(
    loaded: LoadedCase, scenario: Scenario, scenario_text: str, options: SolveOptions | None = None
) -> WhatIf:
    options = options or SolveOptions()
    edited = apply_scenario(loaded, scenario, scenario_text)
    baseline = allocate(loaded, options)
    after = _with_sites_opened_for_certain(allocate(edited, options), case=loaded.case, forced=scenario.open_candidates)
    moves = _moves(loaded.case, edited.case, scenario, baseline, after)
    changes = _changes(baseline, after)
    synthetic = len(edited.case.children) - len(loaded.case.children)
    return WhatIf(baseline, after, tuple(moves), tuple(changes), synthetic, scenario.open_candidates)


def apply_scenario(loaded: LoadedCase, scenario: Scenario, scenario_text: str) -> LoadedCase:
    """The edited case; its input hash covers the case and the scenario text."""
    case = loaded.case
    closed = set(scenario.close_schools)
    places = {(o.school_id, o.need): o.places for o in case.places}
    for change in scenario.add_places:
        key = (change.school_id, change.need)
        places[key] = places.get(key, 0) + change.places
    for change in scenario.remove_places:
        key = (change.school_id, change.need)
        places[key] = max(0, places.get(key, 0) - change.places)
    offers = tuple(
        PlaceOffer(school_id=school_id, need=need, places=0 if school_id in closed else count)
        for (school_id, need), count in places.items()
    )
    forced = set(scenario.open_candidates)
    schools = tuple(
        school.model_copy(update={"kind": SchoolKind.SPECIAL}) if school.school_id in forced else school
        for school in case.schools
    )
    children = tuple(
        child.model_copy(update={"locked_school_id": None}) if child.locked_school_id in closed else child
        for child in case.children
    )
    children = _release_excess_locks(children, offers)
    policy = case.policy
    limits = policy.max_travel_minutes
    new_limits = TravelLimits(
        primary=scenario.max_travel_minutes.primary
        if scenario.max_travel_minutes.primary is not None
        else limits.primary,
        secondary=(
            scenario.max_travel_minutes.secondary
            if scenario.max_travel_minutes.secondary is not None
            else limits.secondary
        ),
    )
    open_sites = scenario.open_sites if scenario.open_sites is not None else policy.open_sites
    policy = policy.model_copy(
        update={"max_travel_minutes": new_limits, "open_sites": max(0, open_sites - len(forced))}
    )
    digest = hashlib.sha256((loaded.input_sha256 + "\0" + scenario_text).encode()).hexdigest()
    grown_children, travel = _grow_demand(children, loaded.travel, scenario.demand_growth_percent, loaded.input_sha256)
    edited = Case(schools=schools, places=offers, children=grown_children, preferences=case.preferences, policy=policy)
    return LoadedCase(edited, travel, digest)


def _with_sites_opened_for_certain(allocation: Allocation, case: Case, forced: tuple[str, ...]) -> Allocation:
    """The scenario's allocation with every site of `open_candidates` in `opened_sites` (in
    schools.csv order, as a run lists them).

    `apply_scenario` opens those sites by making them ordinary schools, and a run's summary
    lists only candidate sites (and only those a child uses), so the run itself never names
    them; the scenario opened them for certain, used or not.
    """
    listed = set(allocation.summary.opened_sites) | set(forced)
    opened = [school.school_id for school in case.schools if school.school_id in listed]
    summary = allocation.summary.model_copy(update={"opened_sites": opened})
    return allocation.model_copy(update={"summary": summary})


def _release_excess_locks(children: tuple[Child, ...], offers: tuple[PlaceOffer, ...]) -> tuple[Child, ...]:
    """Locks beyond a bucket's remaining places (after removals) are released, last first."""
    capacity = {(o.school_id, o.need): o.places for o in offers}
    used: Counter[tuple[str, Need]] = Counter()
    kept = []
    for child in children:
        if child.locked_school_id is not None:
            key = (child.locked_school_id, child.need)
            used[key] += 1
            if used[key] > capacity.get(key, 0):
                child = child.model_copy(update={"locked_school_id": None})
        kept.append(child)
    return tuple(kept)


def _grow_demand(
    children: tuple[Child, ...], travel: TravelTable, growth: dict[Need, float], seed_text: str
) -> tuple[tuple[Child, ...], TravelTable]:
    rng = np.random.default_rng(int(seed_text[:16] or "0", 16))
    added: list[Child] = []
    templates: list[int] = []
    for need in sorted(growth, key=lambda n: list(Need).index(n)):
        members = [i for i, child in enumerate(children) if child.need == need]
        count = int(np.floor(len(members) * growth[need] / 100.0 + 0.5))
        for k, pick in enumerate(rng.integers(0, len(members), size=count).tolist() if members else []):
            template = children[members[pick]]
            added.append(
                template.model_copy(
                    update={"child_id": f"{SYNTHETIC_PREFIX}-{need.value}-{k + 1:04d}", "locked_school_id": None}
                )
            )
            templates.append(members[pick])
    if not added:
        return children, travel
    return children + tuple(added), _copy_travel(travel, templates, len(children))


def _copy_travel(travel: TravelTable, templates: list[int], first_new: int) -> TravelTable:
    """Give each new child (index first_new + k) its template's given travel minutes."""
    if travel.keys.size == 0:
        return travel
    child_of_key = travel.keys // travel.school_count
    keys = [travel.keys]
    minutes = [travel.minutes]
    for k, template in enumerate(templates):
        rows = np.flatnonzero(child_of_key == template)
        keys.append((first_new + k) * travel.school_count + travel.keys[rows] % travel.school_count)
        minutes.append(travel.minutes[rows])
    all_keys = np.concatenate(keys)
    order = np.argsort(all_keys, kind="stable")
    return TravelTable(all_keys[order], np.concatenate(minutes)[order], travel.school_count)


def _moves(before: Case, after: Case, scenario: Scenario, baseline: Allocation, edited: Allocation) -> list[Move]:
    places_before = {(o.school_id, o.need): o.places for o in before.places}
    places_after = {(o.school_id, o.need): o.places for o in after.places}
    closed = set(scenario.close_schools)
    opened = set(scenario.open_candidates) | (set(edited.summary.opened_sites) - set(baseline.summary.opened_sites))
    closed |= set(baseline.summary.opened_sites) - set(edited.summary.opened_sites) - opened
    occupants = _occupants(after, edited)
    occupants_before = _occupants(before, baseline)
    moves = []
    for child, old, new in zip(before.children, baseline.placements, edited.placements, strict=False):
        if old.school_id == new.school_id:
            continue
        limits = (before.policy.travel_limit(child.age), after.policy.travel_limit(child.age))
        why = _why(
            child,
            old,
            new,
            places_before,
            places_after,
            closed,
            set(scenario.close_schools),
            opened,
            limits,
            occupants,
            occupants_before,
        )
        moves.append(Move(child.child_id, old.school_id or "", new.school_id or "", why))
    return moves


def _occupants(case: Case, allocation: Allocation) -> dict[tuple[str, Need], list[tuple[int, bool]]]:
    """Per (school, need): (priority, synthetic) of each child placed there."""
    result: dict[tuple[str, Need], list[tuple[int, bool]]] = {}
    for child, placement in zip(case.children, allocation.placements, strict=True):
        if placement.school_id is not None:
            synthetic = child.child_id.startswith(SYNTHETIC_PREFIX + "-")
            result.setdefault((placement.school_id, child.need), []).append((child.priority, synthetic))
    return result


def _why(
    child: Child,
    old: Placement,
    new: Placement,
    places_before: dict[tuple[str, Need], int],
    places_after: dict[tuple[str, Need], int],
    closed: set[str],
    scenario_closed: set[str],
    opened: set[str],
    limits: tuple[int, int],
    occupants: dict[tuple[str, Need], list[tuple[int, bool]]],
    occupants_before: dict[tuple[str, Need], list[tuple[int, bool]]],
) -> str:
    old_key = (old.school_id or "", child.need)
    new_key = (new.school_id or "", child.need)
    if old.school_id in closed:
        return (
            "school closed" if old.school_id in scenario_closed else f"site {old.school_id} not opened in the scenario"
        )
    if old.school_id and places_after.get(old_key, 0) < places_before.get(old_key, 0):
        return f"places removed at {old.school_id}"
    if _beyond(old, limits[1]) or _beyond(new, limits[0]):
        return "travel limit changed"
    if new.school_id in opened:
        return f"new site opened: {new.school_id}"
    if new.school_id and places_after.get(new_key, 0) > places_before.get(new_key, 0):
        if old.school_id and (new.travel_minutes or 0) < (old.travel_minutes or 0):
            return "nearer place opened"
        return f"place added at {new.school_id}"
    if old.school_id:
        higher_now = sum(1 for p, _ in occupants.get(old_key, []) if p > child.priority)
        higher_before = sum(1 for p, _ in occupants_before.get(old_key, []) if p > child.priority)
        if higher_now > higher_before:
            return "displaced by higher priority"
        if any(synthetic for _, synthetic in occupants.get(old_key, [])):
            return "displaced by new demand"
    if new.school_id and not old.school_id:
        return f"place freed at {new.school_id}"
    return "reshuffled for a better overall allocation"


def _beyond(placement: Placement, limit: int) -> bool:
    """Placed at an unranked school farther than `limit` minutes."""
    return placement.preference_rank is None and (placement.travel_minutes or 0) > limit and not placement.locked


def _flatten(prefix: str, value: object, out: dict[str, float]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        out[prefix] = float(value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)


_NOT_FIGURES = ("solve_seconds", "gap", "objective_bound")


def _changes(baseline: Allocation, edited: Allocation) -> list[tuple[str, float, float]]:
    """Every numeric summary figure present in either run: (figure, baseline, scenario)."""
    return figure_changes(baseline.summary.model_dump(mode="json"), edited.summary.model_dump(mode="json"))


def figure_changes(before: Mapping[str, object], after: Mapping[str, object]) -> list[tuple[str, float, float]]:
    """Every numeric figure of two summaries (as summary.json holds them) present in either, by
    key path ("districts.Burnley.placed"), sorted: (figure, before, after); a figure one lacks
    counts as 0. Solver figures (seconds, gap, bounds) are left out."""
    flat_before: dict[str, float] = {}
    flat_after: dict[str, float] = {}
    _flatten("", dict(before), flat_before)
    _flatten("", dict(after), flat_after)
    names = sorted(set(flat_before) | set(flat_after))
    return [
        (name, flat_before.get(name, 0.0), flat_after.get(name, 0.0))
        for name in names
        if not name.startswith(_NOT_FIGURES)
    ]
