"""The allocation with site choice as a CP-SAT model, solved one objective level at a time.

Variables: place[p] in {0,1} for every pair p passing rules 1-3; open[s] in {0,1} for every
candidate site s; with a pool of new places, extra[b] in [0, max_extra[b]] per bucket.
Constraints:
    sum_{p of child c} place[p] <= 1                      each child at most one place
    sum_{p in bucket b} place[p] <= free[b] (+ extra[b])  places left after locks (and new ones)
    sum_b extra[b] <= N                                   the budget of new places
    place[p] <= open[s(p)]                                rule 4: candidate sites only if opened
    sum_s open[s] <= open_sites;  open[s] = 1 for sites with locked children
Objective levels (`allocator.objective.levels`), each solved to optimality and then fixed as a
constraint; with a pool, a last level uses the fewest new places (a tie-break only).
If a level stops at the time limit, the best solution found is kept, the run is `feasible`
and that level's bound (clipped to what is possible) and relative gap (in [0, 1]) are
reported (gap 1.0 when the level found nothing in time); later levels are then not attempted.
Statuses are mapped by `allocator.status`.

Time limit and determinism: the limit is a budget of CP-SAT's *deterministic* time
(`max_deterministic_time`, a count of work the solver measures, not the clock), shared by the
levels (each level's `deterministic_time` used is subtracted), with a fixed `random_seed`, ONE
worker and `linearization_level = 2` (the full LP relaxation of these assignment constraints).
One worker is what makes a stopped run repeatable: with a portfolio of parallel workers, what
is found and proven within the same deterministic budget depends on how the threads were
scheduled (measured: one run in three on a seeded 1,000-child case proved a level the others
did not), and CP-SAT's `interleave_search`, the deterministic portfolio, was 2-4 times slower to
the same point here. Measured on the 2-core machine, the single worker with the LP relaxation
is not weaker on these models: Lancashire forced onto CP-SAT with a 30 s limit is proven optimal
in 16.6 s (eight workers: 14.9-18.8 s; one worker without the relaxation: feasible, gap 0.23), a
seeded 1,000-child case with 15 site sets in 1.5-2.7 s (eight workers: 3.1-5.2 s).
`DETERMINISTIC_PER_SECOND` converts the wall-clock limit into that budget; it was calibrated on
the 2-core development machine (a budget of 10 units took 24-33 s there on the 3,000-child site
case, model building included, with other work running: 0.4 units a second). The clock limit is
kept only as a safety stop at `WALL_SAFETY` times the limit plus `WALL_SLACK` seconds (a run
that reaches it is no longer repeatable; none does in the tests or benchmarks).
"""

import time

import numpy as np
from ortools.sat.python import cp_model

from allocator.flow import NewPlaces
from allocator.instance import Instance
from allocator.objective import ObjectiveLevel, levels
from allocator.options import SolveOptions
from allocator.site_choice import SiteChoice
from allocator.solution import Solution
from allocator.status import LevelEnd, cp_sat_level_end
from data.arrays import IntArray
from models.results import RunStatus

MIN_LEVEL_SECONDS = 0.2
DETERMINISTIC_PER_SECOND = 0.4
WALL_SAFETY = 4.0
WALL_SLACK = 60.0  # seconds added to the safety stop, so that a loaded machine does not reach it
SOLVER = "cp_sat"
LINEARIZATION_LEVEL = 2


