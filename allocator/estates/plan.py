"""Where new places go: distribute at most N new places over expansions.csv, jointly optimal.

`plan_places` solves the case grown by every listed place (`allocator.estates.network`) with a
pool of N new places, choosing candidate sites exactly as `allocator solve` does
(`allocator.solve.solve_instance`): one min-cost flow per set of sites when the sets are few,
else the CP-SAT model with the same pool. The plan and the allocation are optimal together under
the contract's strict order; among optimal answers it uses the fewest new places. `optimal` only
when proven; at a time limit `feasible`, with the bound and gap.
"""

import time
from dataclasses import dataclass, replace

import numpy as np

from allocator.estates.network import GrowableInstance, grow_case, growable_instance
from allocator.flow import new_places_used
from allocator.instance import NEEDS, Instance, build_instance
from allocator.objective import evaluate
from allocator.options import SolveOptions
from allocator.solution import Solution
from allocator.solve import solve_instance, summarise
from data.arrays import IntArray
from data.expansions import Expansion
from data.loader import LoadedCase
from models.need import Need
from models.results import Allocation


@dataclass(frozen=True)
class PlannedPlaces:
    school_id: str
    need: Need
    extra_places: int


@dataclass(frozen=True)
class PlacePlan:
    """The plan (only pairs given at least one new place, in expansions.csv order) and the
    allocation of the case with the plan applied."""

    plan: tuple[PlannedPlaces, ...]
    allocation: Allocation
    budget: int


def plan_places(
    loaded: LoadedCase, expansions: tuple[Expansion, ...], budget: int, options: SolveOptions | None = None
) -> PlacePlan:
    options = options or SolveOptions()
    started = time.perf_counter()
    extra = {(e.school_id, e.need): e.max_extra for e in expansions}
    grown = growable_instance(loaded.case, loaded.travel, extra)
    pool = grown.pool(budget)
    solution = solve_instance(grown.instance, options, pool)
    new_places = new_places_used(grown.instance, solution.chosen_pair, pool)
    plan = _plan_rows(grown, new_places, expansions)
    allocation = _allocation_with_plan(loaded, plan, grown, solution, new_places, started)
    return PlacePlan(plan, allocation, budget)


def _plan_rows(
    grown: GrowableInstance, new_places: IntArray, expansions: tuple[Expansion, ...]
) -> tuple[PlannedPlaces, ...]:
    instance = grown.instance
    school_ids = [school.school_id for school in instance.case.schools]
    added = {
        (school_ids[int(instance.bucket_school[b])], NEEDS[int(instance.bucket_need[b])]): int(new_places[b])
        for b in np.flatnonzero(new_places > 0)
    }
    return tuple(
        PlannedPlaces(e.school_id, e.need, added[(e.school_id, e.need)])
        for e in expansions
        if (e.school_id, e.need) in added
    )


def _allocation_with_plan(
    loaded: LoadedCase,
    plan: tuple[PlannedPlaces, ...],
    grown: GrowableInstance,
    solution: Solution,
    new_places: IntArray,
    started: float,
) -> Allocation:
    """Re-index the chosen pairs on the case with the plan applied, and summarise it there."""
    planned_case = grow_case(loaded.case, {(p.school_id, p.need): p.extra_places for p in plan})
    final = build_instance(planned_case, loaded.travel)
    chosen = _reindex(grown.instance, final, solution.chosen_pair)
    assert evaluate(final, chosen) == evaluate(grown.with_places(new_places), solution.chosen_pair)
    return summarise(final, replace(solution, chosen_pair=chosen), loaded.input_sha256, started)


def _reindex(source: Instance, target: Instance, chosen_pair: IntArray) -> IntArray:
    """The same placements as pair indices of `target` (same children and schools)."""
    key_of = {
        (int(c), int(target.bucket_school[b]), int(target.bucket_need[b])): p
        for p, (c, b) in enumerate(zip(target.pair_child, target.pair_bucket, strict=True))
    }
    chosen = np.full(target.child_count, -1, np.int64)
    for child in np.flatnonzero(chosen_pair >= 0):
        bucket = int(source.pair_bucket[chosen_pair[child]])
        chosen[child] = key_of[(int(child), int(source.bucket_school[bucket]), int(source.bucket_need[bucket]))]
    return chosen
