"""An independent check of a finished allocation against CONTRACT.md.

Nothing here uses `allocator.instance`'s arrays or the solvers (only the objective's level
names come from `allocator.objective`): eligibility is recomputed from the models, and the
travel estimate from geopy's geodesic, one pair at a time:

    estimated minutes = ceil(geodesic_km * circuity / speed_kmh * 60)   (WGS 84 ellipsoid)

`check_allocation` returns a list of violations (empty when the allocation is valid). It
checks validity, not optimality: optimality is tested against brute force and a second
solver in the test suite.

Checked:
* one placement per child, in children.csv order;
* every placement passes rules 1-4 (a locked child is exempt from rule 3: the panel decided);
  its travel minutes and preference rank are the case's figures;
* locks kept; places per school and need not exceeded;
* at most `open_sites` candidate sites used, each listed in `opened_sites`;
* summary figures (placed, unplaced, placed_by_priority, preference_cost, travel_minutes)
  recomputed equal; every reported level bound names a level of the objective and is not beaten
  by the allocation (equal to it when the run is `optimal`), and the gap lies in [0, 1];
* reason codes: `no_eligible_school` exactly when no school passes rules 1-4 for the child
  with the run's opened sites, else `no_place_left`; an explanation is given and names no
  other child.
"""

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from functools import cache

from geopy.distance import geodesic

from allocator.objective import PLACED_PREFIX, PREFERENCE_LEVEL, TRAVEL_LEVEL, placed_level
from models.case import Case, Child, School, SchoolKind
from models.results import Allocation, Placement, RunStatus, UnplacedReason

TravelMinutes = Callable[[str, str], int]


def independent_travel(case: Case, given: Mapping[tuple[str, str], int]) -> TravelMinutes:
    """Minutes for (child_id, school_id): the given figure, else the contract's estimate."""
    children = {child.child_id: child for child in case.children}
    schools = case.school_by_id()
    estimate = case.policy.travel_estimate

    @cache
    def minutes(child_id: str, school_id: str) -> int:
        if (child_id, school_id) in given:
            return given[(child_id, school_id)]
        child, school = children[child_id], schools[school_id]
        km = geodesic((child.lat, child.lon), (school.lat, school.lon), ellipsoid="WGS-84").km
        return math.ceil(km * estimate.circuity / estimate.speed_kmh * 60)

    return minutes


def eligible_schools(case: Case, travel_minutes: TravelMinutes, child: Child, opened_sites: set[str]) -> list[School]:
    """Schools passing rules 1-4 for `child` when `opened_sites` are opened."""
    offered = _places(case)
    ranked = _ranks(case)
    limit = case.policy.travel_limit(child.age)
    fitting = []
    for school in case.schools:
        if offered.get((school.school_id, child.need.value), 0) <= 0:
            continue
        if not school.age_min <= child.age <= school.age_max:
            continue
        if (child.child_id, school.school_id) not in ranked and travel_minutes(
            child.child_id, school.school_id
        ) > limit:
            continue
        if school.kind == SchoolKind.CANDIDATE and school.school_id not in opened_sites:
            continue
        fitting.append(school)
    return fitting


def check_allocation(case: Case, travel_minutes: TravelMinutes, allocation: Allocation) -> list[str]:
    """Every way `allocation` breaks the contract for `case`; empty when it is valid."""
    violations = _check_rows(case, allocation)
    if violations:
        return violations  # the rest assumes one row per child, in order
    opened = set(allocation.summary.opened_sites)
    violations += _check_sites(case, allocation, opened)
    violations += _check_places(case, allocation)
    for child, placement in zip(case.children, allocation.placements, strict=True):
        if placement.school_id is None:
            violations += _check_unplaced(case, travel_minutes, child, placement, opened)
        else:
            violations += _check_placed(case, travel_minutes, child, placement, opened)
    violations += _check_summary(case, travel_minutes, allocation)
    return violations


def _places(case: Case) -> dict[tuple[str, str], int]:
    return {(offer.school_id, offer.need.value): offer.places for offer in case.places}


