"""Independent optima of the `[fairness]` objective, written from the models alone (no
allocator.instance, no allocator.fair_flow): brute force over every allocation and site set, and
scipy.optimize.milp (HiGHS) level by level.

The objective, smallest first: (-placed per tier 2, 1, 0; the largest unplaced share of a
district, when balancing; preference cost; travel level), where the travel level is the sum of
minutes, or of kp(minutes) = round(C * exp(|kappa| * (minutes - M))) with the kappa and C the run
reports and M the largest minutes of any pair an unlocked child may use with every site open.
"""

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
from scipy.optimize import LinearConstraint, milp
from scipy.sparse import coo_matrix

from models.case import SchoolKind
from models.results import Allocation
from tests.core.independent import TIERS, _options, _site_sets
from tests.strategies import RandomCase

FairObjective = tuple[tuple[int, ...], Fraction, int, int]
Travel = Callable[[int], int]
NO_DISTRICT = "(not given)"


def kp_travel(random_case: RandomCase, kappa: float, scale: int) -> Travel:
    """kp as documented, M from the models."""
    case = random_case.case
    everything = {s.school_id for s in case.schools}
    options = _options(random_case, everything)
    largest = max(
        (m for child, opts in zip(case.children, options, strict=True) if not child.locked_school_id for *_, m in opts),
        default=0,
    )
    return lambda minutes: round(scale * math.exp(abs(kappa) * (minutes - largest)))


def _district(random_case: RandomCase, index: int) -> str:
    return random_case.case.children[index].district or NO_DISTRICT


def worst_share(random_case: RandomCase, placed: list[bool]) -> Fraction:
    children: dict[str, int] = {}
    unplaced: dict[str, int] = {}
    for index, is_placed in enumerate(placed):
        name = _district(random_case, index)
        children[name] = children.get(name, 0) + 1
        unplaced[name] = unplaced.get(name, 0) + (not is_placed)
    return max((Fraction(unplaced[d], children[d]) for d in children), default=Fraction(0))


def objective_of(random_case: RandomCase, allocation: Allocation, balance: bool, travel: Travel) -> FairObjective:
    """The objective of a run's rows (locked children included; their travel cost is a constant
    that brute force and the rows share)."""
    case = random_case.case
    minutes = random_case.travel()
    ranks = {(p.child_id, p.school_id): p.rank for p in case.preferences}
    rows = list(zip(case.children, allocation.placements, strict=True))
    by_tier = tuple(sum(1 for c, p in rows if p.school_id and c.priority == tier) for tier in TIERS)
    share = worst_share(random_case, [p.school_id is not None for _, p in rows]) if balance else Fraction(0)
    preference = sum(ranks.get((c.child_id, p.school_id), case.policy.unranked_cost) for c, p in rows if p.school_id)
    cost = sum(travel(minutes(c.child_id, p.school_id)) for c, p in rows if p.school_id)
    return tuple(-n for n in by_tier), share, preference, cost


def fair_brute_force(random_case: RandomCase, balance: bool, travel: Travel) -> FairObjective:
    """The best objective over every allocation and every allowed set of opened sites."""
    return min(_best_with_sites(random_case, opened, balance, travel) for opened in _site_sets(random_case))


def _best_with_sites(random_case: RandomCase, opened: set[str], balance: bool, travel: Travel) -> FairObjective:
    case = random_case.case
    capacity = {(o.school_id, o.need.value): o.places for o in case.places}
    options = _options(random_case, opened)
    placed = [False] * len(case.children)
    best: list[FairObjective] = []

    def search(index: int, preference: int, cost: int) -> None:
        if index == len(case.children):
            by_tier = tuple(
                -sum(1 for c, p in zip(case.children, placed, strict=True) if p and c.priority == t) for t in TIERS
            )
            share = worst_share(random_case, placed) if balance else Fraction(0)
            key = (by_tier, share, preference, cost)
            if not best or key < best[0]:
                best[:] = [key]
            return
        child = case.children[index]
        for school_id, rank_cost, minutes in options[index]:
            bucket = (school_id, child.need.value)
            if capacity.get(bucket, 0) > 0:
                capacity[bucket] -= 1
                placed[index] = True
                search(index + 1, preference + rank_cost, cost + travel(minutes))
                placed[index] = False
                capacity[bucket] += 1
        if child.locked_school_id is None:
            search(index + 1, preference, cost)

    search(0, 0, 0)
    assert best, "a locked child always has its place, so some allocation exists"
    return best[0]


