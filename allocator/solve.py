"""One panel round: choose open sites, allocate exactly, explain, summarise.

Which method runs:
* no candidate site to choose (or `open_sites = 0`): one min-cost flow (exact);
* few sets of candidate sites (at most `enumerate_site_sets_up_to`): one flow per set, and
  the best set under the contract's order; exact, because every set is tried. Opening a
  site only adds options, so only sets of the largest allowed size are tried;
* when no school can run out of places (an uncapacitated facility-location problem, such as
  OR-Library's p-median instances): HiGHS level by level (`allocator.facility`);
* otherwise, or when the flow weights would overflow: the CP-SAT model (`allocator.cpsat`),
  `optimal` only when every objective level was proven.
"""

import time
from itertools import combinations
from math import comb

import numpy as np

from allocator.explain import explain_unplaced
from allocator.flow import CostsTooLarge, solve_flow
from allocator.instance import Instance, build_instance
from allocator.objective import ObjectiveValue, evaluate
from allocator.options import SolveOptions
from allocator.progress import Progress
from allocator.solution import Solution
from allocator.summary import build_allocation
from data.arrays import BoolArray, IntArray
from data.loader import LoadedCase
from models.results import Allocation, RunStatus


def allocate(loaded: LoadedCase, options: SolveOptions | None = None, progress: Progress | None = None) -> Allocation:
    """Solve a loaded case and return placements (children.csv order) with the summary."""
    options = options or SolveOptions()
    progress = progress or Progress.silent()
    started = time.perf_counter()
    with progress.stage("checking eligibility"):
        instance = build_instance(loaded.case, loaded.travel)
    with progress.stage("optimising"):
        solution = solve_instance(instance, options)
    with progress.stage("explaining"):
        reasons = explain_unplaced(instance, solution.chosen_pair, solution.open_sites)
    seconds = time.perf_counter() - started
    return build_allocation(instance, solution, reasons, loaded.input_sha256, seconds)


def solve_instance(instance: Instance, options: SolveOptions) -> Solution:
    forced = np.zeros(instance.school_count, bool)
    forced[instance.locked_school[instance.locked_school >= 0]] = True
    forced &= instance.is_candidate
    has_places = np.zeros(instance.school_count, bool)
    has_places[instance.bucket_school] = True
    choosable = np.flatnonzero(instance.is_candidate & has_places & ~forced)
    open_limit = instance.case.policy.open_sites
    to_open = max(0, min(open_limit - int(forced.sum()), choosable.size))
    if not options.force_cp_sat and _worth_enumerating(instance, comb(choosable.size, to_open), options):
        try:
            return _enumerate_sites(instance, forced, choosable, to_open)
        except CostsTooLarge:
            pass
    # CP-SAT and HiGHS load in about 0.5 s, so they are imported only on the paths that use them.
    from allocator.facility import is_uncapacitated

    if not options.force_cp_sat and is_uncapacitated(instance):
        try:
            return _facility_location(instance, open_limit, forced, options)
        except CostsTooLarge:
            pass
    return _cp_sat(instance, open_limit, forced, choosable, to_open, options)


def _worth_enumerating(instance: Instance, site_sets: int, options: SolveOptions) -> bool:
    """Few site sets, or few enough that one flow per set stays quick (the work estimate, sets x
    usable pairs, is only computed when the count alone does not decide)."""
    if site_sets <= options.enumerate_site_sets_up_to:
        return True
    everything = np.ones(instance.school_count, bool)
    return site_sets * instance.usable_pairs(everything).size <= options.enumeration_work_limit


def _facility_location(instance: Instance, open_limit: int, forced: BoolArray, options: SolveOptions) -> Solution:
    """No school can run out of places: site choice is an uncapacitated facility-location
    (p-median-like) problem, solved level by level with HiGHS (allocator.facility)."""
    from allocator.facility import solve_facility_location

    result = solve_facility_location(instance, open_limit, forced, options)
    status = RunStatus.OPTIMAL if result.proven else RunStatus.FEASIBLE
    return Solution(result.chosen_pair, result.open_sites, status, "highs_facility_location", result.bounds)


def _enumerate_sites(instance: Instance, forced: BoolArray, choosable: IntArray, to_open: int) -> Solution:
    best: tuple[ObjectiveValue, IntArray, BoolArray] | None = None
    for chosen_sites in combinations(choosable.tolist(), to_open):
        open_sites = forced.copy()
        open_sites[list(chosen_sites)] = True
        chosen = solve_flow(instance, open_sites)
        value = evaluate(instance, chosen)
        if best is None or value < best[0]:
            best = (value, chosen, open_sites)
    assert best is not None
    return Solution(best[1], best[2], RunStatus.OPTIMAL, "min_cost_flow")


def _cp_sat(
    instance: Instance,
    open_limit: int,
    forced: BoolArray,
    choosable: IntArray,
    to_open: int,
    options: SolveOptions,
) -> Solution:
    from allocator.cpsat import solve_cp_sat

    hint = _greedy_hint(instance, forced, choosable, to_open)
    result = solve_cp_sat(instance, open_limit, forced, options, hint)
    chosen, open_sites = result.chosen_pair, result.open_sites
    if result.found:
        # The flow is exact and deterministic for the sites CP-SAT opened: use its assignment,
        # so that ties among equally good assignments are broken the same way on every run.
        used = np.zeros(instance.school_count, bool)
        used[instance.pair_school[chosen[chosen >= 0]]] = True
        open_sites = forced | (used & instance.is_candidate)
        try:
            polished = solve_flow(instance, open_sites)
            if evaluate(instance, polished) <= evaluate(instance, chosen):
                chosen = polished
        except CostsTooLarge:
            pass
    # With nothing found in time, the allocation written (locked children only) is still a
    # valid one: `feasible`, with the whole gap open, never `infeasible`.
    status = RunStatus.OPTIMAL if result.proven and result.found else RunStatus.FEASIBLE
    gap = result.gap if result.found else 1.0
    return Solution(chosen, open_sites, status, "cp_sat", result.bounds, gap)


def _greedy_hint(instance: Instance, forced: BoolArray, choosable: IntArray, to_open: int) -> IntArray | None:
    """A starting solution: open the candidate sites with the most usable pairs, then one flow."""
    if to_open == 0 and not forced.any():
        open_sites = forced
    else:
        everything = np.ones(instance.school_count, bool)
        counts = np.bincount(instance.pair_school[instance.usable_pairs(everything)], minlength=instance.school_count)
        best = choosable[np.lexsort((choosable, -counts[choosable]))][:to_open]
        open_sites = forced.copy()
        open_sites[best] = True
    try:
        return solve_flow(instance, open_sites)
    except CostsTooLarge:
        return None
