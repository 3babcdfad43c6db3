"""Fairness in the model: policy.toml `[fairness]` (issue 9 item 3), exact by min-cost flows.

The objective, in strict order, over (set of opened sites, allocation):
1. for each priority tier from the highest down, as many children of that tier placed (the
   contract's level 1, unchanged: never fewer children of any tier placed);
2. with `balance = "districts"`: the least largest unplaced share of a district,
   max over districts d of u_d / n_d (u_d unplaced children of d, n_d its children, locked
   ones included and counted as placed; children with no district form one more district);
3. the least preference cost;
4. the least travel level: total minutes, or with `travel = "kolm_pollak"` the sum over placed
   children of `kp(minutes)` (below).

The network of one site set is the contract's one network (`allocator.flow`) with the unplaced
arcs grouped by district: each unlocked child supplies one unit; child -> bucket (capacity 1,
cost `pref * A + travel(minutes)`), bucket -> sink (the places left after locks), child -> U_d
(the child's district, capacity 1, cost `BIG * w[tier]`), U_d -> sink with capacity `cap_d`.
A = 1 + sum over children of their largest travel cost, BIG = 1 + sum over children of their
largest pair cost, so `pref * A + travel` orders by preference, then travel, and the whole
pair part of any flow is below BIG. The tier weights are lexicographic: w = 1 for the lowest
tier, and w[k] = 1 + sum over lower tiers j of m_j * w[j] (m_j its unlocked children), so
one more child of tier k unplaced costs more than every child of the lower tiers unplaced plus
the whole pair part. (The contract's network needs only increasing weights because its placed
sets form a matroid; with district caps they no longer do, so the weights must be truly
lexicographic.) Integral flows with caps `cap` are exactly the allocations with at most
`cap_d` children of d unplaced, so a min-cost flow is the lexicographic optimum of levels 1, 3
and 4 among those allocations, and the flow is infeasible exactly when no such allocation exists.

Why the binary search is exact. Let c be the placed counts per tier of the uncapped optimum
(cap_d = the unlocked children of d): the contract's level 1. For a value t, caps
cap_d(t) = floor(t * n_d) allow exactly the allocations with every share u_d / n_d <= t.
F(t) = "the capped flow is feasible and its optimum places c" holds exactly when some allocation
optimal in level 1 has every share <= t (the capped optimum's counts are lexicographically at
most c, and equal c when such an allocation exists). F is monotone in t, and the optimum t* of
level 2 is some u / n_d, so t* is the least candidate of the finite set {k / n_d} with F true:
a binary search over the sorted candidates finds it (F(1) holds). At t*, the capped min-cost
flow is optimal in levels 1 and 3-4 among the allocations with shares <= t* that place c; these
are exactly the allocations optimal in levels 1-2, so it is the optimum. Over candidate sites,
the order is lexicographic over (site set, allocation), so the best of each enumerated site set
(`allocator.site_choice`) is compared by (level 1, 2, 3, 4); when the sets are too many to
enumerate, the run is refused as a problem in policy.toml (exit 2) rather than left unproven.

Kolm-Pollak travel: kp(m) = round(C * exp(|kappa| * (m - M))), where kappa = -sum(x) / sum(x^2)
(beta = -1, as in `allocator.fairness`) over the travel minutes x of the placed children of
the same case solved without the rule (a deterministic optimum), M is the largest minutes of any
pair usable with every site open, and C is the largest power of ten up to 10^6 for which the
network's costs fit the solver's range (`allocator.flow._SAFE_LIMIT`). With beta = -1, kappa < 0,
so sum exp(-kappa * m) = sum exp(|kappa| m), convex and increasing in m: C * exp(-|kappa| M) times
it is the exact, unrounded objective, and kp rounds each pair's term to a whole number.

Statuses (mapped here, as `allocator.status` does for every other solver): OPTIMAL is a result,
INFEASIBLE means the caps admit no allocation (F false), BAD_COST_RANGE sends the caller to the
next C (or, at C = 10, to a problem); anything else is a SolverFailure.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from ortools.graph.python import min_cost_flow

from allocator.fairness import KAPPA_DECIMALS, SHARE_DECIMALS, district_of, kolm_pollak_kappa, price_of_fairness
from allocator.flow import _SAFE_LIMIT
from allocator.instance import Instance
from allocator.objective import evaluate
from allocator.site_choice import SiteChoice
from allocator.status import CostsTooLarge, SolverFailure
from data.arrays import BoolArray, IntArray
from models.case import FairnessRule
from models.problems import CaseInvalid, Problem
from models.results import Allocation

FAIR_SOLVER = "min_cost_flow_fairness"
LARGEST_SCALE_EXPONENT = 6  # C = 10^6 at most
_SOLVER = min_cost_flow.SimpleMinCostFlow


@dataclass(frozen=True)
class FairCase:
    """What every site set shares: the rule, the districts and each pair's travel cost."""

    instance: Instance
    rule: FairnessRule
    district: IntArray  # per child: index into `names`
    names: list[str]
    district_children: IntArray  # n_d, locked included
    travel_cost: IntArray  # per instance pair: minutes, or kp(minutes)
    kappa: float | None = None  # the Kolm-Pollak kappa the costs use
    scale: int | None = None  # C


