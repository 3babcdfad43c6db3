"""Turn a solution into placements (children.csv order) and the run summary."""

import math
from collections import Counter, defaultdict
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from allocator.fairness import NOT_GIVEN, fairness_figures
from allocator.instance import NEEDS, Instance
from allocator.objective import evaluate
from allocator.solution import Solution
from allocator.stable import stability_summary
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
    placements = tuple(_placement(instance, solution, reasons, child) for child in range(instance.child_count))
    value = evaluate(instance, solution.chosen_pair)
    tiers = instance.tiers()
    placed_by_tier = value.placed_by_tier(tiers)
    children_by_tier = Counter(int(p) for p in instance.child_priority)
    used_schools = {p.school_id for p in placements if p.school_id is not None}
    opened = [
        school.school_id
        for index, school in enumerate(instance.case.schools)
        if solution.open_sites[index] and school.kind == SchoolKind.CANDIDATE and school.school_id in used_schools
    ]
    summary = RunSummary(
        status=solution.status,
        placed=sum(1 for p in placements if p.placed),
        unplaced=sum(1 for p in placements if not p.placed),
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
        placed_by_need=_by_need(instance, placements, placed=True),
        unplaced_by_need=_by_need(instance, placements, placed=False),
        districts=_districts(instance, placements),
        cost_gbp_year=_costs(instance, placements),
        software=_software(),
        stability=stability_summary(instance, solution),
        fairness=fairness_figures(instance.case, placements),
    )
    return Allocation(placements=placements, summary=summary)


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


def _by_need(instance: Instance, placements: tuple[Placement, ...], placed: bool) -> dict[str, int]:
    counts = Counter(NEEDS[int(instance.child_need[i])].value for i, p in enumerate(placements) if p.placed == placed)
    return {need.value: counts[need.value] for need in NEEDS if counts[need.value]}


def _districts(instance: Instance, placements: tuple[Placement, ...]) -> dict[str, dict[str, int | float]]:
    """Fairness by district: placed share, travel, independent placements."""
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


def _software() -> dict[str, str]:
    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return {"send-allocator": installed("send-allocator"), "ortools": installed("ortools")}
