"""Site choice at scale when places never run out: a facility-location MIP solved with HiGHS.

Applies when the instance is *uncapacitated*: every bucket has at least as many places left
as there are children who could ever use it (`is_uncapacitated`). Then, once the open sites
are fixed, each child simply takes its own best usable place, and choosing the sites is an
uncapacitated facility-location (p-median-like) problem:

    variables  open[s] in {0,1} for each candidate site with places;
               place[p] in [0,1] for each pair p passing rules 1-3 (all sites open)
    subject to sum_{p of child c} place[p] <= 1                       each child at most once
               place[p] <= open[s(p)]                                  rule 4 (strong form)
               sum_s open[s] <= max(open_sites, forced);  open[s] = 1 for sites with locks
    levels     for each tier t from the highest: max sum_{p: tier(c(p)) = t} place[p]
               then min sum_p cost[p] place[p]; then min sum_p minutes[p] place[p]
Each level is solved to proven optimality (relative gap 0) by HiGHS through
`scipy.optimize.milp`, then fixed (to within 1e-6) before the next. place[] may stay
continuous: with open[] integral each child's choice is a separate problem whose LP has an
integral optimum. The chosen sites are then allocated exactly by `allocator.flow.solve_flow`,
and the result is `optimal` only when that exact allocation attains every level's value.
The strong form (place[p] <= open[s] per pair, not aggregated per site) keeps the LP bound
tight, which is what makes OR-Library's p-median instances solve at the root.

Time limit and determinism: HiGHS (one thread, as scipy runs it) is deterministic for a given
model, but a clock limit is not: where it cuts depends on the machine's load. So the limit is a
budget of branch-and-bound nodes shared by the levels, `NODES_PER_SECOND` per second of the
limit (each level's `mip_node_count` is subtracted), and the clock only a safety stop at
`WALL_SAFETY` times the limit plus `WALL_SLACK` seconds; a level reached with the budget spent
stops there, as at a limit (measured on seeded 40- and 60-site p-median cases that branch:
3.5-7 nodes a second, model building included, on the 2-core machine). The root node is always
solved: on OR-Library's pmed1-10 every level is proven at the root (0.2-9 s each on the 2-core
machine), so a run whose root takes longer than its limit takes the root's time, as CP-SAT's
deterministic time can.
"""

import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix, vstack

from allocator.flow import solve_flow
from allocator.instance import Instance
from allocator.objective import ObjectiveLevel, evaluate, levels
from allocator.options import SolveOptions
from allocator.site_choice import SiteChoice
from allocator.solution import Solution
from allocator.status import LevelEnd, highs_level_end
from data.arrays import BoolArray, FloatArray, IntArray
from models.results import RunStatus

_TOLERANCE = 1e-6
NODES_PER_SECOND = 4
WALL_SAFETY = 4.0
WALL_SLACK = 60.0
SOLVER = "highs_facility_location"


def is_uncapacitated(instance: Instance) -> bool:
    """Every bucket has places for all children who could ever use it (rules 1-3)."""
    pairs = np.flatnonzero(instance.pair_eligible)
    if pairs.size == 0:
        return True
    users = np.bincount(instance.pair_bucket[pairs], minlength=instance.bucket_school.size)
    return bool((instance.bucket_free >= users).all())