@dataclass(frozen=True)
class FairResult:
    chosen_pair: IntArray
    open_sites: BoolArray
    key: tuple[tuple[int, ...], Fraction, int, int]  # (-placed per tier, worst share, pref, travel)


def fair_case(instance: Instance, rule: FairnessRule, plain_minutes: list[int], scale: int) -> FairCase:
    """The shared data, with kp costs at scale C = `scale` when the rule asks for them."""
    names = sorted({district_of(child.district) for child in instance.case.children})
    index = {name: i for i, name in enumerate(names)}
    district = np.array([index[district_of(c.district)] for c in instance.case.children], np.int64)
    counts = np.bincount(district, minlength=len(names)).astype(np.int64)
    if rule.travel != "kolm_pollak":
        return FairCase(instance, rule, district, names, counts, instance.pair_minutes)
    kappa = kolm_pollak_kappa(plain_minutes)
    return FairCase(instance, rule, district, names, counts, kp_costs(instance, kappa, scale), kappa, scale)


def kp_costs(instance: Instance, kappa: float, scale: int) -> IntArray:
    """kp(m) = round(C * exp(|kappa| * (m - M))) per pair (see the module docstring)."""
    minutes = instance.pair_minutes
    eligible = minutes[instance.pair_eligible]
    largest = int(eligible.max()) if eligible.size else 0
    return np.array([round(scale * math.exp(abs(kappa) * (int(m) - largest))) for m in minutes], np.int64)


def scales() -> Iterator[int]:
    """C from 10^6 down to 10."""
    for exponent in range(LARGEST_SCALE_EXPONENT, 0, -1):
        yield 10**exponent


