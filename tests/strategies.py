"""Hypothesis strategies and builders for random valid cases (all in one place).

A `RandomCase` is a validated `models.Case` plus the travel figures "given" as if from
travel_times.csv. `loaded()` turns it into the `LoadedCase` the allocator takes, and
`write_case_folder` writes it in the contract's folder format for CLI tests.

Children and schools sit in a box of about 22 x 20 km in Lancashire, so estimated travel
minutes (30 km/h, circuity 1.3) range from 0 to about 80 and fall on both sides of the
travel limits drawn below.
"""

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from allocator.checker import TravelMinutes, independent_travel
from data.loader import LoadedCase
from data.travel import TravelTable
from models.case import (
    Case,
    Child,
    PlaceOffer,
    Policy,
    Preference,
    School,
    SchoolKind,
    TravelLimits,
)
from models.need import Need

SMALL_NEEDS = (Need.ASD, Need.SEMH, Need.SLD)
KINDS = (SchoolKind.SPECIAL, SchoolKind.RESOURCE_BASE, SchoolKind.INDEPENDENT, SchoolKind.CANDIDATE)
LAT_RANGE = (53.75, 53.95)
LON_RANGE = (-2.60, -2.30)


@dataclass(frozen=True)
class RandomCase:
    case: Case
    given: dict[tuple[str, str], int] = field(default_factory=dict)

    def loaded(self) -> LoadedCase:
        return LoadedCase(self.case, travel_table(self.case, self.given), "0" * 64)

    def travel(self) -> TravelMinutes:
        return independent_travel(self.case, self.given)


def travel_table(case: Case, given: dict[tuple[str, str], int]) -> TravelTable:
    child_index = {child.child_id: i for i, child in enumerate(case.children)}
    school_index = {school.school_id: i for i, school in enumerate(case.schools)}
    count = len(case.schools)
    items = sorted((child_index[c] * count + school_index[s], m) for (c, s), m in given.items())
    keys = np.array([key for key, _ in items], dtype=np.int64)
    minutes = np.array([m for _, m in items], dtype=np.int64)
    return TravelTable(keys, minutes, count)


def _coordinate(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(round(low * 1000), round(high * 1000)).map(lambda value: value / 1000)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    return Policy(
        open_sites=draw(st.integers(0, 2)),
        unranked_cost=draw(st.integers(0, 12)),
        max_travel_minutes=TravelLimits(
            primary=draw(st.sampled_from([30, 45, 60])), secondary=draw(st.sampled_from([45, 60, 75]))
        ),
    )


@st.composite
def tiny_cases(draw: st.DrawFn, max_children: int = 6, max_schools: int = 4) -> RandomCase:
    """1..max_children children, 1..max_schools schools (any kind, candidates included),
    needs from a small subset, places 0-2, preferences, priorities 0-2, valid locks (at
    candidate sites too, within open_sites), given travel minutes for some pairs,
    open_sites 0-2."""
    school_count = draw(st.integers(1, max_schools))
    schools = []
    for s in range(school_count):
        age_min = draw(st.integers(4, 8))
        schools.append(
            School(
                school_id=f"S{s}",
                name=f"School {s}",
                lat=draw(_coordinate(*LAT_RANGE)),
                lon=draw(_coordinate(*LON_RANGE)),
                age_min=age_min,
                age_max=draw(st.integers(max(age_min + 6, 12), 19)),
                kind=draw(st.sampled_from(KINDS)),
            )
        )
    places = []
    for school in schools:
        for need in draw(st.sets(st.sampled_from(SMALL_NEEDS), min_size=1, max_size=len(SMALL_NEEDS))):
            count = draw(st.sampled_from([1, 2, 0, 1, 2]))
            places.append(PlaceOffer(school_id=school.school_id, need=need, places=count))
    places.sort(key=lambda o: (o.school_id, o.need.value))
    offered = {(o.school_id, o.need): o.places for o in places}
    policy = draw(policies())
    open_sites = policy.open_sites
    kinds = {school.school_id: school.kind for school in schools}
    locked_sites: set[str] = set()
    lockable = draw(st.booleans())
    locked_count: dict[tuple[str, Need], int] = {}
    children = []
    for c in range(draw(st.integers(1, max_children))):
        need = draw(st.sampled_from(SMALL_NEEDS))
        age = draw(st.integers(4, 16))
        lock = None
        if lockable and draw(st.integers(0, 2)) == 0:
            # valid locks only: a free place of the need at the age; a candidate site only
            # while the sites opened by locks stay within open_sites
            options = [
                s.school_id
                for s in schools
                if (s.kind != SchoolKind.CANDIDATE or s.school_id in locked_sites or len(locked_sites) < open_sites)
                and s.takes_age(age)
                and offered.get((s.school_id, need), 0) > locked_count.get((s.school_id, need), 0)
            ]
            if options:
                lock = draw(st.sampled_from(options))
                locked_count[(lock, need)] = locked_count.get((lock, need), 0) + 1
                if kinds[lock] == SchoolKind.CANDIDATE:
                    locked_sites.add(lock)
        children.append(
            Child(
                child_id=f"K{c}",
                need=need,
                age=age,
                lat=draw(_coordinate(*LAT_RANGE)),
                lon=draw(_coordinate(*LON_RANGE)),
                priority=draw(st.integers(0, 2)),
                locked_school_id=lock,
            )
        )
    school_ids = [s.school_id for s in schools]
    preferences = []
    for child in children:
        ranked = draw(st.lists(st.sampled_from(school_ids), unique=True, max_size=min(3, len(school_ids))))
        ranks = draw(st.lists(st.integers(1, 4), unique=True, min_size=len(ranked), max_size=len(ranked)))
        preferences += [
            Preference(child_id=child.child_id, school_id=s, rank=r) for s, r in zip(ranked, ranks, strict=True)
        ]
    pairs = [(child.child_id, school_id) for child in children for school_id in school_ids]
    given_pairs = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs) // 2))
    given = {pair: draw(st.integers(0, 90)) for pair in given_pairs}
    case = Case(
        schools=tuple(schools),
        places=tuple(places),
        children=tuple(children),
        preferences=tuple(preferences),
        policy=policy,
    )
    return RandomCase(case, given)