def solve_facility_location(instance: Instance, choice: SiteChoice, options: SolveOptions) -> Solution:
    """Choose sites level by level with HiGHS; allocate them exactly (see the module docstring).

    Level values (and so the bounds reported) include the locked children's share, as every
    solver's do (`allocator.objective.levels`)."""
    pairs = np.flatnonzero(instance.pair_eligible)
    forced_open = choice.forced
    open_limit = max(choice.open_limit, int(forced_open.sum()))
    has_places = np.zeros(instance.school_count, bool)
    has_places[instance.bucket_school] = True
    sites = np.flatnonzero(instance.is_candidate & has_places)
    site_column = np.full(instance.school_count, -1, np.int64)
    site_column[sites] = pairs.size + np.arange(sites.size)
    columns = pairs.size + sites.size

    constraints = _constraints(instance, pairs, sites, site_column, open_limit)
    lower = np.zeros(columns)
    lower[site_column[sites[forced_open[sites]]]] = 1.0
    integrality = np.zeros(columns)
    integrality[pairs.size :] = 1

    allowed = np.ones(columns)
    greedy = _greedy_sites(instance, pairs, sites, forced_open, open_limit)
    attained_by_greedy = evaluate(instance, solve_flow(instance, greedy)).by_level(instance.tiers())
    deadline = time.monotonic() + options.time_limit * WALL_SAFETY + WALL_SLACK
    nodes_left = max(1, int(options.time_limit * NODES_PER_SECOND))
    proven = True
    found: FloatArray | None = None
    values: dict[str, float] = {}  # proven values, then the stopped level's bound
    stopped: ObjectiveLevel | None = None
    shortcut = True
    for level in levels(instance):
        weights = _weights(instance, level, pairs, columns)
        maximise = level.maximise
        if shortcut:
            ideal = _ideal(instance, pairs, weights, allowed, maximise)
            if attained_by_greedy[level.name] == ideal + level.locked:
                values[level.name] = ideal + level.locked
                allowed, constraints = _restrict(instance, pairs, weights, allowed, maximise, constraints)
                continue
            shortcut = False
        remaining = deadline - time.monotonic()
        if remaining <= 0 or nodes_left <= 0:
            proven, stopped = False, level
            break
        result = milp(
            -weights if maximise else weights,
            constraints=constraints,
            integrality=integrality,
            bounds=Bounds(lower, allowed),
            options={"time_limit": remaining, "node_limit": nodes_left, "mip_rel_gap": 0.0, "presolve": True},
        )
        nodes_left -= int(result.mip_node_count or 0)
        end = highs_level_end(int(result.status), result.x is not None, str(result.message))
        if end is LevelEnd.NOTHING:
            proven, stopped = False, level
            break
        found = result.x
        value = float(weights @ result.x)
        if end is LevelEnd.FOUND:
            # milp minimised -weights for a maximised level: its dual bound is negated back.
            dual = -float(result.mip_dual_bound) if maximise else float(result.mip_dual_bound)
            values[level.name] = level.clip(instance, dual + level.locked)
            proven, stopped = False, level
            break
        values[level.name] = round(value) + level.locked
        limit = LinearConstraint(
            csr_matrix(weights.reshape(1, -1)),
            value - _TOLERANCE if maximise else -np.inf,
            np.inf if maximise else value + _TOLERANCE,
        )
        constraints = [*constraints, limit]
    if found is None:
        found = np.zeros(columns)
        found[site_column[np.flatnonzero(greedy)]] = 1.0

    open_sites = forced_open.copy()
    open_sites[sites[found[pairs.size :] > 0.5]] = True
    chosen = solve_flow(instance, open_sites)
    attained = evaluate(instance, chosen).by_level(instance.tiers())
    if proven and all(attained[name] == value for name, value in values.items()):
        return Solution(chosen, open_sites, RunStatus.OPTIMAL, SOLVER, values)
    # Not proven: the gap of the level a limit stopped, against the allocation written; 1.0 when
    # nothing is known of it (or the exact allocation missed a level the MIP attained).
    gap = 1.0
    if stopped is not None and stopped.name in values:
        gap = stopped.gap(values[stopped.name], attained[stopped.name])
    limit = options.time_limit if stopped is not None else None
    return Solution(chosen, open_sites, RunStatus.FEASIBLE, SOLVER, values, gap, limit)


def _weights(instance: Instance, level: ObjectiveLevel, pairs: IntArray, columns: int) -> FloatArray:
    """The level's weights as a milp objective row (zero on the site columns)."""
    weights = np.zeros(columns)
    weights[: pairs.size] = level.weights(instance, pairs).astype(np.float64)
    return weights


def _constraints(
    instance: Instance, pairs: IntArray, sites: IntArray, site_column: IntArray, open_limit: int
) -> list[LinearConstraint]:
    columns = pairs.size + sites.size
    children = instance.pair_child[pairs]
    one_place = coo_matrix(
        (np.ones(pairs.size), (children, np.arange(pairs.size))), shape=(instance.child_count, columns)
    )
    at_site = np.flatnonzero(site_column[instance.pair_school[pairs]] >= 0)
    rows = np.arange(at_site.size)
    link = coo_matrix(
        (
            np.concatenate([np.ones(at_site.size), -np.ones(at_site.size)]),
            (
                np.concatenate([rows, rows]),
                np.concatenate([at_site, site_column[instance.pair_school[pairs[at_site]]]]),
            ),
        ),
        shape=(at_site.size, columns),
    )
    count = coo_matrix(
        (np.ones(sites.size), (np.zeros(sites.size, np.int64), pairs.size + np.arange(sites.size))), shape=(1, columns)
    )
    matrix = vstack([one_place, link, count]).tocsr()
    upper = np.concatenate([np.ones(instance.child_count), np.zeros(at_site.size), [open_limit]])
    return [LinearConstraint(matrix, -np.inf, upper)]