class _FairNetwork:
    """The network of one site set (see the module docstring); `solve(caps)` per cap vector."""

    def __init__(self, fair: FairCase, open_sites: BoolArray) -> None:
        instance = fair.instance
        self.fair, self.instance = fair, instance
        self.pairs = instance.usable_pairs(open_sites)
        self.free = np.flatnonzero(instance.locked_school < 0)
        n, bucket_count, districts = instance.child_count, instance.bucket_school.size, len(fair.names)
        self.sink = n + bucket_count
        pairs, free = self.pairs, self.free
        travel = fair.travel_cost[pairs]
        largest_travel = np.zeros(n, np.int64)
        np.maximum.at(largest_travel, instance.pair_child[pairs], travel)
        scale_a = int(largest_travel.sum(dtype=object)) + 1
        secondary = instance.pair_cost[pairs].astype(object) * scale_a + travel.astype(object)
        largest_secondary = np.zeros(n, dtype=object)
        np.maximum.at(largest_secondary, instance.pair_child[pairs], secondary)
        big = int(largest_secondary.sum()) + 1
        weight: dict[int, int] = {}
        below = 0  # sum over lower tiers of m_j * w[j]
        for tier in sorted(instance.tiers()):
            weight[tier] = 1 + below
            below += int((instance.child_priority[free] == tier).sum()) * weight[tier]
        largest = big * max(weight.values(), default=1)
        node_count = self.sink + 1 + districts
        if largest * (node_count + 1) >= _SAFE_LIMIT:
            raise CostsTooLarge(f"largest arc cost {largest} with {node_count} nodes")
        self.tails = np.concatenate(
            [instance.pair_child[pairs], n + np.arange(bucket_count), free, self.sink + 1 + np.arange(districts)]
        ).astype(np.int64)
        self.heads = np.concatenate(
            [
                n + instance.pair_bucket[pairs],
                np.full(bucket_count, self.sink),
                self.sink + 1 + fair.district[free],
                np.full(districts, self.sink),
            ]
        ).astype(np.int64)
        unplaced = [big * weight[int(tier)] for tier in instance.child_priority[free]]
        self.costs = np.concatenate(
            [
                np.array(secondary.tolist(), np.int64).reshape(-1),
                np.zeros(bucket_count, np.int64),
                np.array(unplaced, np.int64).reshape(-1),
                np.zeros(districts, np.int64),
            ]
        ).astype(np.int64)
        self.fixed_capacities = np.concatenate(
            [np.ones(pairs.size, np.int64), instance.bucket_free, np.ones(free.size, np.int64)]
        ).astype(np.int64)
        self.supplies = np.zeros(node_count, np.int64)
        self.supplies[free] = 1
        self.supplies[self.sink] = -free.size
        self.free_by_district = np.bincount(fair.district[free], minlength=districts).astype(np.int64)

    def solve(self, caps: IntArray) -> IntArray | None:
        """chosen_pair per child with at most caps[d] unlocked children of d unplaced, or None
        when no allocation has that few."""
        chosen = np.full(self.instance.child_count, -1, np.int64)
        if self.free.size == 0:
            return chosen
        solver = _SOLVER()
        capacities = np.concatenate([self.fixed_capacities, np.minimum(caps, self.free_by_district)])
        solver.add_arcs_with_capacity_and_unit_cost(self.tails, self.heads, capacities.astype(np.int64), self.costs)
        solver.set_nodes_supplies(np.arange(self.supplies.size), self.supplies)
        status = solver.solve()
        if status == _SOLVER.INFEASIBLE:
            return None
        if status == _SOLVER.BAD_COST_RANGE:
            raise CostsTooLarge("the flow solver's own range check refused the costs")
        if status != _SOLVER.OPTIMAL:
            raise SolverFailure(f"min-cost flow ended with status {status} on the fairness network")
        used = np.asarray(solver.flows(np.arange(self.pairs.size)) > 0)
        chosen[self.instance.pair_child[self.pairs[used]]] = self.pairs[used]
        return chosen

    def uncapped(self) -> IntArray:
        return self.free_by_district.copy()


def worst_share(fair: FairCase, chosen_pair: IntArray) -> Fraction:
    """The largest unplaced share of a district, exactly."""
    instance = fair.instance
    placed = (chosen_pair >= 0) | (instance.locked_school >= 0)
    unplaced = np.bincount(fair.district[~placed], minlength=len(fair.names))
    return max(
        (Fraction(int(u), int(n)) for u, n in zip(unplaced, fair.district_children, strict=True) if n),
        default=Fraction(0),
    )


def _key(fair: FairCase, chosen: IntArray) -> tuple[tuple[int, ...], Fraction, int, int]:
    value = evaluate(fair.instance, chosen)
    share = worst_share(fair, chosen) if fair.rule.balance == "districts" else Fraction(0)
    travel = int(fair.travel_cost[chosen[chosen >= 0]].sum())
    return value.negated_placed_by_tier, share, value.preference_cost, travel