def _ranks(case: Case) -> dict[tuple[str, str], int]:
    return {(p.child_id, p.school_id): p.rank for p in case.preferences}


def _check_rows(case: Case, allocation: Allocation) -> list[str]:
    expected = [child.child_id for child in case.children]
    given = [placement.child_id for placement in allocation.placements]
    if given == expected:
        return []
    repeated = sorted(child_id for child_id, count in Counter(given).items() if count > 1)
    missing = sorted(set(expected) - set(given))
    unknown = sorted(set(given) - set(expected))
    return [
        f"placements are not one per child in children.csv order "
        f"(repeated {repeated}, missing {missing}, unknown {unknown})"
    ]


def _check_sites(case: Case, allocation: Allocation, opened: set[str]) -> list[str]:
    schools = case.school_by_id()
    violations = []
    for site in sorted(opened):
        if site not in schools or schools[site].kind != SchoolKind.CANDIDATE:
            violations.append(f"opened site '{site}' is not a candidate site of the case")
    used = {
        p.school_id
        for p in allocation.placements
        if p.school_id in schools and schools[p.school_id].kind == SchoolKind.CANDIDATE
    }
    for site in sorted(used - opened):
        violations.append(f"candidate site '{site}' takes children but is not in opened_sites")
    open_sites = case.policy.open_sites
    if len(used | opened) > open_sites:
        violations.append(f"{len(used | opened)} candidate sites opened, more than open_sites = {open_sites}")
    return violations


def _check_places(case: Case, allocation: Allocation) -> list[str]:
    offered = _places(case)
    need_of = {child.child_id: child.need.value for child in case.children}
    taken = Counter((p.school_id, need_of[p.child_id]) for p in allocation.placements if p.school_id is not None)
    return [
        f"'{school_id}' has {offered.get((school_id, need), 0)} {need} place(s) but {count} children are placed there"
        for (school_id, need), count in sorted(taken.items())
        if count > offered.get((school_id, need), 0)
    ]


def _check_placed(
    case: Case, travel_minutes: TravelMinutes, child: Child, placement: Placement, opened: set[str]
) -> list[str]:
    who = f"child '{child.child_id}'"
    schools = case.school_by_id()
    school_id = placement.school_id
    assert school_id is not None
    if school_id not in schools:
        return [f"{who} is placed at unknown school '{school_id}'"]
    school = schools[school_id]
    violations = []
    if placement.reason is not None or placement.explanation:
        violations.append(f"{who} is placed but has a reason")
    if child.locked_school_id is not None and child.locked_school_id != school_id:
        violations.append(f"{who} is locked to '{child.locked_school_id}' but placed at '{school_id}'")
    if _places(case).get((school_id, child.need.value), 0) <= 0:
        violations.append(f"{who} breaks rule 1: '{school_id}' has no {child.need.value} places")
    if not school.age_min <= child.age <= school.age_max:
        violations.append(f"{who} breaks rule 2: '{school_id}' takes ages {school.age_min}-{school.age_max}")
    minutes = travel_minutes(child.child_id, school_id)
    rank = _ranks(case).get((child.child_id, school_id))
    limit = case.policy.travel_limit(child.age)
    if child.locked_school_id is None and rank is None and minutes > limit:
        violations.append(f"{who} breaks rule 3: {minutes} min to unranked '{school_id}', limit {limit}")
    if school.kind == SchoolKind.CANDIDATE and school_id not in opened:
        violations.append(f"{who} breaks rule 4: candidate site '{school_id}' is not opened")
    if placement.travel_minutes != minutes:
        violations.append(f"{who} travel_minutes {placement.travel_minutes}, expected {minutes}")
    if placement.preference_rank != rank:
        violations.append(f"{who} preference_rank {placement.preference_rank}, expected {rank}")
    return violations