def _ideal(instance: Instance, pairs: IntArray, weights: FloatArray, allowed: FloatArray, maximise: bool) -> float:
    """A bound on the level over solutions optimal for the earlier (shortcut) levels.

    Placed levels: the tier's children with an allowed pair. Cost levels: each child with an
    allowed pair at its cheapest allowed pair (earlier levels made every such child placed).
    """
    usable = allowed[: pairs.size] > 0
    children = instance.pair_child[pairs]
    if maximise:
        return float(np.unique(children[usable & (weights[: pairs.size] > 0)]).size)
    best = np.full(instance.child_count, np.inf)
    np.minimum.at(best, children[usable], weights[: pairs.size][usable])
    return float(best[np.isfinite(best)].sum())


def _restrict(
    instance: Instance,
    pairs: IntArray,
    weights: FloatArray,
    allowed: FloatArray,
    maximise: bool,
    constraints: list[LinearConstraint],
) -> tuple[FloatArray, list[LinearConstraint]]:
    """What optimality at an attained bound implies: placed levels make each of the tier's
    reachable children placed; cost levels leave each child only its cheapest allowed pairs."""
    usable = allowed[: pairs.size] > 0
    children = instance.pair_child[pairs]
    if maximise:
        members = usable & (weights[: pairs.size] > 0)
        required = np.unique(children[members])
        index = {int(c): row for row, c in enumerate(required.tolist())}
        rows = np.array([index.get(int(c), -1) for c in children], np.int64)
        keep = members & (rows >= 0)
        matrix = coo_matrix(
            (np.ones(int(keep.sum())), (rows[keep], np.flatnonzero(keep))), shape=(required.size, allowed.size)
        ).tocsr()
        return allowed, [*constraints, LinearConstraint(matrix, np.ones(required.size), np.inf)]
    best = np.full(instance.child_count, np.inf)
    np.minimum.at(best, children[usable], weights[: pairs.size][usable])
    narrowed = allowed.copy()
    narrowed[: pairs.size][weights[: pairs.size] > best[children] + _TOLERANCE] = 0.0
    return narrowed, constraints


def _greedy_sites(
    instance: Instance, pairs: IntArray, sites: IntArray, forced_open: BoolArray, open_limit: int
) -> BoolArray:
    """Open sites one at a time, each the largest gain in the objective (as one float score
    per child: placing a higher tier outweighs everything below it)."""
    open_sites = forced_open.copy()
    children = instance.pair_child[pairs]
    minutes = instance.pair_minutes[pairs].astype(np.float64)
    cost = instance.pair_cost[pairs].astype(np.float64)
    scale = float(minutes.max(initial=0)) + 1.0
    secondary = cost * scale + minutes
    span = (float(secondary.max(initial=0)) + 1.0) * max(instance.child_count, 1)
    ordinal = {tier: rank + 1 for rank, tier in enumerate(sorted(instance.tiers()))}
    tier_weight = np.array([ordinal[int(t)] for t in instance.child_priority[children]], np.float64) * span
    value = tier_weight - secondary
    column = np.full(instance.school_count, -1, np.int64)
    column[sites] = np.arange(sites.size)
    at = column[instance.pair_school[pairs]]
    current = np.zeros(instance.child_count)
    fixed = (at < 0) | forced_open[instance.pair_school[pairs]]
    np.maximum.at(current, children[fixed], value[fixed])
    gain_matrix = np.zeros((instance.child_count, sites.size))
    np.maximum.at(gain_matrix, (children[~fixed], at[~fixed]), value[~fixed])
    closed = ~forced_open[sites]
    for _ in range(max(0, open_limit - int(forced_open.sum()))):
        if not closed.any():
            break
        gains = np.maximum(gain_matrix - current[:, None], 0.0).sum(axis=0)
        gains[~closed] = -1.0
        pick = int(np.argmax(gains))
        closed[pick] = False
        open_sites[sites[pick]] = True
        current = np.maximum(current, gain_matrix[:, pick])
    return open_sites