def candidate_shares(fair: FairCase) -> list[Fraction]:
    """Every value a largest unplaced share can take: k / n_d, sorted."""
    return sorted({Fraction(k, int(n)) for n in fair.district_children for k in range(int(n) + 1)})


def caps_for(fair: FairCase, share: Fraction) -> IntArray:
    """floor(share * n_d) per district: the most children of d unplaced with u_d / n_d <= share."""
    return np.array([share.numerator * int(n) // share.denominator for n in fair.district_children], np.int64)


def fair_for_sites(fair: FairCase, open_sites: BoolArray) -> FairResult:
    """The optimum for one set of open sites (the binary search of the module docstring)."""
    network = _FairNetwork(fair, open_sites)
    best = network.solve(network.uncapped())
    assert best is not None  # uncapped, every child may stay unplaced
    if fair.rule.balance == "districts":
        target = evaluate(fair.instance, best).negated_placed_by_tier
        candidates = candidate_shares(fair)
        low, high = 0, len(candidates) - 1  # F(candidates[high]) = F(1) holds
        while low < high:
            middle = (low + high) // 2
            found = network.solve(caps_for(fair, candidates[middle]))
            if found is not None and evaluate(fair.instance, found).negated_placed_by_tier == target:
                high, best = middle, found
            else:
                low = middle + 1
        # `best` is the optimum at candidates[low]: found there, or the uncapped one when low
        # is the last candidate (share 1 caps no district below its unlocked children).
    return FairResult(best, open_sites, _key(fair, best))


def solve_fair(
    instance: Instance, rule: FairnessRule, plain_minutes: list[int], choice: SiteChoice, enumerable: bool
) -> tuple[FairResult, FairCase]:
    """The best over every enumerated site set, at the largest scale C that fits."""
    if not enumerable:
        raise CaseInvalid(
            [
                Problem(
                    "policy.toml",
                    0,
                    "fairness",
                    f"a [fairness] rule needs every choice of candidate sites tried, and this round has "
                    f"{choice.set_count:,} choices; lower open_sites or remove candidate sites",
                )
            ]
        )
    for scale in scales():
        fair = fair_case(instance, rule, plain_minutes, scale)
        try:
            results = [fair_for_sites(fair, open_sites) for open_sites in choice.site_sets()]
        except CostsTooLarge:
            if rule.travel != "kolm_pollak":
                break
            continue
        return min(results, key=lambda result: result.key), fair
    raise CaseInvalid(
        [
            Problem(
                "policy.toml",
                0,
                "fairness",
                "this round is too large for a [fairness] rule to be solved exactly; remove the [fairness] table",
            )
        ]
    )


def priced(allocation: Allocation, plain: Allocation, fair: FairCase, result: FairResult) -> Allocation:
    """The rule's allocation with summary.json `price_of_fairness` against `plain`, and the
    model's own figures: the largest unplaced share it reached, kappa and C of the kp costs."""
    rule = {"balance": fair.rule.balance, "travel": fair.rule.travel}
    price = price_of_fairness(
        allocation.summary.model_dump(mode="json"), plain.summary.model_dump(mode="json"), rule, plain.summary.status
    )
    share = result.key[1] if fair.rule.balance == "districts" else worst_share(fair, result.chosen_pair)
    price["largest_unplaced_share"] = round(float(share), SHARE_DECIMALS)
    price["without_rule"]["largest_unplaced_share"] = round(
        float(worst_share(fair, _chosen_of(fair, plain))), SHARE_DECIMALS
    )
    if fair.kappa is not None:
        price["kolm_pollak_costs"] = {"kappa": round(fair.kappa, KAPPA_DECIMALS), "scale": fair.scale}
    summary = allocation.summary.model_copy(update={"price_of_fairness": price})
    return allocation.model_copy(update={"summary": summary})


def _chosen_of(fair: FairCase, allocation: Allocation) -> IntArray:
    """A placed-or-not marker per child (only placement matters to `worst_share`)."""
    return np.array([0 if p.placed else -1 for p in allocation.placements], np.int64)
