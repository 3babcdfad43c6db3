"""Where new places go: distribute at most N new places over expansions.csv, jointly optimal.

`plan_places` tries every allowed set of candidate sites (as `allocator.solve` does) and, for
each, solves one min-cost flow with a pool of N new places (`allocator.estates.network`), so the
plan and the allocation are optimal together under the contract's strict order; among optimal
answers it uses the fewest new places. When there are too many sets of sites to try, the sites
of the run without new places are kept and the status is `feasible`.
"""

import time
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

from allocator.estates.network import GrowableInstance, PoolFlow, grow_case, growable_instance, solve_with_new_places
from allocator.explain import explain_unplaced
from allocator.instance import NEEDS, Instance, build_instance
from allocator.objective import ObjectiveValue, evaluate
from allocator.options import SolveOptions
from allocator.solution import Solution
from allocator.solve import solve_instance
from allocator.summary import build_allocation
from data.arrays import BoolArray, IntArray
from data.expansions import Expansion
from data.loader import LoadedCase
from models.need import Need
from models.results import Allocation, RunStatus


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
    site_sets, enumerated = _site_sets(grown, options)
    best: tuple[ObjectiveValue, int, PoolFlow, BoolArray] | None = None
    for open_sites in site_sets:
        result = solve_with_new_places(grown, open_sites, budget)
        value = evaluate(grown.with_places(result.new_places), result.chosen_pair)
        key = (value, int(result.new_places.sum()))
        if best is None or key < (best[0], best[1]):
            best = (value, key[1], result, open_sites)
    assert best is not None
    _, _, result, open_sites = best
    plan = _plan_rows(grown, result.new_places, expansions)
    allocation = _allocation_with_plan(loaded, plan, grown, result, open_sites, enumerated, started)
    return PlacePlan(plan, allocation, budget)


def _site_sets(grown: GrowableInstance, options: SolveOptions) -> tuple[list[BoolArray], bool]:
    """Every set of candidate sites the run may open (largest allowed size), or the baseline's."""
    instance = grown.instance
    forced = np.zeros(instance.school_count, bool)
    forced[instance.locked_school[instance.locked_school >= 0]] = True
    forced &= instance.is_candidate
    has_places = np.zeros(instance.school_count, bool)
    has_places[instance.bucket_school[(grown.base_free + grown.max_extra) > 0]] = True
    choosable = np.flatnonzero(instance.is_candidate & has_places & ~forced)
    to_open = max(0, min(instance.case.policy.open_sites - int(forced.sum()), choosable.size))
    if comb(choosable.size, to_open) <= options.enumerate_site_sets_up_to:
        sets = []
        for chosen in combinations(choosable.tolist(), to_open):
            open_sites = forced.copy()
            open_sites[list(chosen)] = True
            sets.append(open_sites)
        return sets, True
    baseline = solve_instance(grown.with_places(np.zeros_like(grown.max_extra)), options)
    return [baseline.open_sites], False


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
    result: PoolFlow,
    open_sites: BoolArray,
    enumerated: bool,
    started: float,
) -> Allocation:
    """Re-index the chosen pairs on the case with the plan applied, and summarise it there."""
    planned_case = grow_case(loaded.case, {(p.school_id, p.need): p.extra_places for p in plan})
    final = build_instance(planned_case, loaded.travel)
    chosen = _reindex(grown.instance, final, result.chosen_pair)
    assert evaluate(final, chosen) == evaluate(grown.with_places(result.new_places), result.chosen_pair)
    status = RunStatus.OPTIMAL if enumerated else RunStatus.FEASIBLE
    solution = Solution(chosen, open_sites, status, "min_cost_flow_new_places")
    reasons = explain_unplaced(final, chosen, open_sites)
    return build_allocation(final, solution, reasons, loaded.input_sha256, time.perf_counter() - started)


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
