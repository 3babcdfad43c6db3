"""The array-wise writing of a run (README, "Writing large runs quickly") equals the per-child
code it replaced (`tests.core.writing_reference`) on solved random rounds: placements, summary
figures, fairness figures, explanation rows and the CSV text, byte for byte. The rounds are
crowded (few home positions and schools, so many equal journeys and shared first choices), with
districts, place costs, locks, candidate sites, families naming no school and priorities."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.explain import explain_unplaced
from allocator.explanations import explain_children
from allocator.solve import solve_round
from allocator.summary import build_allocation
from data.outputs import ALLOCATION_COLUMNS, EXPLANATION_COLUMNS, allocation_csv, explanations_csv, json_text
from models.case import Case
from models.results import FIRST_CHOICE_REASONS, Allocation, ChildExplanation
from tests.core import writing_reference as reference
from tests.strategies import RandomCase, seeded_case, tiny_cases

DISTRICTS = ("Burnley", "Preston", None, "Chorley")
COSTS = (61234.57, None, 45000.1, 0.33, 98765.43)


def crowded(random_case: RandomCase, seed: int) -> RandomCase:
    """The round with its children moved onto a few home positions, districts (some not given)
    and place costs (some unknown, with pence, so that the order of summing shows)."""
    rng = np.random.default_rng(seed)
    homes = [(c.lat, c.lon) for c in random_case.case.children[:3]]
    children = tuple(
        child.model_copy(
            update={
                "district": DISTRICTS[int(rng.integers(0, len(DISTRICTS)))],
                **dict(zip(("lat", "lon"), homes[int(rng.integers(0, len(homes)))], strict=True)),
            }
        )
        for child in random_case.case.children
    )
    schools = tuple(
        school.model_copy(update={"annual_place_cost_gbp": COSTS[int(rng.integers(0, len(COSTS)))]})
        for school in random_case.case.schools
    )
    case = Case.model_validate({**dict(random_case.case), "children": children, "schools": schools})
    return RandomCase(case, random_case.given)


def assert_writing_equals_the_reference(random_case: RandomCase) -> tuple[ChildExplanation, ...]:
    """Asserts, and returns the exact run's explanation rows."""
    run = solve_round(random_case.loaded())
    instance, solution = run.instance, run.solution
    reasons = explain_unplaced(instance, solution.chosen_pair, solution.open_sites)
    allocation = build_allocation(instance, solution, reasons, "0" * 64, 0.0)
    expected = reference.build_allocation(instance, solution, reasons, "0" * 64, 0.0)
    placements = expected.placements
    assert allocation.placements == placements
    assert json_text(allocation.summary.model_dump(mode="json")) == json_text(expected.summary.model_dump(mode="json"))
    assert allocation_csv(allocation) == reference.csv_text(
        ALLOCATION_COLUMNS,
        [
            (p.child_id, p.school_id or "", p.travel_minutes, p.preference_rank, p.reason_text)
            for p in allocation.placements
        ],
    )
    for exact in (False, True):
        rows = explain_children(instance, solution, reasons, exact)
        assert rows == reference.explain_children(instance, solution, reasons, exact)
        assert [row.why_not_first for row in rows] == [
            row.why_not_first for row in reference.explain_children(instance, solution, reasons, exact)
        ]
        assert explanations_csv(rows) == reference.csv_text(EXPLANATION_COLUMNS, [_cells(row) for row in rows])
        assert Allocation(placements=placements, summary=allocation.summary, explanations=rows)
    return rows


def _cells(row: ChildExplanation) -> tuple[object, ...]:
    forced = None if row.forced is None else ("yes" if row.forced else "no")
    return (
        row.child_id,
        row.outcome.value,
        row.school_id,
        row.first_choice_school_id,
        forced,
        row.add_place_school_id,
        row.extra_minutes,
        row.priority_needed,
        row.explanation,
    )


@pytest.mark.parametrize("seed", [3, 11, 29, 47])
def test_crowded_seeded_rounds_are_written_as_the_reference_writes_them(seed: int) -> None:
    random_case = seeded_case(seed=seed, children=160, schools=9, candidates=2, open_sites=1)
    assert_writing_equals_the_reference(crowded(random_case, seed))


def test_seeded_rounds_as_generated_are_written_as_the_reference_writes_them() -> None:
    reasons: set[str | None] = set()
    for seed in (5, 6, 7):
        random_case = seeded_case(seed=seed, children=220, schools=12, candidates=3, open_sites=2)
        reasons |= {row.why_not_first for row in assert_writing_equals_the_reference(random_case)}
    assert reasons == {None, *FIRST_CHOICE_REASONS}  # every way a first choice is explained


@settings(max_examples=40, deadline=None)
@given(tiny_cases(max_children=8, max_schools=4), st.integers(0, 2**16))
def test_tiny_rounds_are_written_as_the_reference_writes_them(random_case: RandomCase, seed: int) -> None:
    assert_writing_equals_the_reference(crowded(random_case, seed))