def fair_milp_levels(random_case: RandomCase, balance: bool, travel: Travel) -> FairObjective:
    """HiGHS level by level. Variables: x[p] per (child, school) passing rules 1-3 with every
    site open, y[s] per candidate site, and z (the largest unplaced share). Rows: each child at
    most one place (locked children exactly their lock), places per school and need,
    x[p] <= y[s(p)], sum y <= open_sites, and per district n_d - sum x (its children) <= n_d z.
    Each level is optimised, then fixed; the share level is fixed exactly, as the caps
    unplaced_d <= floor(z* n_d) (z* = the optimum, a fraction u / n_e)."""
    case = random_case.case
    everything = {s.school_id for s in case.schools}
    options = _options(random_case, everything)
    sites = [s.school_id for s in case.schools if s.kind == SchoolKind.CANDIDATE]
    site_index = {s: i for i, s in enumerate(sites)}
    pairs = [(c, s, cost, minutes) for c, opts in enumerate(options) for s, cost, minutes in opts]
    n_x = len(pairs)
    z = n_x + len(sites)
    n = z + 1
    by_child: dict[int, dict[int, float]] = {c: {} for c in range(len(case.children))}
    by_bucket: dict[tuple[str, str], dict[int, float]] = {}
    for p, (c, s, _, _) in enumerate(pairs):
        by_child[c][p] = 1.0
        by_bucket.setdefault((s, case.children[c].need.value), {})[p] = 1.0
    rows: list[tuple[dict[int, float], float, float]] = []
    for c, child in enumerate(case.children):
        rows.append((by_child[c], 1.0 if child.locked_school_id is not None else 0.0, 1.0))
    for offer in case.places:
        rows.append((by_bucket.get((offer.school_id, offer.need.value), {}), 0.0, float(offer.places)))
    for p, (_, s, _, _) in enumerate(pairs):
        if s in site_index:
            rows.append(({p: 1.0, n_x + site_index[s]: -1.0}, -np.inf, 0.0))
    rows.append(({n_x + i: 1.0 for i in range(len(sites))}, 0.0, float(case.policy.open_sites)))
    districts = sorted({_district(random_case, c) for c in range(len(case.children))})
    members = {d: [c for c in range(len(case.children)) if _district(random_case, c) == d] for d in districts}
    if balance:
        for d in districts:  # n_d - sum x_d - n_d z <= 0
            row = {p: -1.0 for p, (c, *_) in enumerate(pairs) if _district(random_case, c) == d}
            row[z] = -float(len(members[d]))
            rows.append((row, -np.inf, -float(len(members[d]))))
    values: list[int] = []
    for tier in TIERS:
        weights = {p: -1.0 for p, (c, *_) in enumerate(pairs) if case.children[c].priority == tier}
        values.append(_level(rows, weights, n))
    share = Fraction(0)
    if balance:
        objective = np.zeros(n)
        objective[z] = 1.0
        value = _solve_exact(objective, rows, n, continuous=z)
        biggest = max(len(kids) for kids in members.values())
        share = Fraction(value).limit_denominator(biggest)  # the optimum is some u / n_d
        assert abs(float(share) - value) < 1e-6
        for d in districts:
            cap = share.numerator * len(members[d]) // share.denominator
            row = {p: 1.0 for p, (c, *_) in enumerate(pairs) if _district(random_case, c) == d}
            rows.append((row, float(len(members[d]) - cap), np.inf))
    preference = _level(rows, {p: float(cost) for p, (_, _, cost, _) in enumerate(pairs)}, n)
    cost = _level(rows, {p: float(travel(minutes)) for p, (*_, minutes) in enumerate(pairs)}, n)
    return tuple(values), share, preference, cost


def _level(rows: list[tuple[dict[int, float], float, float]], weights: dict[int, float], n: int) -> int:
    objective = np.zeros(n)
    for column, weight in weights.items():
        objective[column] = weight
    value = round(_solve_exact(objective, rows, n))
    rows.append((dict(weights), -np.inf, value + 0.5))
    return value


def _solve_exact(
    objective: np.ndarray, rows: list[tuple[dict[int, float], float, float]], n: int, continuous: int | None = None
) -> float:
    """Minimise over binary variables (the one `continuous` in [0, 1]), with no gap allowed."""
    data, row_index, col_index = [], [], []
    for r, (coefficients, _, _) in enumerate(rows):
        for col, value in coefficients.items():
            row_index.append(r)
            col_index.append(col)
            data.append(value)
    matrix = coo_matrix((data, (row_index, col_index)), shape=(len(rows), n)).tocsr()
    integrality = np.ones(n)
    if continuous is not None:
        integrality[continuous] = 0
    result = milp(
        objective,
        constraints=LinearConstraint(matrix, [low for _, low, _ in rows], [high for _, _, high in rows]),
        integrality=integrality,
        bounds=(0, 1),
        options={"mip_rel_gap": 0.0},
    )
    assert result.success, result.message
    return float(result.fun)