def seeded_case(seed: int, children: int, schools: int, candidates: int, open_sites: int) -> RandomCase:
    """A larger random valid case from a seed (for solver comparisons, where shrinking a
    hundred rows helps little). `candidates` of the schools are candidate sites."""
    rng = np.random.default_rng(seed)
    needs = SMALL_NEEDS + (Need.MLD,)

    def lat() -> float:
        return round(float(rng.uniform(*LAT_RANGE)), 4)

    def lon() -> float:
        return round(float(rng.uniform(*LON_RANGE)), 4)

    school_list = []
    for s in range(schools):
        age_min = int(rng.integers(4, 12))
        kind = SchoolKind.CANDIDATE if s >= schools - candidates else KINDS[int(rng.integers(0, 3))]
        school_list.append(
            School(
                school_id=f"S{s}",
                name=f"School {s}",
                lat=lat(),
                lon=lon(),
                age_min=age_min,
                age_max=int(rng.integers(age_min + 3, 20)),
                kind=kind,
            )
        )
    places = [
        PlaceOffer(school_id=school.school_id, need=need, places=int(rng.integers(0, 6)))
        for school in school_list
        for need in needs
        if rng.random() < 0.6
    ]
    offered = {(o.school_id, o.need): o.places for o in places}
    locked_count: dict[tuple[str, Need], int] = {}
    child_list = []
    for c in range(children):
        need = needs[int(rng.integers(0, len(needs)))]
        age = int(rng.integers(4, 19))
        lock = None
        if rng.random() < 0.05:
            options = [
                s.school_id
                for s in school_list
                if s.kind != SchoolKind.CANDIDATE
                and s.takes_age(age)
                and offered.get((s.school_id, need), 0) > locked_count.get((s.school_id, need), 0)
            ]
            if options:
                lock = options[int(rng.integers(0, len(options)))]
                locked_count[(lock, need)] = locked_count.get((lock, need), 0) + 1
        child_list.append(
            Child(
                child_id=f"K{c}",
                need=need,
                age=age,
                lat=lat(),
                lon=lon(),
                priority=int(rng.choice([0, 0, 0, 1, 2])),
                locked_school_id=lock,
            )
        )
    preferences = []
    for child in child_list:
        count = int(rng.integers(0, 4))
        chosen = rng.choice(schools, size=min(count, schools), replace=False)
        preferences += [
            Preference(child_id=child.child_id, school_id=f"S{int(s)}", rank=rank + 1) for rank, s in enumerate(chosen)
        ]
    given = {
        (child.child_id, school.school_id): int(rng.integers(0, 100))
        for child in child_list
        for school in school_list
        if rng.random() < 0.2
    }
    policy = Policy(open_sites=open_sites, unranked_cost=int(rng.integers(3, 12)))
    case = Case(
        schools=tuple(school_list),
        places=tuple(places),
        children=tuple(child_list),
        preferences=tuple(preferences),
        policy=policy,
    )
    return RandomCase(case, given)


def write_case_folder(random_case: RandomCase, folder: Path) -> Path:
    """Write the case in the contract's folder format (CSV files and policy.toml)."""
    case = random_case.case
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(
        folder / "schools.csv",
        ["school_id", "name", "lat", "lon", "age_min", "age_max", "kind"],
        [[s.school_id, s.name, s.lat, s.lon, s.age_min, s.age_max, s.kind.value] for s in case.schools],
    )
    _write_csv(
        folder / "places.csv",
        ["school_id", "need", "places"],
        [[o.school_id, o.need.value, o.places] for o in case.places],
    )
    _write_csv(
        folder / "children.csv",
        ["child_id", "need", "age", "lat", "lon", "priority", "locked_school_id"],
        [[c.child_id, c.need.value, c.age, c.lat, c.lon, c.priority, c.locked_school_id or ""] for c in case.children],
    )
    _write_csv(
        folder / "preferences.csv",
        ["child_id", "school_id", "rank"],
        [[p.child_id, p.school_id, p.rank] for p in case.preferences],
    )
    _write_csv(
        folder / "travel_times.csv",
        ["child_id", "school_id", "minutes"],
        [[c, s, m] for (c, s), m in sorted(random_case.given.items())],
    )
    policy = case.policy
    objective = "" if policy.objective == "optimal" else f'objective = "{policy.objective}"\n'
    (folder / "policy.toml").write_text(
        objective + f"open_sites = {policy.open_sites}\n"
        f"unranked_cost = {policy.unranked_cost}\n\n"
        f"[max_travel_minutes]\n"
        f"primary = {policy.max_travel_minutes.primary}\n"
        f"secondary = {policy.max_travel_minutes.secondary}\n\n"
        f"[travel_estimate]\n"
        f"speed_kmh = {policy.travel_estimate.speed_kmh}\n"
        f"circuity = {policy.travel_estimate.circuity}\n",
        encoding="utf-8",
    )
    return folder


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
