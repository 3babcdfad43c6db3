"""Fairness figures of an allocation (summary.json `fairness`, issue 9 item 2), from the case's
models and the placements alone, and the Kolm-Pollak measure they use.

Groups: each district of children.csv (children with no district form the group NOT_GIVEN,
"(not given)", as in summary.json `districts`), in sorted order; each need present, in the
SEN2 order of `models.need.Need`; and `overall`. Per group:
* `children`, `placed` (locked children count as placed at their locked school);
* `placed_share` = placed / children;
* `within_limit_share` = placed children whose travel minutes are within their phase's limit,
  over the placed children (a family may rank a school beyond the limit);
* `mean_travel_minutes` and `p90_travel_minutes` of the placed children: the 90th percentile is
  the nearest-rank one, the smallest minutes m with at least 90% of them travelling <= m (always
  a whole number of minutes that some child travels);
* `independent_placements`: placed at a school of kind `independent`;
* `kolm_pollak_ede_minutes`: the Kolm-Pollak equally-distributed equivalent of the placed
  children's minutes x with aversion beta = -1, as the Equitable-Polling-Locations project defines
  it: kappa = beta * sum(x) / sum(x^2) and EDE = -(1 / kappa) * ln(mean(exp(-kappa * x))); kappa
  is computed once over every placed child of the round (summary `kolm_pollak.kappa`) and used for
  every group, so that groups are compared on one scale (EDE = the mean when every x is 0).
Figures of a group with no placed child are null. The largest gap in placed share between two
districts is the highest district's share less the lowest's, with both districts named.

Rounding, so that output is byte-for-byte deterministic: shares to SHARE_DECIMALS (4) decimals,
minutes (means, EDEs) to MINUTES_DECIMALS (2), kappa to KAPPA_DECIMALS (8); every figure is
computed from exact integers (fractions, `math.fsum`) before its one rounding.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from data.arrays import IntArray
from models.case import Case, SchoolKind
from models.need import Need
from models.results import Placement

NOT_GIVEN = "(not given)"
BETA = -1.0
SHARE_DECIMALS = 4
MINUTES_DECIMALS = 2
KAPPA_DECIMALS = 8


def kolm_pollak_kappa(minutes: Sequence[int], beta: float = BETA) -> float:
    """kappa = beta * sum(x) / sum(x^2), 0 when every x is 0 (or there is none)."""
    squares = sum(x * x for x in minutes)
    return beta * sum(minutes) / squares if squares else 0.0


def kolm_pollak_ede(minutes: Sequence[int] | IntArray, kappa: float) -> float:
    """-(1 / kappa) * ln(mean(exp(-kappa * x))), computed with the largest exponent taken out
    (no overflow); the mean when kappa is 0. Each distinct x's term is computed once (math.exp,
    the same term for every child with that journey) and the terms summed exactly (math.fsum),
    so the figure does not depend on the children's order."""
    values = np.asarray(minutes, np.int64)
    if values.size == 0:
        raise ValueError("the equally-distributed equivalent of no journeys")
    if kappa == 0:
        return math.fsum(values.tolist()) / values.size
    distinct, which = np.unique(values, return_inverse=True)
    exponents = [-kappa * x for x in distinct.tolist()]
    top = max(exponents)
    terms = np.array([math.exp(e - top) for e in exponents], np.float64)
    log_mean = top + math.log(math.fsum(terms[which].tolist()) / values.size)
    return -log_mean / kappa


def _share(part: int, whole: int) -> float:
    return round(float(Fraction(part, whole)), SHARE_DECIMALS) if whole else 0.0


