"""Rank candidate sites: each opened alone against the baseline, and the best joint choice.

* baseline: no candidate opened (except sites a panel lock forces open);
* each candidate alone: the baseline's sites plus that one, allocated exactly
  (`allocator.flow.solve_flow`), with its figures and gains against the baseline:
    placed_gain = placed - baseline placed; travel_saved_minutes = baseline minutes - minutes;
    children_newly_in_reach = children with no usable school in the baseline and one now;
    cost_saved_gbp_year = baseline yearly cost - cost (places and transport);
  money is in whole pounds (`whole_pounds`), the saving the difference of the rounded costs;
* joint: the best set of up to `open_sites` candidates (`allocator.solve.solve_instance`).
Sites are ranked best first by the contract's objective of their own run, ties by site_id.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from allocator.estates.marginal import MarginalPlace, marginal_places
from allocator.flow import solve_flow
from allocator.instance import Instance, build_instance
from allocator.objective import ObjectiveValue, evaluate
from allocator.options import SolveOptions
from allocator.site_choice import site_choice
from allocator.solution import Solution
from allocator.solve import FLOW_SOLVER, solve_instance, summarise
from data.arrays import BoolArray
from data.loader import LoadedCase
from models.case import SchoolKind
from models.results import Allocation, RunStatus, RunSummary

SITE_COLUMNS = (
    "rank",
    "site_id",
    "name",
    "placed",
    "placed_gain",
    "preference_cost",
    "travel_minutes",
    "travel_saved_minutes",
    "children_newly_in_reach",
    "independent_placements_avoided",
    "cost_gbp_year",
    "cost_saved_gbp_year",
)


@dataclass(frozen=True)
class SiteEvaluation:
    """One candidate site opened alone (or the baseline / the joint choice)."""

    site_id: str
    name: str
    lat: float
    lon: float
    value: ObjectiveValue
    summary: RunSummary
    children_newly_in_reach: int


@dataclass(frozen=True)
class SitesReport:
    baseline: SiteEvaluation
    sites: tuple[SiteEvaluation, ...]  # best first
    joint: Allocation
    marginal: tuple[MarginalPlace, ...]


def evaluate_sites(loaded: LoadedCase, options: SolveOptions | None = None) -> SitesReport:
    options = options or SolveOptions()
    instance = build_instance(loaded.case, loaded.travel)
    forced = site_choice(instance).forced
    reach_before = _in_reach(instance, forced)
    baseline = _evaluate(loaded, instance, forced, "", reach_before)
    sites = []
    for index in np.flatnonzero(instance.is_candidate).tolist():
        open_sites = forced.copy()
        open_sites[index] = True
        sites.append(_evaluate(loaded, instance, open_sites, instance.case.schools[index].school_id, reach_before))
    sites.sort(key=lambda site: (site.value, site.site_id))
    started = time.perf_counter()
    joint = solve_instance(instance, options)
    joint_allocation = summarise(instance, joint, loaded.input_sha256, started)
    marginal = marginal_places(instance, joint.open_sites, joint.chosen_pair, evaluate(instance, joint.chosen_pair))
    return SitesReport(baseline, tuple(sites), joint_allocation, tuple(marginal))


def _in_reach(instance: Instance, open_sites: BoolArray) -> BoolArray:
    reach = np.zeros(instance.child_count, bool)
    reach[instance.pair_child[instance.usable_pairs(open_sites)]] = True
    return reach | (instance.locked_school >= 0)


def _evaluate(
    loaded: LoadedCase, instance: Instance, open_sites: BoolArray, site_id: str, reach_before: BoolArray
) -> SiteEvaluation:
    chosen = solve_flow(instance, open_sites)
    solution = Solution(chosen, open_sites, RunStatus.OPTIMAL, FLOW_SOLVER)
    # No timing in the site's own figures, so that sites.json is the same on every run.
    summary = summarise(instance, solution, loaded.input_sha256, time.perf_counter()).summary
    school = instance.case.school_by_id().get(site_id)
    newly = int((_in_reach(instance, open_sites) & ~reach_before).sum())
    return SiteEvaluation(
        site_id=site_id,
        name=school.name if school else "baseline (no candidate site opened)",
        lat=school.lat if school else 0.0,
        lon=school.lon if school else 0.0,
        value=evaluate(instance, chosen),
        summary=summary,
        children_newly_in_reach=newly,
    )


def independent_placements(summary: RunSummary) -> int:
    return int(sum(figures["independent_placements"] for figures in summary.districts.values()))


def whole_pounds(amount: float) -> int:
    """`amount` to the nearest whole pound, halves away from zero (23,700.5 -> 23,701; Python's
    round() would take halves to the even pound)."""
    return int(Decimal(repr(float(amount))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _costs_in_pounds(costs: Mapping[str, float]) -> dict[str, int]:
    """A summary's cost_gbp_year (places, transport, total; and places_without_cost_data, a count
    of children, already whole) in whole pounds."""
    return {key: whole_pounds(value) for key, value in costs.items()}


def site_row(site: SiteEvaluation, baseline: SiteEvaluation, rank: int) -> dict[str, object]:
    """One sites.csv row (columns SITE_COLUMNS). Money in whole pounds: cost_saved_gbp_year is the
    baseline's rounded cost minus this site's, so the two columns always agree."""
    s, b = site.summary, baseline.summary
    cost = whole_pounds(s.cost_gbp_year.get("total", 0.0))
    return {
        "rank": rank,
        "site_id": site.site_id,
        "name": site.name,
        "placed": s.placed,
        "placed_gain": s.placed - b.placed,
        "preference_cost": s.preference_cost,
        "travel_minutes": s.travel_minutes,
        "travel_saved_minutes": b.travel_minutes - s.travel_minutes,
        "children_newly_in_reach": site.children_newly_in_reach,
        "independent_placements_avoided": independent_placements(b) - independent_placements(s),
        "cost_gbp_year": cost,
        "cost_saved_gbp_year": whole_pounds(b.cost_gbp_year.get("total", 0.0)) - cost,
    }


def figures(site: SiteEvaluation) -> dict[str, object]:
    """The run's figures by tier, need and district (for sites.json; money in whole pounds)."""
    s = site.summary
    return {
        "placed": s.placed,
        "unplaced": s.unplaced,
        "placed_by_priority": s.placed_by_priority,
        "placed_by_need": s.placed_by_need,
        "preference_cost": s.preference_cost,
        "travel_minutes": s.travel_minutes,
        "districts": s.districts,
        "cost_gbp_year": _costs_in_pounds(s.cost_gbp_year),
    }


