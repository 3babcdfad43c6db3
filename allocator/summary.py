"""Turn a solution into placements (children.csv order) and the run summary."""

import math
from collections import Counter
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from allocator.fairness import NOT_GIVEN, fairness_figures, grouped
from allocator.instance import NEEDS, Instance
from allocator.objective import evaluate
from allocator.placed import PlacedChildren, placed_children
from allocator.solution import Solution
from allocator.stable import stability_summary
from data.arrays import BoolArray
from models.case import SchoolKind
from models.results import Allocation, Placement, RunSummary, UnplacedReason


def _solve_seconds(solution: Solution, seconds: float) -> float:
    """Whole seconds, rounded down, so that repeated runs of the same case write identical files
    (a round of a few thousand children solves in well under a second); for a solve stopped at
    its time limit, the limit itself: every method stops on a deterministic budget derived from
    the limit, not on the clock, so that repeats write identical files, and the limit is what
    such a run was given. The clock's reading is printed by the command in both cases."""
    if solution.stopped_at_limit is not None:
        return float(solution.stopped_at_limit)
    return float(math.floor(seconds))


def build_allocation(
    instance: Instance,
    solution: Solution,
    reasons: dict[int, tuple[UnplacedReason, str]],
    input_sha256: str,
    seconds: float,
) -> Allocation:
    placed = placed_children(instance, solution.chosen_pair)
    placements = _placements(instance, placed, reasons)
    value = evaluate(instance, solution.chosen_pair)
    tiers = instance.tiers()
    placed_by_tier = value.placed_by_tier(tiers)
    children_by_tier = Counter(instance.child_priority.tolist())
    used = np.zeros(instance.school_count, bool)
    used[placed.school[placed.placed]] = True
    opened = [
        school.school_id
        for index, school in enumerate(instance.case.schools)
        if solution.open_sites[index] and school.kind == SchoolKind.CANDIDATE and used[index]
    ]
    placed_count = int(placed.placed.sum())
    summary = RunSummary(
        status=solution.status,
        placed=placed_count,
        unplaced=instance.child_count - placed_count,
        placed_by_priority={str(t): placed_by_tier[t] for t in tiers},
        children_by_priority={str(t): children_by_tier[t] for t in tiers},
        preference_cost=value.preference_cost,
        travel_minutes=value.travel_minutes,
        opened_sites=opened,
        solve_seconds=_solve_seconds(solution, seconds),
        input_sha256=input_sha256,
        solver=solution.solver,
        objective_bound=solution.bounds,
        gap=round(solution.gap, 6),
        placed_by_need=_by_need(instance, placed.placed),
        unplaced_by_need=_by_need(instance, ~placed.placed),
        districts=_districts(instance, placed),
        cost_gbp_year=_costs(instance, placed),
        software=_software(),
        stability=stability_summary(instance, solution),
        fairness=fairness_figures(instance.case, placements),
    )
    return Allocation(placements=placements, summary=summary)


def _placements(
    instance: Instance, placed: PlacedChildren, reasons: dict[int, tuple[UnplacedReason, str]]
) -> tuple[Placement, ...]:
    """allocation.csv's rows: a placed child's school, minutes and rank (empty when not
    ranked); an unplaced child's reason and sentence. Fields left at their defaults are not
    passed (a third less to validate for most children)."""
    school_ids = [school.school_id for school in instance.case.schools]
    placements = []
    rows = zip(
        instance.case.children,
        placed.school.tolist(),
        placed.minutes.tolist(),
        placed.rank.tolist(),
        placed.locked.tolist(),
        strict=True,
    )
    for child, (child_row, school, minutes, rank, locked) in enumerate(rows):
        if school < 0:
            reason, sentence = reasons[child]
            placement = Placement(child_id=child_row.child_id, reason=reason, explanation=sentence)
        elif locked:
            placement = Placement(
                child_id=child_row.child_id,
                school_id=school_ids[school],
                travel_minutes=minutes,
                preference_rank=rank or None,
                locked=True,
            )
        elif rank:
            placement = Placement(
                child_id=child_row.child_id, school_id=school_ids[school], travel_minutes=minutes, preference_rank=rank
            )
        else:
            placement = Placement(child_id=child_row.child_id, school_id=school_ids[school], travel_minutes=minutes)
        placements.append(placement)
    return tuple(placements)


def _by_need(instance: Instance, chosen: BoolArray) -> dict[str, int]:
    counts = np.bincount(instance.child_need[chosen], minlength=len(NEEDS)).tolist()
    return {need.value: counts[code] for code, need in enumerate(NEEDS) if counts[code]}


def _districts(instance: Instance, placed: PlacedChildren) -> dict[str, dict[str, int | float]]:
    """Fairness by district: placed share, travel, independent placements."""
    independent = np.array([school.kind == SchoolKind.INDEPENDENT for school in instance.case.schools], bool)
    names = [child.district or NOT_GIVEN for child in instance.case.children]
    result: dict[str, dict[str, int | float]] = {}
    for district, members in grouped(names):
        schools = placed.school[members]
        schools = schools[schools >= 0]
        minutes = placed.minutes[members][placed.placed[members]]
        result[district] = {
            "children": int(members.size),
            "placed": int(schools.size),
            "unplaced": int(members.size - schools.size),
            "placed_share": round(int(schools.size) / int(members.size), 4),
            "mean_travel_minutes": round(float(np.mean(minutes)), 2) if minutes.size else 0.0,
            "max_travel_minutes": int(minutes.max()) if minutes.size else 0,
            "independent_placements": int(independent[schools].sum()),
        }
    return result


def _costs(instance: Instance, placed: PlacedChildren) -> dict[str, float]:
    cost = [s.annual_place_cost_gbp for s in instance.case.schools]
    schools = placed.school[placed.placed].tolist()
    # summed in children.csv order, as floats are, so the figure never depends on grouping
    known = [c for c in (cost[s] for s in schools) if c is not None]
    places = float(sum(known))
    transport = len(schools) * instance.case.policy.transport_cost_gbp
    return {
        "places": round(places, 2),
        "places_without_cost_data": float(len(schools) - len(known)),
        "transport": round(transport, 2),
        "total": round(places + transport, 2),
    }


def _software() -> dict[str, str]:
    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return {"send-allocator": installed("send-allocator"), "ortools": installed("ortools")}
