"""Rank candidate sites: each opened alone against the baseline, and the best joint choice.

* baseline: no candidate opened (except sites a panel lock forces open);
* each candidate alone: the baseline's sites plus that one, allocated exactly
  (`allocator.flow.solve_flow`), with its figures and gains against the baseline:
    placed_gain = placed - baseline placed; travel_saved_minutes = baseline minutes - minutes;
    children_newly_in_reach = children with no usable school in the baseline and one now;
    cost_saved_gbp_year = baseline yearly cost - cost (places and transport);
  money is in whole pounds (`whole_pounds`), the saving the difference of the rounded costs;
* joint: the best set of up to `open_sites` candidates; and, for each size k asked for
  (`together`, by default 2 to `open_sites`), the best set of up to k candidates (`best_sites`:
  one flow per set when the sets are few, as `allocator solve` does, else the branch and bound
  over sites of `allocator.site_search`; both exact);
* a site that cannot take a child (no places, or no child who could use it) is still ranked,
  with a sentence saying why (`note`); a size larger than the number of sites that can be opened
  opens them all, and its `note` says so.
Sites are ranked best first by the contract's objective of their own run, ties by site_id.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from allocator.estates.marginal import MarginalPlace, marginal_places
from allocator.flow import solve_flow
from allocator.instance import Instance, build_instance
from allocator.objective import ObjectiveValue, evaluate
from allocator.options import SolveOptions
from allocator.site_choice import SiteChoice, site_choice
from allocator.site_search import branch_and_bound
from allocator.solution import Solution
from allocator.solve import FLOW_SOLVER, best_over_site_sets, solve_instance, summarise
from allocator.status import CostsTooLarge
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
    note: str = ""  # why the site cannot take a child, when it cannot


@dataclass(frozen=True)
class JointChoice:
    """The best set of up to `size` candidate sites opened together, and its allocation."""

    size: int
    allocation: Allocation
    note: str  # a sentence when `size` is more than the sites that can be opened, else ""


@dataclass(frozen=True)
class SitesReport:
    baseline: SiteEvaluation
    sites: tuple[SiteEvaluation, ...]  # best first
    joint: Allocation
    marginal: tuple[MarginalPlace, ...]
    joint_note: str = ""  # as JointChoice.note, for open_sites
    together: tuple[JointChoice, ...] = ()  # smallest size first


DEFAULT_TOGETHER_UP_TO = 5


def default_together(open_sites: int) -> tuple[int, ...]:
    """The sizes chosen jointly when none is asked for: 2 to open_sites, at most 2 to
    DEFAULT_TOGETHER_UP_TO (none when open_sites is 0 or 1)."""
    return tuple(range(2, min(open_sites, DEFAULT_TOGETHER_UP_TO) + 1))


def evaluate_sites(
    loaded: LoadedCase, options: SolveOptions | None = None, together: Sequence[int] | None = None
) -> SitesReport:
    """Each site alone, the joint choice of up to `open_sites`, and the best set of each size in
    `together` (default `default_together(open_sites)`), with the marginal places of the joint choice."""
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
    open_limit = instance.case.policy.open_sites
    joint_started = time.perf_counter()
    joint = best_sites(instance, options, open_limit)
    joint_allocation = summarise(instance, joint, loaded.input_sha256, joint_started)
    marginal = marginal_places(instance, joint.open_sites, joint.chosen_pair, evaluate(instance, joint.chosen_pair))
    choices = []
    for size in sorted(set(default_together(open_limit) if together is None else together)):
        started = time.perf_counter()
        found = joint if size == open_limit else best_sites(instance, options, size)
        allocation = (
            joint_allocation if size == open_limit else summarise(instance, found, loaded.input_sha256, started)
        )
        choices.append(
            JointChoice(
                size, allocation, _too_many_note(instance, size, f"The best {size} sites together were asked for")
            )
        )
    joint_note = _too_many_note(instance, open_limit, f"open_sites is {open_limit}")
    return SitesReport(baseline, tuple(sites), joint_allocation, tuple(marginal), joint_note, tuple(choices))


def _choice_of(instance: Instance, size: int) -> tuple[Instance, SiteChoice]:
    """The instance with `open_sites = size`, and its choice of sites."""
    if size != instance.case.policy.open_sites:
        policy = instance.case.policy.model_copy(update={"open_sites": size})
        instance = replace(instance, case=instance.case.model_copy(update={"policy": policy}))
    return instance, site_choice(instance)


def best_sites(instance: Instance, options: SolveOptions, size: int) -> Solution:
    """The optimal allocation with up to `size` candidate sites opened together: one flow per set
    when there are at most `options.enumerate_site_sets_up_to` sets, else the branch and bound over
    sites (exact); where its encoding overflows, `allocator solve`'s own choice of method."""
    sized, choice = _choice_of(instance, size)
    if choice.set_count <= options.enumerate_site_sets_up_to:
        try:
            return best_over_site_sets(sized, choice)
        except CostsTooLarge:
            pass
    elif not options.force_cp_sat:
        try:
            return branch_and_bound(sized, choice, options.time_limit)
        except CostsTooLarge:
            pass
    return solve_instance(sized, options)