class _Model:
    """The variables and constraints above, built once; levels are added one at a time."""

    def __init__(self, instance: Instance, choice: SiteChoice, pool: NewPlaces | None) -> None:
        self.instance = instance
        self.pairs = instance.usable_pairs(np.ones(instance.school_count, bool))
        self.model = cp_model.CpModel()
        model = self.model
        self.place = [model.new_bool_var(f"place_{int(p)}") for p in self.pairs]
        self.site_open = {int(s): model.new_bool_var(f"open_{int(s)}") for s in np.flatnonzero(instance.is_candidate)}
        self.extra: list[cp_model.IntVar] = []
        by_child: dict[int, list[cp_model.IntVar]] = {}
        by_bucket: dict[int, list[cp_model.IntVar]] = {}
        for var, p in zip(self.place, self.pairs, strict=True):
            by_child.setdefault(int(instance.pair_child[p]), []).append(var)
            by_bucket.setdefault(int(instance.pair_bucket[p]), []).append(var)
            school = int(instance.pair_school[p])
            if school in self.site_open:
                model.add_implication(var, self.site_open[school])
        for group in by_child.values():
            model.add_at_most_one(group)
        if pool is None:
            for bucket, group in by_bucket.items():
                model.add(sum(group) <= int(instance.bucket_free[bucket]))
        else:
            self.extra = [model.new_int_var(0, int(cap), f"extra_{b}") for b, cap in enumerate(pool.max_extra)]
            for bucket, group in by_bucket.items():
                model.add(sum(group) <= int(pool.base_free[bucket]) + self.extra[bucket])
            model.add(sum(self.extra) <= max(pool.budget, 0))
        if self.site_open:
            model.add(sum(self.site_open.values()) <= max(choice.open_limit, int(choice.forced.sum())))
            for school, var in self.site_open.items():
                if choice.forced[school]:
                    model.add(var == 1)

    def expression(self, level: ObjectiveLevel) -> cp_model.LinearExprT:
        weights = level.weights(self.instance, self.pairs)
        used = np.flatnonzero(weights)
        return cp_model.LinearExpr.weighted_sum([self.place[i] for i in used], weights[used].tolist())

    def hint(self, chosen_pair: IntArray) -> None:
        for var, p in zip(self.place, self.pairs, strict=True):
            self.model.add_hint(var, 1 if chosen_pair[self.instance.pair_child[p]] == p else 0)

    def extract(self, solver: cp_model.CpSolver, choice: SiteChoice) -> tuple[IntArray, np.ndarray]:
        chosen = np.full(self.instance.child_count, -1, np.int64)
        for var, p in zip(self.place, self.pairs, strict=True):
            if solver.boolean_value(var):
                chosen[self.instance.pair_child[p]] = p
        open_sites = choice.forced.copy()
        for school, var in self.site_open.items():
            open_sites[school] = bool(solver.value(var))
        return chosen, open_sites


def solve_cp_sat(
    instance: Instance,
    choice: SiteChoice,
    options: SolveOptions,
    hint: IntArray | None = None,
    pool: NewPlaces | None = None,
) -> Solution:
    """Solve levels in order within options.time_limit (seconds, for all levels together)."""
    built = _Model(instance, choice, pool)
    model = built.model
    if hint is not None:
        built.hint(hint)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.linearization_level = LINEARIZATION_LEVEL
    budget = options.time_limit * DETERMINISTIC_PER_SECOND
    deadline = time.monotonic() + options.time_limit * WALL_SAFETY + WALL_SLACK
    chosen, open_sites = np.full(instance.child_count, -1, np.int64), choice.forced.copy()
    found, proven, gap = False, True, 0.0
    bounds: dict[str, float] = {}
    for level in levels(instance):
        _limit(solver, budget, deadline)
        expression = built.expression(level)
        if level.maximise:
            model.maximize(expression)
        else:
            model.minimize(expression)
        end = cp_sat_level_end(solver.solve(model))
        budget -= solver.deterministic_time
        if end is LevelEnd.NOTHING:
            proven, gap = False, 1.0  # nothing is known of this level within the time
            break
        found = True
        value = int(round(solver.objective_value)) + level.locked
        chosen, open_sites = built.extract(solver, choice)
        if end is LevelEnd.FOUND:
            proven = False
            bound = level.clip(instance, float(solver.best_objective_bound) + level.locked)
            bounds[level.name] = bound
            gap = level.gap(bound, value)
            break
        bounds[level.name] = float(value)
        model.clear_hints()
        for var in built.place:
            model.add_hint(var, solver.value(var))
        model.add(expression == value - level.locked)
    if pool is not None and proven and found:
        # Tie-break only: the fewest new places among contract-optimal answers; if it stops at
        # the limit, the last proven solution stands (it is optimal for the contract).
        _limit(solver, budget, deadline)
        model.minimize(sum(built.extra))
        if cp_sat_level_end(solver.solve(model)) is not LevelEnd.NOTHING:
            chosen, open_sites = built.extract(solver, choice)
    # With nothing found in time, the allocation written (locked children only) is still a
    # valid one: `feasible`, with the whole gap open, never `infeasible`.
    status = RunStatus.OPTIMAL if proven and found else RunStatus.FEASIBLE
    stopped = None if status is RunStatus.OPTIMAL else options.time_limit
    return Solution(chosen, open_sites, status, SOLVER, bounds, gap if found else 1.0, stopped)


def _limit(solver: cp_model.CpSolver, budget: float, deadline: float) -> None:
    """The level's limits: what is left of the deterministic budget (a level reached after it is
    spent still gets a moment, so that its bound and gap can be reported instead of left
    unknown), and the wall-clock safety stop."""
    solver.parameters.max_deterministic_time = max(budget, MIN_LEVEL_SECONDS * DETERMINISTIC_PER_SECOND)
    solver.parameters.max_time_in_seconds = max(deadline - time.monotonic(), MIN_LEVEL_SECONDS)
