"""Small builders for hand-checked cases, and the objective recomputed from placements."""

from models.case import Case, Child, PlaceOffer, Policy, Preference, School, SchoolKind, TravelLimits
from models.need import Need
from models.results import Allocation
from tests.strategies import RandomCase

# Both at the same point: the estimate is 0 minutes unless a figure is given.
HOME = (53.8, -2.4)


def school(school_id: str, ages: tuple[int, int] = (4, 18), kind: SchoolKind = SchoolKind.SPECIAL) -> School:
    return School(
        school_id=school_id,
        name=f"{school_id} School",
        lat=HOME[0],
        lon=HOME[1],
        age_min=ages[0],
        age_max=ages[1],
        kind=kind,
    )


def child(child_id: str, need: Need = Need.ASD, age: int = 8, priority: int = 0, lock: str | None = None) -> Child:
    return Child(
        child_id=child_id, need=need, age=age, lat=HOME[0], lon=HOME[1], priority=priority, locked_school_id=lock
    )


def places(school_id: str, count: int, need: Need = Need.ASD) -> PlaceOffer:
    return PlaceOffer(school_id=school_id, need=need, places=count)


def make_case(
    schools: list[School],
    offers: list[PlaceOffer],
    children: list[Child],
    ranks: dict[tuple[str, str], int] | None = None,
    minutes: dict[tuple[str, str], int] | None = None,
    open_sites: int = 1,
    unranked_cost: int = 10,
    limits: tuple[int, int] = (45, 75),
) -> RandomCase:
    case = Case(
        schools=tuple(schools),
        places=tuple(offers),
        children=tuple(children),
        preferences=tuple(Preference(child_id=c, school_id=s, rank=r) for (c, s), r in (ranks or {}).items()),
        policy=Policy(
            open_sites=open_sites,
            unranked_cost=unranked_cost,
            max_travel_minutes=TravelLimits(primary=limits[0], secondary=limits[1]),
        ),
    )
    return RandomCase(case, dict(minutes or {}))


def objective_of(random_case: RandomCase, allocation: Allocation) -> tuple[tuple[int, ...], int, int]:
    """(placed per tier 2, 1, 0; preference cost; travel minutes), recomputed from the rows."""
    case = random_case.case
    travel = random_case.travel()
    ranks = {(p.child_id, p.school_id): p.rank for p in case.preferences}
    placed = [(c, p.school_id) for c, p in zip(case.children, allocation.placements, strict=True) if p.school_id]
    by_tier = tuple(sum(1 for c, _ in placed if c.priority == tier) for tier in (2, 1, 0))
    preference = sum(ranks.get((c.child_id, s), case.policy.unranked_cost) for c, s in placed)
    minutes = sum(travel(c.child_id, s) for c, s in placed)
    return by_tier, preference, minutes
