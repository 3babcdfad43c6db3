"""`objective = "stable"` and summary.json `stability` (issue 9, item 4), checked from the outside:
against the `matching` package's hospital-resident solver, by blocking pairs, and by recomputing
the envy lists and the price of stability from the models and allocation rows."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
from matching.games import HospitalResident

from allocator.solve import allocate
from models.case import Case, Child, PlaceOffer, Policy, Preference, School
from models.need import Need
from models.results import Allocation
from tests.conftest import CliRunner
from tests.core.helpers import objective_of
from tests.core.stable_reference import Round, blocking_pairs, envy_and_free, placed_by_run
from tests.strategies import LAT_RANGE, LON_RANGE, SMALL_NEEDS, RandomCase, seeded_case, write_case_folder

SHA = "0" * 64  # RandomCase.loaded()'s input_sha256


def _stable(random_case: RandomCase) -> RandomCase:
    policy = random_case.case.policy.model_copy(update={"objective": "stable"})
    return RandomCase(random_case.case.model_copy(update={"policy": policy}), random_case.given)


def one_need_case(seed: int, children: int = 30, schools: int = 6) -> RandomCase:
    """Each school has places for one need only, as hospitals in the hospital-resident problem;
    no candidate sites; some locks, priorities 0-2, preferences and given minutes."""
    rng = np.random.default_rng(seed)

    def point() -> tuple[float, float]:
        return round(float(rng.uniform(*LAT_RANGE)), 4), round(float(rng.uniform(*LON_RANGE)), 4)

    school_list, offers = [], []
    for s in range(schools):
        lat, lon = point()
        school_list.append(School(school_id=f"S{s}", name=f"School {s}", lat=lat, lon=lon, age_min=4, age_max=19))
        offers.append(PlaceOffer(school_id=f"S{s}", need=SMALL_NEEDS[s % 2], places=int(rng.integers(0, 5))))
    locked: dict[str, int] = {}
    child_list = []
    for c in range(children):
        need = SMALL_NEEDS[int(rng.integers(0, 2))]
        lock = None
        own = [o for o in offers if o.need == need and o.places > locked.get(o.school_id, 0)]
        if own and rng.random() < 0.1:
            lock = own[int(rng.integers(0, len(own)))].school_id
            locked[lock] = locked.get(lock, 0) + 1
        lat, lon = point()
        child_list.append(
            Child(
                child_id=f"K{c}",
                need=need,
                age=int(rng.integers(4, 19)),
                lat=lat,
                lon=lon,
                priority=int(rng.choice([0, 0, 1, 2])),
                locked_school_id=lock,
            )
        )
    preferences = []
    for child in child_list:
        chosen = rng.choice(schools, size=int(rng.integers(0, 4)), replace=False)
        preferences += [
            Preference(child_id=child.child_id, school_id=f"S{int(s)}", rank=r + 1) for r, s in enumerate(chosen)
        ]
    given = {
        (c.child_id, s.school_id): int(rng.integers(0, 90))
        for c in child_list
        for s in school_list
        if rng.random() < 0.3
    }
    case = Case(
        schools=tuple(school_list),
        places=tuple(offers),
        children=tuple(child_list),
        preferences=tuple(preferences),
        policy=Policy(objective="stable", unranked_cost=int(rng.integers(3, 12))),
    )
    return RandomCase(case, given)


def _matching_solution(random_case: RandomCase) -> dict[str, str | None]:
    """The resident-optimal matching of the `matching` package, lists built from the models."""
    round_ = Round(random_case, set())
    case = random_case.case
    free = [c for c in case.children if c.locked_school_id is None]
    capacities = {s.school_id: sum(round_.places(s.school_id, n.value) for n in Need) for s in case.schools}
    # a school whose places all went to locked children takes no one: the same as not listing it
    residents = {c.child_id: [s for s in round_.child_list(c) if capacities[s] > 0] for c in free}
    residents = {c: listed for c, listed in residents.items() if listed}
    children = {c.child_id: c for c in free}

    def ordered(school_id: str) -> list[str]:
        listing = [c for c, listed in residents.items() if school_id in listed]
        return sorted(listing, key=lambda c: round_.school_key(children[c], school_id, SHA))

    hospitals = {s.school_id: ordered(s.school_id) for s in case.schools}
    hospitals = {school_id: held for school_id, held in hospitals.items() if held}
    capacities = {school_id: capacities[school_id] for school_id in hospitals}
    game = HospitalResident.create_from_dictionaries(residents, hospitals, capacities)
    matched = game.solve(optimal="resident")
    assert game.check_validity() and game.check_stability()
    outcome: dict[str, str | None] = {c.child_id: None for c in free}
    for hospital, held in matched.items():
        for resident in held:
            outcome[str(resident.name)] = str(hospital.name)
    return outcome


@pytest.mark.parametrize("seed", range(40))
def test_stable_equals_the_matching_package_resident_optimal(seed: int) -> None:
    random_case = one_need_case(seed)
    allocation = allocate(random_case.loaded())
    assert allocation.summary.objective == "stable"
    assert placed_by_run(random_case, allocation) == _matching_solution(random_case)


@pytest.mark.parametrize("seed", range(25))
def test_stable_allocation_has_no_blocking_pair(seed: int) -> None:
    """Several needs per school, locks, candidate sites: no child and school would both rather."""
    random_case = _stable(seeded_case(seed, children=40, schools=7, candidates=2, open_sites=1))
    allocation = allocate(random_case.loaded())
    round_ = Round(random_case, set(allocation.summary.opened_sites))
    assert blocking_pairs(round_, allocation, SHA) == []
    stability = allocation.summary.stability
    assert stability is not None
    assert (stability.justified_envy, stability.prefers_free_place) == (0, 0)


@pytest.mark.parametrize("seed", range(25))
def test_stability_lists_match_a_recomputation(seed: int) -> None:
    """Of the optimal allocation, where children do envy: the lists equal a recomputation from
    the models and the allocation rows, in children.csv order."""
    random_case = seeded_case(seed, children=40, schools=7, candidates=2, open_sites=1)
    allocation = allocate(random_case.loaded())
    envy, free = envy_and_free(Round(random_case, set(allocation.summary.opened_sites)), allocation)
    stability = allocation.summary.stability
    assert stability is not None
    assert stability.justified_envy_child_ids == envy
    assert stability.prefers_free_place_child_ids == free
    assert (stability.justified_envy, stability.prefers_free_place) == (len(envy), len(free))


def test_envy_is_found_on_a_hand_built_case() -> None:
    """The optimum places the standard-priority child nearest a school so that both are placed;
    the urgent child ranked it first and is at their second choice: justified envy."""
    from tests.core.helpers import child, make_case, places, school

    random_case = make_case(
        [school("A"), school("B")],
        [places("A", 1), places("B", 1)],
        [child("urgent", priority=1), child("standard")],
        ranks={("urgent", "A"): 1, ("urgent", "B"): 2, ("standard", "A"): 1},
        minutes={("standard", "B"): 60},
    )
    allocation = allocate(random_case.loaded())
    assert [p.school_id for p in allocation.placements] == ["B", "A"]
    stability = allocation.summary.stability
    assert stability is not None and stability.justified_envy_child_ids == ["urgent"]
    assert stability.prefers_free_place == 0
    stable = allocate(_stable(random_case).loaded())
    assert [p.school_id for p in stable.placements] == ["A", None]


def _price(random_case: RandomCase, stable: Allocation, optimal: Allocation) -> tuple[tuple[int, ...], int, int]:
    (found_placed, found_pref, found_minutes) = objective_of(random_case, stable)
    (best_placed, best_pref, best_minutes) = objective_of(random_case, optimal)
    return (
        tuple(a - b for a, b in zip(found_placed, best_placed, strict=True)),
        found_pref - best_pref,
        found_minutes - best_minutes,
    )


@pytest.mark.parametrize("seed", range(15))
def test_price_of_stability_recomputed_from_the_rows(seed: int) -> None:
    optimal_case = seeded_case(seed, children=40, schools=7, candidates=2, open_sites=1)
    optimal = allocate(optimal_case.loaded())
    stable = allocate(_stable(optimal_case).loaded())
    price = stable.summary.price_of_stability
    assert price is not None and optimal.summary.price_of_stability is None
    by_tier, preference, minutes = _price(optimal_case, stable, optimal)
    assert tuple(price.placed_by_priority.get(str(t), 0) for t in (2, 1, 0)) == by_tier
    assert (price.preference_cost, price.travel_minutes) == (preference, minutes)
    assert price.optimal_placed_by_priority == optimal.summary.placed_by_priority
    assert (price.optimal_preference_cost, price.optimal_travel_minutes) == (
        optimal.summary.preference_cost,
        optimal.summary.travel_minutes,
    )
    # the optimum is optimal: the stable allocation is never better in the contract's order
    assert (tuple(-n for n in by_tier), preference, minutes) >= ((0, 0, 0), 0, 0)


def test_lottery_is_sha256_of_input_hash_then_child_id() -> None:
    """Two children alike in every way but their ids: the smaller lottery number wins the place."""
    from tests.core.helpers import child, make_case, places, school

    random_case = _stable(make_case([school("A")], [places("A", 1)], [child("x1"), child("x2")]))
    allocation = allocate(random_case.loaded())
    lottery = {c: hashlib.sha256((SHA + c).encode()).hexdigest() for c in ("x1", "x2")}
    winner = min(lottery, key=lottery.__getitem__)
    assert [p.child_id for p in allocation.placements if p.school_id == "A"] == [winner]


def test_stable_run_writes_the_same_bytes_twice(tmp_path: Path, run_cli: CliRunner) -> None:
    folder = write_case_folder(_stable(seeded_case(3, 60, 8, 2, 1)), tmp_path / "case")
    outputs = []
    for name in ("one", "two"):
        done = run_cli("solve", folder, "--out", tmp_path / name)
        assert done.returncode == 0, done.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())})
    assert outputs[0] == outputs[1]
    assert b'"objective": "stable"' in outputs[0]["summary.json"]


def test_unknown_objective_is_located_in_policy_toml(tmp_path: Path, run_cli: CliRunner) -> None:
    folder = write_case_folder(seeded_case(1, 10, 3, 0, 0), tmp_path / "case")
    policy = folder / "policy.toml"
    policy.write_text('objective = "fair"\n' + policy.read_text())
    line = policy.read_text().splitlines().index('objective = "fair"') + 1
    done = run_cli("solve", folder, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"policy.toml:{line}: objective: 'fair' is not one of 'optimal' or 'stable'"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("value", "problem"), [("stable", None), ("fair", "'fair' is not one of 'optimal' or 'stable'")]
)
def test_workbook_policy_sheet_takes_the_objective(tmp_path: Path, value: str, problem: str | None) -> None:
    import openpyxl

    from data.workbook import load_workbook_case, write_template
    from models.problems import CaseInvalid
    from tests.test_workbook_roundtrip import fill_workbook

    template, book_path = tmp_path / "template.xlsx", tmp_path / "round.xlsx"
    write_template(template)
    fill_workbook(write_case_folder(seeded_case(1, 10, 3, 0, 0), tmp_path / "case"), template, book_path)
    book = openpyxl.load_workbook(book_path)
    book["policy"].append(["objective", value])
    row = book["policy"].max_row
    book.save(book_path)
    if problem is None:
        assert load_workbook_case(book_path).case.policy.objective == "stable"
        return
    with pytest.raises(CaseInvalid) as raised:
        load_workbook_case(book_path)
    assert raised.value.lines() == [f"policy:{row}: objective: {problem}"]
