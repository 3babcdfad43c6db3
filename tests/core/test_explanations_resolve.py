"""Counterfactuals on larger seeded rounds, applied to the case and solved again (issue 9).

"Some optimal allocation of the changed round gives child c school s" is checked through the
contract alone: the changed round with c locked at s (a panel lock) reaches the same objective
(recomputed from allocation rows by `objective_of`) as the changed round without the lock.
"""

from dataclasses import replace

import pytest

from allocator.solve import allocate
from models.case import Child, PlaceOffer
from models.results import Outcome
from tests.core.helpers import objective_of
from tests.strategies import RandomCase, seeded_case


def _objective(random_case: RandomCase) -> tuple[tuple[int, ...], int, int]:
    return objective_of(random_case, allocate(random_case.loaded()))


def _changed(random_case: RandomCase, children: list[Child], offers: list[PlaceOffer]) -> RandomCase:
    case = random_case.case.model_copy(update={"children": tuple(children), "places": tuple(offers)})
    return replace(random_case, case=case)


def _with_place(random_case: RandomCase, school_id: str, child: Child) -> RandomCase:
    offers = [
        o.model_copy(update={"places": o.places + 1}) if (o.school_id, o.need) == (school_id, child.need) else o
        for o in random_case.case.places
    ]
    return _changed(random_case, list(random_case.case.children), offers)


def _locked(random_case: RandomCase, index: int, school_id: str) -> RandomCase:
    children = list(random_case.case.children)
    children[index] = children[index].model_copy(update={"locked_school_id": school_id})
    return _changed(random_case, children, list(random_case.case.places))


def _can_get(random_case: RandomCase, index: int, school_id: str) -> bool:
    return _objective(_locked(random_case, index, school_id)) == _objective(random_case)


@pytest.mark.parametrize("seed", range(4))
def test_add_place_and_priority_on_seeded_rounds(seed: int) -> None:
    random_case = seeded_case(seed, children=40, schools=5, candidates=0, open_sites=0)
    allocation = allocate(random_case.loaded(), explain=True)
    checked = 0
    schools = random_case.case.school_by_id()
    for index, row in enumerate(allocation.explanations):
        child = random_case.case.children[index]
        if row.add_place_school_id is not None:
            assert _can_get(_with_place(random_case, row.add_place_school_id, child), index, row.add_place_school_id)
            checked += 1
        elif row.outcome in (Outcome.OTHER_CHOICE, Outcome.NOT_RANKED) and row.first_choice_school_id is not None:
            first = row.first_choice_school_id
            if any((o.school_id, o.need) == (first, child.need) for o in random_case.case.places):
                school = random_case.case.school_by_id()[first]
                if school.age_min <= child.age <= school.age_max:
                    assert not _can_get(_with_place(random_case, first, child), index, first), row
                    checked += 1
        if row.priority_needed is not None:
            children = list(random_case.case.children)
            children[index] = child.model_copy(update={"priority": row.priority_needed})
            raised = _changed(random_case, children, list(random_case.case.places))
            placed = allocate(raised.loaded()).placements[index]
            # placed in the re-solve, or (a tie) placed at some school without loss
            assert placed.school_id is not None or any(
                _can_get(raised, index, o.school_id)
                for o in random_case.case.places
                if o.need == child.need and o.places > 0 and schools[o.school_id].takes_age(child.age)
            ), row
            checked += 1
    assert checked > 0
