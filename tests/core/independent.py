"""Two independent ways to find the optimum of the contract's default objective, written
from the models alone (no allocator.instance): brute force over every allocation, and
scipy.optimize.milp (HiGHS) solving the objective one level at a time.

Both return (placed per tier 2, 1, 0; preference cost; travel minutes), as
tests.core.helpers.objective_of does for a solution.
"""

from itertools import combinations

import numpy as np
from scipy.optimize import LinearConstraint, milp
from scipy.sparse import coo_matrix

from allocator.checker import eligible_schools
from models.case import SchoolKind
from tests.strategies import RandomCase

Objective = tuple[tuple[int, ...], int, int]
TIERS = (2, 1, 0)


def _site_sets(random_case: RandomCase) -> list[set[str]]:
    """Every allowed set of opened sites: the sites with locked children (a lock is kept, so
    its site is open) plus any others, at most open_sites in all."""
    case = random_case.case
    kind = {s.school_id: s.kind for s in case.schools}
    forced = {
        c.locked_school_id for c in case.children if c.locked_school_id and kind[c.locked_school_id] == "candidate"
    }
    others = [s.school_id for s in case.schools if s.kind == SchoolKind.CANDIDATE and s.school_id not in forced]
    room = max(0, case.policy.open_sites - len(forced))
    return [forced | set(chosen) for size in range(min(room, len(others)) + 1) for chosen in combinations(others, size)]


def _options(random_case: RandomCase, opened: set[str]) -> list[list[tuple[str, int, int]]]:
    """Per child: (school_id, preference cost, minutes) of each school it may take."""
    case = random_case.case
    travel = random_case.travel()
    ranks = {(p.child_id, p.school_id): p.rank for p in case.preferences}
    options = []
    for child in case.children:
        if child.locked_school_id is not None:
            schools = [child.locked_school_id]
        else:
            schools = [s.school_id for s in eligible_schools(case, travel, child, opened)]
        options.append(
            [(s, ranks.get((child.child_id, s), case.policy.unranked_cost), travel(child.child_id, s)) for s in schools]
        )
    return options


def brute_force(random_case: RandomCase) -> Objective:
    """The best objective over every allocation and every allowed set of opened sites."""
    best = min(_best_with_sites(random_case, opened) for opened in _site_sets(random_case))
    return tuple(-n for n in best[0]), best[1], best[2]


def _best_with_sites(random_case: RandomCase, opened: set[str]) -> Objective:
    """Smallest (-placed per tier, preference, travel) over every allocation with `opened`."""
    case = random_case.case
    options = _options(random_case, opened)
    capacity = {(o.school_id, o.need.value): o.places for o in case.places}
    placed = dict.fromkeys(TIERS, 0)
    best: list[Objective] = []

    def search(index: int, preference: int, minutes: int) -> None:
        if index == len(case.children):
            key = (tuple(-placed[t] for t in TIERS), preference, minutes)
            if not best or key < best[0]:
                best[:] = [key]
            return
        child = case.children[index]
        for school_id, cost, travel in options[index]:
            bucket = (school_id, child.need.value)
            if capacity.get(bucket, 0) > 0:
                capacity[bucket] -= 1
                placed[child.priority] += 1
                search(index + 1, preference + cost, minutes + travel)
                placed[child.priority] -= 1
                capacity[bucket] += 1
        if child.locked_school_id is None:
            search(index + 1, preference, minutes)

    search(0, 0, 0)
    assert best, "a locked child always has its place, so some allocation exists"
    return best[0]


def milp_levels(random_case: RandomCase) -> Objective:
    """The lexicographic optimum with HiGHS: optimise each level, then fix it and go on.

    Variables: x[p] for each (child, school) passing rules 1-3 (every site open), and
    y[s] for each candidate site. Rows: each child at most one place (locked children
    exactly their lock), places per school and need, x[p] <= y[s(p)], sum y <= open_sites.
    """
    case = random_case.case
    everything = {s.school_id for s in case.schools}
    options = _options(random_case, everything)
    sites = [s.school_id for s in case.schools if s.kind == SchoolKind.CANDIDATE]
    site_index = {s: i for i, s in enumerate(sites)}
    pairs = [(c, s, cost, minutes) for c, opts in enumerate(options) for s, cost, minutes in opts]
    n_x, n = len(pairs), len(pairs) + len(sites)
    by_child: dict[int, dict[int, float]] = {c: {} for c in range(len(case.children))}
    by_bucket: dict[tuple[str, str], dict[int, float]] = {}
    for p, (c, s, _, _) in enumerate(pairs):
        by_child[c][p] = 1.0
        by_bucket.setdefault((s, case.children[c].need.value), {})[p] = 1.0
    rows: list[tuple[dict[int, float], float, float]] = []
    for c, child in enumerate(case.children):
        low = 1.0 if child.locked_school_id is not None else 0.0
        rows.append((by_child[c], low, 1.0))
    for offer in case.places:
        rows.append((by_bucket.get((offer.school_id, offer.need.value), {}), 0.0, float(offer.places)))
    for p, (_, s, _, _) in enumerate(pairs):
        if s in site_index:
            rows.append(({p: 1.0, n_x + site_index[s]: -1.0}, -np.inf, 0.0))
    rows.append(({n_x + i: 1.0 for i in range(len(sites))}, 0.0, float(case.policy.open_sites)))

    levels: list[np.ndarray] = []
    for tier in TIERS:
        levels.append(np.array([-1.0 if case.children[c].priority == tier else 0.0 for c, *_ in pairs]))
    levels.append(np.array([float(cost) for _, _, cost, _ in pairs]))
    levels.append(np.array([float(minutes) for *_, minutes in pairs]))
    values = []
    for weights in levels:
        objective = np.concatenate([weights, np.zeros(len(sites))])
        value = _solve(objective, rows, n)
        values.append(value)
        rows.append(({i: w for i, w in enumerate(weights) if w}, -np.inf, value + 0.5))
    tiers = tuple(-values[i] for i in range(len(TIERS)))
    return tiers, values[-2], values[-1]


def _solve(objective: np.ndarray, rows: list[tuple[dict[int, float], float, float]], n: int) -> int:
    if not rows:
        return 0
    data, row_index, col_index = [], [], []
    for r, (coefficients, _, _) in enumerate(rows):
        for col, value in coefficients.items():
            row_index.append(r)
            col_index.append(col)
            data.append(value)
    matrix = coo_matrix((data, (row_index, col_index)), shape=(len(rows), max(n, 1))).tocsr()
    lower = np.array([low for _, low, _ in rows])
    upper = np.array([high for _, _, high in rows])
    padded = np.zeros(max(n, 1))
    padded[:n] = objective
    result = milp(
        padded,
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=np.ones(max(n, 1)),
        bounds=(0, 1),
    )
    assert result.success, result.message
    return int(round(result.fun))
