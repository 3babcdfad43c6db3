"""One panel round: choose open sites, allocate exactly, explain, summarise.

Which method runs (`solve_instance`):
* no candidate site to choose (or `open_sites = 0`): one min-cost flow (exact);
* at most `enumerate_site_sets_up_to` sets of candidate sites: one flow per set
  (`allocator.site_choice.SiteChoice.site_sets`), and the best set under the contract's order;
  exact, because every set is tried;
* more sets, where places can run out (no pool): a branch and bound over site sets with one
  flow per node (`allocator.site_search`). It solves at most the flows enumeration would (plus
  one per smaller prefix of a set) and, when it proves, returns the same answer (the first best
  set in enumeration order, then its exact flow), so no estimate of a flow's cost on this
  machine decides between them;
* when no school can run out of places (an uncapacitated facility-location problem, such as
  OR-Library's p-median instances), or with a pool, one flow per set when sets x usable pairs
  stay under `enumeration_work_limit`, else HiGHS level by level (`allocator.facility`, no pool);
* only when the branch and bound's exact encoding of the objective would overflow, the same
  as the line above, else the CP-SAT model (`allocator.cpsat`), `optimal` only when every
  objective level was proven.
Every flow is exact whatever its weights (`allocator.flow.assign`: independent parts, staged
levels, preference and travel in turn), so a flow never hands over to CP-SAT, and the greedy
hint and the final flow polish of the CP-SAT path are never skipped.
With a pool of new places (`plan-places`) the same choice is made with the pool network
(`allocator.flow.solve_flow_with_new_places`) or the CP-SAT model with the pool.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from allocator.explain import explain_unplaced
from allocator.flow import FlowAssignment, NewPlaces, assign, solve_flow, solve_flow_with_new_places
from allocator.instance import Instance, build_instance
from allocator.objective import ObjectiveValue, evaluate
from allocator.options import SolveOptions
from allocator.progress import Progress
from allocator.site_choice import SiteChoice, site_choice
from allocator.solution import Solution
from allocator.stable import price_of_stability, stable_solution
from allocator.status import CostsTooLarge
from allocator.summary import build_allocation
from data.arrays import BoolArray, IntArray
from data.loader import LoadedCase
from models.results import Allocation, RunStatus

FLOW_SOLVER = "min_cost_flow"
POOL_FLOW_SOLVER = "min_cost_flow_new_places"
STAGED = "_staged"  # suffix when the weights of one network overflowed (see allocator.flow)


@dataclass(frozen=True)
class Run:
    """A solved round: its instance, the solution written (stable or optimal) and the allocation."""

    instance: Instance
    solution: Solution
    allocation: Allocation


def allocate(
    loaded: LoadedCase,
    options: SolveOptions | None = None,
    progress: Progress | None = None,
    explain: bool = False,
) -> Allocation:
    """Solve a loaded case and return placements (children.csv order) with the summary; with
    `explain`, also every child's row of explanations.csv (`allocator.explanations`)."""
    return solve_round(loaded, options, progress, explain).allocation


def solve_round(
    loaded: LoadedCase, options: SolveOptions | None = None, progress: Progress | None = None, explain: bool = False
) -> Run:
    """`allocate`, keeping the instance and solution. With policy `objective = "stable"`, the
    child-optimal stable allocation over the optimal allocation's open sites, with its
    `price_of_stability` against that optimum (allocator.stable); with a [fairness] rule, the
    fair optimum (allocator.fair_flow). Their explanations carry no `forced` and no
    counterfactuals: those are exact for the contract's objective only."""
    options = options or SolveOptions()
    progress = progress or Progress.silent()
    started = time.perf_counter()
    with progress.stage("checking eligibility"):
        instance = build_instance(loaded.case, loaded.travel)
    with progress.stage("optimising"):
        solution = solve_instance(instance, options)
    if loaded.case.policy.fairness.active:
        with progress.stage("balancing"):
            return _fair_run(instance, solution, options, loaded.input_sha256, started, explain)
    if loaded.case.policy.objective != "stable":
        with progress.stage("explaining" if explain else "summarising"):
            return Run(instance, solution, summarise(instance, solution, loaded.input_sha256, started, explain))
    with progress.stage("deferred acceptance"):
        stable = stable_solution(instance, solution, loaded.input_sha256)
    allocation = summarise(instance, stable, loaded.input_sha256, started, explain, exact=False)
    summary = allocation.summary.model_copy(
        update={"objective": "stable", "price_of_stability": price_of_stability(instance, solution, stable)}
    )
    return Run(instance, stable, allocation.model_copy(update={"summary": summary}))


def _fair_run(
    instance: Instance, plain: Solution, options: SolveOptions, input_sha256: str, started: float, explain: bool
) -> Run:
    """policy.toml [fairness] (`allocator.fair_flow`), priced against the plain optimum `plain`."""
    from allocator.fair_flow import FAIR_SOLVER, priced, solve_fair

    plain_allocation = summarise(instance, plain, input_sha256, started)
    minutes = [p.travel_minutes or 0 for p in plain_allocation.placements if p.placed]
    choice = site_choice(instance)
    enumerable = not options.force_cp_sat and _worth_enumerating(instance, choice, options)
    result, fair = solve_fair(instance, instance.case.policy.fairness, minutes, choice, enumerable)
    solution = Solution(result.chosen_pair, result.open_sites, RunStatus.OPTIMAL, FAIR_SOLVER)
    summarised = summarise(instance, solution, input_sha256, started, explain, exact=False)
    return Run(instance, solution, priced(summarised, plain_allocation, fair, result))


