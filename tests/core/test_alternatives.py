"""`--alternatives K` (issue 9, item 5): every alternative is a valid optimal allocation (the
checker and the independent MILP), all are different, and on tiny cases their number equals a
brute-force enumeration of every optimal allocation."""

import csv
import io
from itertools import product
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.alternatives import with_alternatives
from allocator.checker import check_allocation
from allocator.solve import solve_round
from data.outputs import ALLOCATION_COLUMNS
from models.case import SchoolKind
from models.need import Need
from models.results import Allocation
from tests.conftest import CliRunner
from tests.core.helpers import child, make_case, objective_of, places, school
from tests.core.independent import _options, milp_levels
from tests.strategies import RandomCase, seeded_case, tiny_cases, write_case_folder

Rows = tuple[str | None, ...]


def _alternatives(random_case: RandomCase, count: int) -> tuple[Allocation, list[Allocation]]:
    loaded = random_case.loaded()
    return with_alternatives(solve_round(loaded), count, loaded.input_sha256)


def _schools(allocation: Allocation) -> Rows:
    return tuple(p.school_id for p in allocation.placements)


def tied_case(seed: int, children: int, schools: int) -> RandomCase:
    """A seeded case whose children live at two points, with no given minutes and a first
    choice for every fourth child only: many children alike to the objective, so many optimal
    allocations."""
    random_case = seeded_case(seed, children, schools, 0, 0)
    points = [(53.80, -2.40), (53.90, -2.35)]
    moved = tuple(
        c.model_copy(update={"lat": points[i % 2][0], "lon": points[i % 2][1]})
        for i, c in enumerate(random_case.case.children)
    )
    kept = {c.child_id for c in moved[::4]}
    preferences = tuple(p for p in random_case.case.preferences if p.child_id in kept and p.rank == 1)
    return RandomCase(random_case.case.model_copy(update={"children": moved, "preferences": preferences}), {})


@st.composite
def tied_tiny_cases(draw: st.DrawFn) -> RandomCase:
    """Tiny cases rich in ties: everyone at one point (0 minutes unless given), given minutes
    from {0, 5, 10}, few ranks, one or two needs, priorities 0-1, some locks."""
    schools = [school(f"S{i}") for i in range(draw(st.integers(1, 3)))]
    needs = [Need.ASD, Need.SEMH]
    offers = [places(s.school_id, draw(st.integers(0, 2)), need) for s in schools for need in needs]
    offered = {(o.school_id, o.need): o.places for o in offers}
    children = []
    for i in range(draw(st.integers(1, 6))):
        need = draw(st.sampled_from(needs))
        lock = draw(st.sampled_from([None, None, None, *(s.school_id for s in schools)]))
        if lock is not None and offered[(lock, need)] > 0:
            offered[(lock, need)] -= 1
        else:
            lock = None
        children.append(child(f"K{i}", need=need, priority=draw(st.integers(0, 1)), lock=lock))
    ranks = {(c.child_id, s.school_id): 1 for c in children for s in schools[:1] if draw(st.booleans())}
    minutes = {
        (c.child_id, s.school_id): draw(st.sampled_from([0, 5, 10]))
        for c in children
        for s in schools
        if draw(st.booleans())
    }
    return make_case(schools, offers, children, ranks=ranks, minutes=minutes)


def _every_optimal_allocation(random_case: RandomCase) -> set[Rows]:
    """Brute force from the models: every allocation with no candidate site, the best ones."""
    case = random_case.case
    choices = [[None, *(s for s, _, _ in options)] for options in _options(random_case, set())]
    places = {(o.school_id, o.need): o.places for o in case.places}
    scored: dict[Rows, tuple[tuple[int, ...], int, int]] = {}
    for schools in product(*choices):
        used: dict[tuple[str, Need], int] = {}
        for kid, school_id in zip(case.children, schools, strict=True):
            if kid.locked_school_id is not None and school_id != kid.locked_school_id:
                break
            if school_id is not None:
                used[(school_id, kid.need)] = used.get((school_id, kid.need), 0) + 1
        else:
            if all(count <= places.get(key, 0) for key, count in used.items()):
                cost = _objective(random_case, schools)
                scored[schools] = cost
    best = min(scored.values())
    return {schools for schools, cost in scored.items() if cost == best}


