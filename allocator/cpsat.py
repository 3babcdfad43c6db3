"""The allocation with site choice as a CP-SAT model, solved one objective level at a time.

Variables: place[p] in {0,1} for every pair p passing rules 1-3; open[s] in {0,1} for every
candidate site s.
Constraints:
    sum_{p of child c} place[p] <= 1                      each child at most one place
    sum_{p in bucket b} place[p] <= free[b]               places left after locks
    place[p] <= open[s(p)]                                rule 4: candidate sites only if opened
    sum_s open[s] <= open_sites;  open[s] = 1 for sites with locked children
Objective levels, each solved to optimality and then fixed as a constraint:
    for each tier t, highest first: maximise sum_{p: tier(c(p)) = t} place[p]
    minimise sum_p cost[p] * place[p]
    minimise sum_p minutes[p] * place[p]
If a level stops at the time limit, the best solution found is kept, the run is `feasible`
and that level's bound and relative gap are reported (gap 1.0 when the level found nothing in
time); later levels are then not attempted.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from allocator.instance import Instance
from allocator.options import SolveOptions
from data.arrays import BoolArray, IntArray

MIN_LEVEL_SECONDS = 0.2


@dataclass
class CpSatResult:
    chosen_pair: IntArray
    open_sites: BoolArray
    proven: bool
    found: bool
    bounds: dict[str, float] = field(default_factory=dict)
    gap: float = 0.0


def solve_cp_sat(
    instance: Instance,
    open_limit: int,
    forced_open: BoolArray,
    options: SolveOptions,
    hint: IntArray | None = None,
) -> CpSatResult:
    """Solve levels in order within options.time_limit (seconds, for all levels together)."""
    everything_open = np.ones(instance.school_count, bool)
    pairs = instance.usable_pairs(everything_open)
    model = cp_model.CpModel()
    place = [model.new_bool_var(f"place_{int(p)}") for p in pairs]
    candidates = np.flatnonzero(instance.is_candidate)
    site_open = {int(s): model.new_bool_var(f"open_{int(s)}") for s in candidates}

    by_child: dict[int, list[cp_model.IntVar]] = {}
    by_bucket: dict[int, list[cp_model.IntVar]] = {}
    for var, p in zip(place, pairs, strict=True):
        by_child.setdefault(int(instance.pair_child[p]), []).append(var)
        by_bucket.setdefault(int(instance.pair_bucket[p]), []).append(var)
        school = int(instance.pair_school[p])
        if school in site_open:
            model.add_implication(var, site_open[school])
    for group in by_child.values():
        model.add_at_most_one(group)
    for bucket, group in by_bucket.items():
        model.add(sum(group) <= int(instance.bucket_free[bucket]))
    if site_open:
        model.add(sum(site_open.values()) <= max(open_limit, int(forced_open.sum())))
        for school, var in site_open.items():
            if forced_open[school]:
                model.add(var == 1)

    levels = _levels(instance, pairs, place)
    if hint is not None:
        for var, p in zip(place, pairs, strict=True):
            model.add_hint(var, 1 if hint[instance.pair_child[p]] == p else 0)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    deadline = time.monotonic() + options.time_limit
    result = CpSatResult(np.full(instance.child_count, -1, np.int64), forced_open.copy(), proven=True, found=False)
    for name, expression, maximise, offset in levels:
        # A level reached after the deadline still gets a moment, so that its bound and gap
        # can be reported instead of left unknown.
        solver.parameters.max_time_in_seconds = max(deadline - time.monotonic(), MIN_LEVEL_SECONDS)
        if maximise:
            model.maximize(expression)
        else:
            model.minimize(expression)
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            result.proven = False
            result.gap = 1.0  # nothing is known of this level within the time
            break
        result.found = True
        value = int(round(solver.objective_value))
        result.chosen_pair = _extract(instance, pairs, place, solver)
        result.open_sites = forced_open.copy()
        for school, var in site_open.items():
            result.open_sites[school] = bool(solver.value(var))
        if status != cp_model.OPTIMAL:
            result.proven = False
            bound = float(solver.best_objective_bound) + offset
            result.bounds[name] = bound
            result.gap = abs(bound - (value + offset)) / max(abs(value + offset), 1)
            break
        result.bounds[name] = float(value + offset)
        model.clear_hints()
        for var in place:
            model.add_hint(var, solver.value(var))
        model.add(expression == value)
    return result


def _levels(
    instance: Instance, pairs: IntArray, place: list[cp_model.IntVar]
) -> list[tuple[str, cp_model.LinearExprT, bool, int]]:
    """(name, expression, maximise?, constant from locked children) per objective level."""
    levels: list[tuple[str, cp_model.LinearExprT, bool, int]] = []
    locked = instance.locked_school >= 0
    tiers_of_pairs = instance.child_priority[instance.pair_child[pairs]]
    for tier in instance.tiers():
        members = [var for var, t in zip(place, tiers_of_pairs, strict=True) if t == tier]
        locked_here = int((locked & (instance.child_priority == tier)).sum())
        levels.append((f"placed_priority_{tier}", cp_model.LinearExpr.sum(members), True, locked_here))
    locked_rank = instance.locked_rank[locked]
    locked_cost = int(np.where(locked_rank > 0, locked_rank, instance.case.policy.unranked_cost).sum())
    costs = instance.pair_cost[pairs].tolist()
    minutes = instance.pair_minutes[pairs].tolist()
    levels.append(("preference_cost", cp_model.LinearExpr.weighted_sum(place, costs), False, locked_cost))
    levels.append(
        (
            "travel_minutes",
            cp_model.LinearExpr.weighted_sum(place, minutes),
            False,
            int(instance.locked_minutes[locked].sum()),
        )
    )
    return levels


def _extract(instance: Instance, pairs: IntArray, place: list[cp_model.IntVar], solver: cp_model.CpSolver) -> IntArray:
    chosen = np.full(instance.child_count, -1, np.int64)
    for var, p in zip(place, pairs, strict=True):
        if solver.boolean_value(var):
            chosen[instance.pair_child[p]] = p
    return chosen