def summarise(
    instance: Instance,
    solution: Solution,
    input_sha256: str,
    started: float,
    explain: bool = False,
    exact: bool = True,
) -> Allocation:
    """Explain the unplaced children (and, with `explain`, every child: with `exact`, with
    `forced` and the counterfactuals) and build the allocation with its summary."""
    reasons = explain_unplaced(instance, solution.chosen_pair, solution.open_sites)
    allocation = build_allocation(instance, solution, reasons, input_sha256, time.perf_counter() - started)
    if not explain:
        return allocation
    # scipy's sparse graphs load in a few tenths of a second: imported only when explaining,
    # as CP-SAT is, so the command's and the workers' start-up stay as they were.
    from allocator.explanations import explain_children

    return allocation.model_copy(update={"explanations": explain_children(instance, solution, reasons, exact)})


def solve_instance(instance: Instance, options: SolveOptions, pool: NewPlaces | None = None) -> Solution:
    """The optimal allocation (and, with `pool`, the new places it uses; see the module docstring)."""
    choice = site_choice(instance)
    few_sets = choice.set_count <= options.enumerate_site_sets_up_to
    searched = not options.force_cp_sat and pool is None and not few_sets and _capacitated(instance)
    if searched:
        # Many sets, places that can run out: the branch and bound solves a subset of the flows
        # enumeration would (never more than one per set and per smaller prefix) and returns the
        # same canonical answer (the first best set in enumeration order, its exact flow), so no
        # work estimate decides between them.
        from allocator.site_search import branch_and_bound

        try:
            return branch_and_bound(instance, choice, options.time_limit)
        except CostsTooLarge:  # its one-integer encoding overflows: as before it existed
            pass
    if not options.force_cp_sat and _worth_enumerating(instance, choice, options):
        return best_over_site_sets(instance, choice, pool)
    # CP-SAT and HiGHS load in about 0.5 s, so they are imported only on the paths that use them.
    from allocator.facility import is_uncapacitated, solve_facility_location

    if pool is None and not options.force_cp_sat and is_uncapacitated(instance):
        return solve_facility_location(instance, choice, options)
    if pool is None and not options.force_cp_sat and not searched:
        from allocator.site_search import branch_and_bound

        try:
            return branch_and_bound(instance, choice, options.time_limit)
        except CostsTooLarge:
            pass
    return _cp_sat(instance, choice, options, pool)


def _capacitated(instance: Instance) -> bool:
    from allocator.facility import is_uncapacitated

    return not is_uncapacitated(instance)


def _worth_enumerating(instance: Instance, choice: SiteChoice, options: SolveOptions) -> bool:
    """Few site sets, or few enough that one flow per set stays quick (the work estimate, sets x
    usable pairs, is only computed when the count alone does not decide)."""
    site_sets = choice.set_count
    if site_sets <= options.enumerate_site_sets_up_to:
        return True
    everything = np.ones(instance.school_count, bool)
    return site_sets * instance.usable_pairs(everything).size <= options.enumeration_work_limit


def best_over_site_sets(instance: Instance, choice: SiteChoice, pool: NewPlaces | None = None) -> Solution:
    """One flow per set of sites; the best under the contract's order (then, with a pool, the
    fewest new places; then the first set in enumeration order)."""
    solve_one: Callable[[BoolArray], FlowAssignment]
    if pool is None:
        solve_one, solver = (lambda sites: assign(instance, sites)), FLOW_SOLVER
    else:
        solve_one, solver = (lambda sites: solve_flow_with_new_places(instance, sites, pool)), POOL_FLOW_SOLVER
    best: tuple[tuple[ObjectiveValue, int], FlowAssignment, BoolArray] | None = None
    for open_sites in choice.site_sets():
        result = solve_one(open_sites)
        key = (evaluate(instance, result.chosen_pair), int(result.new_places.sum()))
        if best is None or key < best[0]:
            best = (key, result, open_sites)
    assert best is not None  # site_sets yields at least one set (possibly the empty choice)
    _, found, open_sites = best
    return Solution(found.chosen_pair, open_sites, RunStatus.OPTIMAL, solver + (STAGED if found.staged else ""))


def _cp_sat(instance: Instance, choice: SiteChoice, options: SolveOptions, pool: NewPlaces | None) -> Solution:
    from allocator.cpsat import solve_cp_sat

    hint = _greedy_hint(instance, choice, pool)
    result = solve_cp_sat(instance, choice, options, hint, pool)
    found = bool(result.bounds)  # a level's value or bound is recorded exactly when one was found
    if pool is not None or not found:
        return result
    # The flow is exact and deterministic for the sites CP-SAT opened: use its assignment,
    # so that ties among equally good assignments are broken the same way on every run.
    chosen = result.chosen_pair
    used = np.zeros(instance.school_count, bool)
    used[instance.pair_school[chosen[chosen >= 0]]] = True
    open_sites = choice.forced | (used & instance.is_candidate)
    polished = solve_flow(instance, open_sites)
    if evaluate(instance, polished) <= evaluate(instance, chosen):
        chosen = polished
    return replace(result, chosen_pair=chosen, open_sites=open_sites)


def _greedy_hint(instance: Instance, choice: SiteChoice, pool: NewPlaces | None) -> IntArray:
    """A starting solution: open the candidate sites with the most usable pairs, then one flow."""
    if choice.to_open == 0:
        open_sites = choice.forced
    else:
        everything = np.ones(instance.school_count, bool)
        counts = np.bincount(instance.pair_school[instance.usable_pairs(everything)], minlength=instance.school_count)
        ranked = choice.choosable[np.lexsort((choice.choosable, -counts[choice.choosable]))]
        open_sites = choice.with_open(ranked[: choice.to_open])
    if pool is None:
        return solve_flow(instance, open_sites)
    return solve_flow_with_new_places(instance, open_sites, pool).chosen_pair