def _objective(random_case: RandomCase, schools: Rows) -> tuple[tuple[int, ...], int, int]:
    case = random_case.case
    travel = random_case.travel()
    ranks = {(p.child_id, p.school_id): p.rank for p in case.preferences}
    placed = [(c, s) for c, s in zip(case.children, schools, strict=True) if s is not None]
    by_tier = tuple(-sum(1 for c, _ in placed if c.priority == tier) for tier in (2, 1, 0))
    preference = sum(ranks.get((c.child_id, s), case.policy.unranked_cost) for c, s in placed)
    return by_tier, preference, sum(travel(c.child_id, s) for c, s in placed)


def _without_candidates(random_case: RandomCase) -> bool:
    return all(s.kind != SchoolKind.CANDIDATE for s in random_case.case.schools)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.one_of(tiny_cases().filter(_without_candidates), tied_tiny_cases()), st.integers(1, 40))
def test_alternatives_are_every_optimal_allocation_on_tiny_cases(random_case: RandomCase, count: int) -> None:
    every = _every_optimal_allocation(random_case)
    allocation, further = _alternatives(random_case, count)
    found = [_schools(allocation), *map(_schools, further)]
    assert len(set(found)) == len(found)  # all different
    assert set(found) <= every  # all optimal
    assert len(found) == min(count, len(every))  # as many as exist, up to K
    summary = allocation.summary.alternatives
    assert summary is not None and (summary.requested, summary.allocations) == (count, len(found))


@settings(max_examples=60, deadline=None)
@given(tiny_cases())
def test_alternatives_with_candidate_sites_are_optimal(random_case: RandomCase) -> None:
    allocation, further = _alternatives(random_case, 20)
    best = objective_of(random_case, allocation)
    travel = random_case.travel()
    for other in further:
        assert check_allocation(random_case.case, travel, other) == []
        assert objective_of(random_case, other) == best
    assert len({_schools(a) for a in [allocation, *further]}) == 1 + len(further)


@pytest.mark.parametrize("seed", range(6))
def test_alternatives_on_larger_cases_match_the_independent_model(seed: int) -> None:
    random_case = tied_case(seed, children=60, schools=8)
    allocation, further = _alternatives(random_case, 30)
    assert len(further) == 29  # ties in plenty: the test must see alternatives
    best = milp_levels(random_case)
    travel = random_case.travel()
    for other in [allocation, *further]:
        assert check_allocation(random_case.case, travel, other) == []
        assert objective_of(random_case, other) == best
        assert other.summary.placed_by_priority == allocation.summary.placed_by_priority
    assert len({_schools(a) for a in [allocation, *further]}) == 1 + len(further)


def _read_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_cli_writes_the_alternatives_beside_the_allocation(tmp_path: Path, run_cli: CliRunner) -> None:
    folder = write_case_folder(tied_case(0, 60, 8), tmp_path / "case")
    done = run_cli("solve", folder, "--out", tmp_path / "out", "--alternatives", "4")
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in (tmp_path / "out" / "alternatives").iterdir())
    assert names == ["allocation_2.csv", "allocation_3.csv", "allocation_4.csv"]
    first = (tmp_path / "out" / "allocation.csv").read_text()
    texts = [first, *((tmp_path / "out" / "alternatives" / n).read_text() for n in names)]
    assert len(set(texts)) == 4
    for text in texts:
        rows = _read_rows(text)
        assert tuple(rows[0]) == ALLOCATION_COLUMNS and len(rows) == 61
    again = run_cli("solve", folder, "--out", tmp_path / "again", "--alternatives", "4")
    assert again.returncode == 0
    assert [(tmp_path / "again" / "alternatives" / n).read_text() for n in names] == texts[1:]


@pytest.mark.parametrize("value", ["0", "101", "-3", "many"])
def test_cli_refuses_alternatives_outside_1_to_100(tmp_path: Path, run_cli: CliRunner, value: str) -> None:
    folder = write_case_folder(seeded_case(2, 10, 3, 0, 0), tmp_path / "case")
    done = run_cli("solve", folder, "--out", tmp_path / "out", "--alternatives", value)
    assert done.returncode == 2
    assert "--alternatives" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_stable_runs_have_one_allocation(tmp_path: Path, run_cli: CliRunner) -> None:
    random_case = tied_case(2, 30, 5)
    policy = random_case.case.policy.model_copy(update={"objective": "stable"})
    stable = RandomCase(random_case.case.model_copy(update={"policy": policy}), random_case.given)
    allocation, further = _alternatives(stable, 5)
    assert further == []
    assert allocation.summary.alternatives is not None and allocation.summary.alternatives.allocations == 1