def sites_document(report: SitesReport) -> dict[str, object]:
    """sites.json: baseline, each site (row + figures), the joint choice and marginal places."""
    joint = report.joint.summary
    return {
        "baseline": figures(report.baseline),
        "sites": [
            {**site_row(site, report.baseline, rank), "lat": site.lat, "lon": site.lon, "figures": figures(site)}
            for rank, site in enumerate(report.sites, start=1)
        ],
        "joint_choice": {
            "status": joint.status.value,
            "solver": joint.solver,
            "opened_sites": joint.opened_sites,
            "placed": joint.placed,
            "placed_gain": joint.placed - report.baseline.summary.placed,
            "placed_by_priority": joint.placed_by_priority,
            "placed_by_need": joint.placed_by_need,
            "preference_cost": joint.preference_cost,
            "travel_minutes": joint.travel_minutes,
            "travel_saved_minutes": report.baseline.summary.travel_minutes - joint.travel_minutes,
            "districts": joint.districts,
            "cost_gbp_year": _costs_in_pounds(joint.cost_gbp_year),
        },
        "marginal_places": [{**m.row(), "placed_gain_by_priority": m.placed_gain_by_priority} for m in report.marginal],
    }


def sites_section(report: SitesReport) -> dict[str, object]:
    """Data for the HTML report's candidate-sites section: a map point and figures per site."""
    return {
        "title": "Candidate sites",
        "baseline": {
            "placed": report.baseline.summary.placed,
            "travel_minutes": report.baseline.summary.travel_minutes,
        },
        "joint_opened_sites": report.joint.summary.opened_sites,
        "sites": [
            {**site_row(site, report.baseline, rank), "lat": site.lat, "lon": site.lon}
            for rank, site in enumerate(report.sites, start=1)
        ],
        "kind": SchoolKind.CANDIDATE.value,
    }