def _openable(instance: Instance) -> int:
    """How many candidate sites a run can open: those with places, and those a lock opens."""
    choice = site_choice(instance)
    return int(choice.choosable.size + choice.forced.sum())


def _too_many_note(instance: Instance, size: int, asked: str) -> str:
    """A sentence when `size` is more than the candidate sites that can be opened, else ""."""
    openable = _openable(instance)
    if size <= openable:
        return ""
    sites = "site" if openable == 1 else "sites"
    return (
        f"{asked}, more than the {openable} candidate {sites} that can be opened, so all {openable} "
        "are opened (a site that takes no child is not listed as opened)."
    )


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
        note=_unusable_note(instance, open_sites, site_id) if school else "",
    )


def _unusable_note(instance: Instance, open_sites: BoolArray, site_id: str) -> str:
    """Why a candidate site can take no child (no places, or nobody who could use it), else ""."""
    index = [school.school_id for school in instance.case.schools].index(site_id)
    if not (instance.bucket_school == index).any():
        return "This site has no places for any need in places.csv, so opening it places no child."
    locked_here = (instance.locked_school == index).any()
    if not locked_here and not (instance.pair_school[instance.usable_pairs(open_sites)] == index).any():
        return (
            "No child could use this site (none has a need it has places for, an age it takes and a home "
            "within the travel limit or a family that asked for it), so opening it places no child."
        )
    return ""


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


def _joint_document(joint: RunSummary, baseline: RunSummary, note: str) -> dict[str, object]:
    """A joint choice's figures in sites.json (money in whole pounds)."""
    return {
        "status": joint.status.value,
        "solver": joint.solver,
        "opened_sites": joint.opened_sites,
        "placed": joint.placed,
        "placed_gain": joint.placed - baseline.placed,
        "placed_by_priority": joint.placed_by_priority,
        "placed_by_need": joint.placed_by_need,
        "preference_cost": joint.preference_cost,
        "travel_minutes": joint.travel_minutes,
        "travel_saved_minutes": baseline.travel_minutes - joint.travel_minutes,
        "districts": joint.districts,
        "cost_gbp_year": _costs_in_pounds(joint.cost_gbp_year),
        "note": note,
    }


def sites_document(report: SitesReport) -> dict[str, object]:
    """sites.json: baseline, each site (row + figures + note), the joint choice, the best set of
    each size asked for (`joint_choices`, smallest first) and marginal places."""
    baseline = report.baseline.summary
    return {
        "baseline": figures(report.baseline),
        "sites": [
            {
                **site_row(site, report.baseline, rank),
                "lat": site.lat,
                "lon": site.lon,
                "figures": figures(site),
                "note": site.note,
            }
            for rank, site in enumerate(report.sites, start=1)
        ],
        "joint_choice": _joint_document(report.joint.summary, baseline, report.joint_note),
        "joint_choices": [
            {"size": choice.size, **_joint_document(choice.allocation.summary, baseline, choice.note)}
            for choice in report.together
        ],
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
        "joint_note": report.joint_note,
        "together": [
            {
                "size": choice.size,
                "status": choice.allocation.summary.status.value,
                "opened_sites": choice.allocation.summary.opened_sites,
                "placed": choice.allocation.summary.placed,
                "travel_minutes": choice.allocation.summary.travel_minutes,
                "note": choice.note,
            }
            for choice in report.together
        ],
        "sites": [
            {**site_row(site, report.baseline, rank), "lat": site.lat, "lon": site.lon, "note": site.note}
            for rank, site in enumerate(report.sites, start=1)
        ],
        "kind": SchoolKind.CANDIDATE.value,
    }
