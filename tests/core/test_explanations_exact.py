"""explanations.csv's `forced` and counterfactuals against brute force (issue 9).

The brute force is written from the pydantic models and the contract's rules alone: it
enumerates every allocation with the run's opened sites, keeps all the optimal ones, and each
counterfactual is applied to the case (one more place, a longer limit for the child, a higher
tier) and the changed case enumerated again. "The child gets X" means some optimal allocation
of the changed round gives it X; one minute less, a tier lower, or any other school, does not.
"""

from dataclasses import replace

from hypothesis import HealthCheck, given, settings

from allocator.solve import allocate
from models.case import Case, Child, PlaceOffer, SchoolKind
from models.results import Allocation, ChildExplanation, Outcome
from tests.strategies import RandomCase, tiny_cases

Assignment = tuple[str | None, ...]


def _usable(random_case: RandomCase, opened: set[str], child: Child, bonus: int) -> list[tuple[str, int, int]]:
    """(school_id, preference cost, minutes) of each school the child may take (rules 1-4),
    with `bonus` minutes added to the child's travel limit."""
    case = random_case.case
    travel = random_case.travel()
    ranks = {(p.child_id, p.school_id): p.rank for p in case.preferences}
    places = {(o.school_id, o.need): o.places for o in case.places}
    limit = case.policy.travel_limit(child.age) + bonus
    found = []
    for school in case.schools:
        rank = ranks.get((child.child_id, school.school_id))
        minutes = travel(child.child_id, school.school_id)
        if (
            places.get((school.school_id, child.need), 0) > 0
            and school.age_min <= child.age <= school.age_max
            and (rank is not None or minutes <= limit)
            and (school.kind != SchoolKind.CANDIDATE or school.school_id in opened)
        ):
            cost = rank if rank is not None else case.policy.unranked_cost
            found.append((school.school_id, cost, minutes))
    return found


def optimal_assignments(
    random_case: RandomCase, opened: set[str], bonus: tuple[str, int] | None = None
) -> list[Assignment]:
    """Every optimal allocation (school per child, None unplaced) with the sites `opened`."""
    case = random_case.case
    tiers = sorted({c.priority for c in case.children}, reverse=True)
    capacity = {(o.school_id, o.need): o.places for o in case.places}
    options: list[list[tuple[str, int, int]]] = []
    for child in case.children:
        if child.locked_school_id is not None:
            options.append([(child.locked_school_id, 0, 0)])
            continue
        extra = bonus[1] if bonus is not None and bonus[0] == child.child_id else 0
        options.append(_usable(random_case, opened, child, extra))
    ranks = {(p.child_id, p.school_id): p.rank for p in case.preferences}
    travel = random_case.travel()
    best: list[tuple[tuple[tuple[int, ...], int, int], Assignment]] = []
    current: list[str | None] = []

    def key() -> tuple[tuple[int, ...], int, int]:
        placed = [(c, s) for c, s in zip(case.children, current, strict=True) if s is not None]
        by_tier = tuple(-sum(1 for c, _ in placed if c.priority == t) for t in tiers)
        preference = sum(ranks.get((c.child_id, s), case.policy.unranked_cost) for c, s in placed)
        return by_tier, preference, sum(travel(c.child_id, s) for c, s in placed)

    def search(index: int) -> None:
        if index == len(case.children):
            found = key()
            if not best or found < best[0][0]:
                best[:] = [(found, tuple(current))]
            elif found == best[0][0]:
                best.append((found, tuple(current)))
            return
        child = case.children[index]
        for school_id, _, _ in options[index]:
            if capacity.get((school_id, child.need), 0) > 0:
                capacity[(school_id, child.need)] -= 1
                current.append(school_id)
                search(index + 1)
                current.pop()
                capacity[(school_id, child.need)] += 1
        if child.locked_school_id is None:
            current.append(None)
            search(index + 1)
            current.pop()

    search(0)
    return [assignment for _, assignment in best]


def _with_place(random_case: RandomCase, school_id: str, child: Child) -> RandomCase:
    offers = list(random_case.case.places)
    for i, offer in enumerate(offers):
        if (offer.school_id, offer.need) == (school_id, child.need):
            offers[i] = offer.model_copy(update={"places": offer.places + 1})
            break
    else:
        offers.append(PlaceOffer(school_id=school_id, need=child.need, places=1))
    return replace(random_case, case=random_case.case.model_copy(update={"places": tuple(offers)}))