def _nearest_rank(values: IntArray, percent: int) -> int:
    ordered = np.sort(values)
    return int(ordered[max(0, -(-percent * ordered.size // 100) - 1)])


@dataclass(frozen=True)
class _Group:
    """A group's children, and the minutes of its placed ones with how many of them travel
    within their limit and go to an independent school."""

    children: int
    minutes: IntArray
    within: int
    independent: int

    def figures(self, kappa: float) -> dict[str, Any]:
        placed = int(self.minutes.size)
        some = placed > 0
        return {
            "children": self.children,
            "placed": placed,
            "placed_share": _share(placed, self.children),
            "within_limit_share": _share(self.within, placed) if some else None,
            "mean_travel_minutes": round(math.fsum(self.minutes.tolist()) / placed, MINUTES_DECIMALS) if some else None,
            "p90_travel_minutes": _nearest_rank(self.minutes, 90) if some else None,
            "independent_placements": self.independent,
            "kolm_pollak_ede_minutes": round(kolm_pollak_ede(self.minutes, kappa), MINUTES_DECIMALS) if some else None,
        }


def district_of(district: str | None) -> str:
    return district or NOT_GIVEN


def grouped(names: Sequence[str]) -> list[tuple[str, IntArray]]:
    """Each distinct name in sorted order, with the positions holding it (ascending)."""
    ordered = sorted(set(names))
    code = {name: index for index, name in enumerate(ordered)}
    codes = np.array([code[name] for name in names], np.int64)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(ordered) + 1))
    return [(name, order[bounds[i] : bounds[i + 1]]) for i, name in enumerate(ordered)]


def fairness_figures(case: Case, placements: Sequence[Placement]) -> dict[str, Any]:
    """summary.json `fairness` (see the module docstring)."""
    independent = {school.school_id: school.kind == SchoolKind.INDEPENDENT for school in case.schools}
    limit_by_age: dict[int, int] = {}
    for child in case.children:
        if child.age not in limit_by_age:
            limit_by_age[child.age] = case.policy.travel_limit(child.age)
    placed = np.array([p.school_id is not None for p in placements], bool)
    minutes = np.array([p.travel_minutes or 0 for p in placements], np.int64)
    within = placed & (minutes <= np.array([limit_by_age[child.age] for child in case.children], np.int64))
    at_independent = np.array([p.school_id is not None and independent[p.school_id] for p in placements], bool)

    def group(members: IntArray | slice) -> _Group:
        chosen = placed[members]
        return _Group(
            children=int(chosen.size),
            minutes=minutes[members][chosen],
            within=int(within[members].sum()),
            independent=int(at_independent[members].sum()),
        )

    districts = {name: group(members) for name, members in grouped([district_of(c.district) for c in case.children])}
    needs = dict(grouped([child.need.value for child in case.children]))
    overall = group(slice(None))
    kappa = kolm_pollak_kappa(overall.minutes.tolist())
    return {
        "overall": overall.figures(kappa),
        "by_district": {name: districts[name].figures(kappa) for name in districts},
        "by_need": {need.value: group(needs[need.value]).figures(kappa) for need in Need if need.value in needs},
        "largest_placed_share_gap": largest_gap(districts),
        "kolm_pollak": {"aversion": BETA, "kappa": round(kappa, KAPPA_DECIMALS)},
    }


def largest_gap(districts: dict[str, _Group]) -> dict[str, Any]:
    """The highest placed share less the lowest, exact before rounding; ties named by the first
    district in sorted order."""
    shares = {name: Fraction(int(g.minutes.size), g.children) for name, g in sorted(districts.items())}
    if not shares:
        return {"value": 0.0, "highest": None, "lowest": None}
    highest = max(shares, key=lambda name: shares[name])
    lowest = min(shares, key=lambda name: shares[name])
    return {
        "value": round(float(shares[highest] - shares[lowest]), SHARE_DECIMALS),
        "highest": highest,
        "lowest": lowest,
    }


def price_of_fairness(
    fair: dict[str, Any], plain: dict[str, Any], rule: Mapping[str, str | None], plain_status: str
) -> dict[str, Any]:
    """summary.json `price_of_fairness`: the run with the `[fairness]` rule less the same case
    solved without it (positive = the rule costs that much more), and the run without it."""
    keys = ("preference_cost", "travel_minutes")
    gap_fair = fair["fairness"]["largest_placed_share_gap"]["value"]
    gap_plain = plain["fairness"]["largest_placed_share_gap"]["value"]
    return {
        "rule": dict(rule),
        **{key: fair[key] - plain[key] for key in keys},
        "largest_placed_share_gap": round(gap_fair - gap_plain, SHARE_DECIMALS),
        "without_rule": {
            "status": plain_status,
            **{key: plain[key] for key in keys},
            "placed": plain["placed"],
            "largest_placed_share_gap": gap_plain,
        },
    }