def _check_unplaced(
    case: Case, travel_minutes: TravelMinutes, child: Child, placement: Placement, opened: set[str]
) -> list[str]:
    who = f"child '{child.child_id}'"
    violations = []
    if child.locked_school_id is not None:
        violations.append(f"{who} is locked to '{child.locked_school_id}' but unplaced")
    if placement.travel_minutes is not None or placement.preference_rank is not None:
        violations.append(f"{who} is unplaced but has travel minutes or a preference rank")
    fitting = eligible_schools(case, travel_minutes, child, opened)
    expected = UnplacedReason.NO_PLACE_LEFT if fitting else UnplacedReason.NO_ELIGIBLE_SCHOOL
    if placement.reason != expected:
        violations.append(
            f"{who} has reason {placement.reason}, expected {expected.value} ({len(fitting)} school(s) pass rules 1-4)"
        )
    if not placement.explanation.strip():
        violations.append(f"{who} is unplaced without an explanation")
    violations += _names_other_children(case, child, placement.explanation)
    return violations


def _names_other_children(case: Case, child: Child, text: str) -> list[str]:
    """Another child's id appearing as a whole word (ids that are also school ids or
    words of school names are skipped: naming the school is allowed)."""
    school_words = {school.school_id for school in case.schools}
    for school in case.schools:
        school_words.update(re.findall(r"[\w-]+", school.name))
    words = set(re.findall(r"[\w-]+", text))
    return [
        f"child '{child.child_id}' explanation names another child '{other.child_id}'"
        for other in case.children
        if other.child_id != child.child_id and other.child_id not in school_words and other.child_id in words
    ]


def _check_summary(case: Case, travel_minutes: TravelMinutes, allocation: Allocation) -> list[str]:
    summary = allocation.summary
    ranks = _ranks(case)
    placed = [(c, p) for c, p in zip(case.children, allocation.placements, strict=True) if p.school_id is not None]
    preference_cost = sum(ranks.get((c.child_id, str(p.school_id)), case.policy.unranked_cost) for c, p in placed)
    travel = sum(travel_minutes(c.child_id, str(p.school_id)) for c, p in placed)
    by_tier = Counter(str(c.priority) for c, _ in placed)
    tiers = {str(c.priority) for c in case.children}
    reported_by_tier = {tier: count for tier, count in summary.placed_by_priority.items() if count or tier in tiers}
    expected_by_tier = {tier: by_tier[tier] for tier in tiers}
    violations = []
    figures = {
        "placed": (summary.placed, len(placed)),
        "unplaced": (summary.unplaced, len(case.children) - len(placed)),
        "preference_cost": (summary.preference_cost, preference_cost),
        "travel_minutes": (summary.travel_minutes, travel),
        "placed_by_priority": (reported_by_tier, expected_by_tier),
    }
    for name, (reported, expected) in figures.items():
        if reported != expected:
            violations.append(f"summary {name} is {reported}, recomputed {expected}")
    recomputed = {placed_level(int(tier)): count for tier, count in expected_by_tier.items()}
    recomputed.update({PREFERENCE_LEVEL: preference_cost, TRAVEL_LEVEL: travel})
    return violations + _check_bounds(allocation, recomputed)


def _check_bounds(allocation: Allocation, recomputed: Mapping[str, int]) -> list[str]:
    """Each level's reported bound is one of the objective's levels, and the allocation cannot
    beat it: no more placed than a placed level's bound, no less cost than a cost level's; for
    an `optimal` run, every reported level equals the allocation's value."""
    summary = allocation.summary
    violations = []
    for name, bound in summary.objective_bound.items():
        if name not in recomputed:
            violations.append(f"summary objective_bound names '{name}', which is not a level of the objective")
            continue
        value = recomputed[name]
        beaten = value > bound if name.startswith(PLACED_PREFIX) else value < bound
        if beaten or (summary.status == RunStatus.OPTIMAL and value != bound):
            violations.append(f"summary objective_bound {name} is {bound}, the allocation attains {value}")
    if not 0.0 <= summary.gap <= 1.0:
        violations.append(f"summary gap {summary.gap} is outside [0, 1]")
    return violations