def _with_priority(random_case: RandomCase, index: int, tier: int) -> RandomCase:
    children = list(random_case.case.children)
    children[index] = children[index].model_copy(update={"priority": tier})
    case: Case = random_case.case.model_copy(update={"children": tuple(children)})
    return replace(random_case, case=case)


def _gets(assignments: list[Assignment], index: int, school_id: str | None) -> bool:
    """Some optimal allocation places child `index` at `school_id` (None: anywhere)."""
    return any(a[index] is not None and (school_id is None or a[index] == school_id) for a in assignments)


def _explained(random_case: RandomCase) -> tuple[Allocation, set[str]]:
    """The run with its rows, and the sites it opened (as summary.json names them)."""
    allocation = allocate(random_case.loaded(), explain=True)
    return allocation, set(allocation.summary.opened_sites)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_cases(max_children=5, max_schools=3))
def test_forced_is_the_same_outcome_in_every_optimal_allocation(random_case: RandomCase) -> None:
    allocation, opened = _explained(random_case)
    optimal = optimal_assignments(random_case, opened)
    assert tuple(p.school_id for p in allocation.placements) in optimal
    for index, row in enumerate(allocation.explanations):
        assert row.forced == (len({a[index] for a in optimal}) == 1), row


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_cases(max_children=5, max_schools=3))
def test_add_place_applied_and_solved_again(random_case: RandomCase) -> None:
    allocation, opened = _explained(random_case)
    children = random_case.case.children
    for index, row in enumerate(allocation.explanations):
        child = children[index]
        if row.outcome is Outcome.UNPLACED:
            working = [
                (minutes, school_id)
                for school_id, _, minutes in _usable(random_case, opened, child, 0)
                if _gets(optimal_assignments(_with_place(random_case, school_id, child), opened), index, school_id)
            ]
            expected = _preferred(row, working)
        elif row.outcome in (Outcome.OTHER_CHOICE, Outcome.NOT_RANKED):
            first = row.first_choice_school_id
            assert first is not None
            usable = {s for s, _, _ in _usable(random_case, opened, child, 0)}
            works = first in usable and _gets(
                optimal_assignments(_with_place(random_case, first, child), opened), index, first
            )
            expected = first if works else None
        else:
            expected = None
        assert row.add_place_school_id == expected, row


def _preferred(row: ChildExplanation, working: list[tuple[int, str]]) -> str | None:
    if not working:
        return None
    if any(school_id == row.first_choice_school_id for _, school_id in working):
        return row.first_choice_school_id
    return min(working, key=lambda item: (item[0], int(item[1][1:])))[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_cases(max_children=5, max_schools=3))
def test_extra_minutes_and_priority_applied_and_solved_again(random_case: RandomCase) -> None:
    allocation, opened = _explained(random_case)
    children = random_case.case.children
    top = max(c.priority for c in children)
    for index, row in enumerate(allocation.explanations):
        child = children[index]
        if row.outcome is not Outcome.UNPLACED or not row.forced:
            assert row.extra_minutes is None and row.priority_needed is None, row
            continue
        longest = 10_000
        if row.extra_minutes is None:
            assert not _gets(optimal_assignments(random_case, opened, (child.child_id, longest)), index, None)
        else:
            assert row.extra_minutes >= 1
            more = (child.child_id, row.extra_minutes)
            assert _gets(optimal_assignments(random_case, opened, more), index, None), row
            less = (child.child_id, row.extra_minutes - 1)
            assert not _gets(optimal_assignments(random_case, opened, less), index, None), row
        if row.priority_needed is None:
            assert child.priority == top or not _gets(
                optimal_assignments(_with_priority(random_case, index, top), opened), index, None
            ), row
        else:
            raised = _with_priority(random_case, index, row.priority_needed)
            assert _gets(optimal_assignments(raised, opened), index, None), row
            lower = row.priority_needed - 1
            if lower > child.priority:
                assert not _gets(optimal_assignments(_with_priority(random_case, index, lower), opened), index, None)
