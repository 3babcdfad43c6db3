"""Generate the bundled Lancashire demo case: real school locations, synthetic children.

Run from the project root:  ``python data/lancashire/generate.py`` (the bundled case) or
``python data/lancashire/generate.py --estates`` (the 18-site estates case).

Reads only ``data/lancashire/sources/*.csv`` (copies of public reference data) and writes
``data/lancashire/case/`` (schools, places, children, preferences, expansions CSVs and policy.toml),
or with ``--estates`` ``data/lancashire/estates/``: every site of the council's former/vacant
sites list as a candidate, the same schools with their places scaled to ESTATES_PLACE_SHARE of
ESTATES_CHILDREN synthetic children, and ``open_sites = 3`` (no expansions.csv).
Deterministic: fixed seed, one RNG stream per step, sorted iteration and fixed float
formatting, so a rerun gives byte-identical files. No real child data is used: every
child is drawn at random from published aggregate figures.
Every ASSUMED value is named in a constant or docstring below and in ``README.md``.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SEED = 20250101
HERE = Path(__file__).resolve().parent
SRC = HERE / "sources"
OUT = HERE / "case"
NEEDS = ("ASD", "SEMH", "SLCN", "MLD", "SLD", "PMLD", "SPLD", "HI", "VI", "MSI", "PD", "OTH")
AGES = tuple(range(4, 19))
N_CHILDREN = 600
N_LOCKS = 8
PREF_SHARE = 0.60
JITTER_KM = 1.5
PRIORITY_P = (0.86, 0.10, 0.04)  # tiers 0, 1 (statutory deadline passed), 2 (out of education)
EAST = ("Burnley", "Hyndburn", "Pendle", "Ribble Valley", "Rossendale")
# The estates case (--estates): a round five times the bundled one, with this year's places tight.
ESTATES_OUT = HERE / "estates"
ESTATES_CHILDREN = 3000
ESTATES_LOCKS = 40
ESTATES_PLACE_SHARE = 0.85  # ASSUMED: places of the existing schools = 85% of the children
ESTATES_STEP = 100  # estates streams are rng_for(ESTATES_STEP + step), apart from the bundled case's

# fmt: off
# ASSUMED need lists for special schools whose designation the compiled file gives (matched
# by name prefix); all other special schools take the generic learning-difficulty mix.
LD = ("ASD", "SLCN", "MLD", "SLD", "SPLD")
DESIGNATED: dict[str, tuple[str, ...]] = {
    "Applebee Wood": LD,
    "Bleasdale": ("SLD", "PMLD", "MLD", "ASD", "SLCN"),
    "Broadfield": LD,
    "Hillside": ("ASD",),
    "Kingsbury": LD,
    "The Loyne": ("SLD", "PMLD", "ASD", "PD", "HI", "VI", "MSI"),
    "Red Marsh": ("SLD", "PMLD", "ASD", "MLD", "SLCN"),
    "Royal Cross": ("HI",),
    "Tor View": ("MLD", "SLD", "PMLD", "ASD", "SLCN", "PD", "HI", "VI", "MSI"),
    "West Lancashire Community": LD,
}
# ASSUMED part of each sourced expansion that is free in this round (extra places).
EXPANSION: dict[str, int] = {
    "Acorns": 14, "Applebee Wood": 8, "Bleasdale": 12, "Brookfield": 14, "Hope High": 14,
    "The Loyne": 12, "Moorbrook": 14, "Red Marsh": 8, "West Lancashire Community": 8,
}
SMALL_BASE: dict[str, int] = {"Royal Cross": 3}  # 24-pupil HI school
# The council's programme of new special-school places (expansions.csv, for plan-places), from
# the compiled file's places_info: (what, places in all, sourced places per school, schools that
# share the rest equally (ASSUMED split, largest remainder in this order)). The part of a
# school's expansion already free this round (EXPANSION) is taken off; the rest is split over
# the school's needs like its places (ASSUMED). Left out: Red Marsh phase 3, The Coppice and
# the Kingsbury satellite (no figure given), Sir Tom Finney's +40 post-19 places (no child of
# the case is over 18).
PROGRAMME: tuple[tuple[str, int, dict[str, int], tuple[str, ...]], ...] = (
    ("February 2025 programme, 169 special-school places", 169, {"Bleasdale": 30, "The Loyne": 30},
     ("Acorns", "Brookfield", "Hope High", "Moorbrook")),
    ("Applebee Wood 147 -> 167, approved September 2023", 20, {"Applebee Wood": 20}, ()),
    ("West Lancashire Community High +20, September 2024", 20, {"West Lancashire Community": 20}, ()),
    ("2026/27 capital plan, 3 schools share up to 100 places", 100, {},
     ("Kirkham Pear Tree", "Mayfield", "White Ash")),
)
Places = dict[str, int]
LatLon = tuple[float, float]
# ASSUMED new resource bases in mainstream schools: (town proxy, places by need, ages).
RESOURCE_BASES: tuple[tuple[str, Places, int, int], ...] = (
    ("Accrington", {"ASD": 8, "SLCN": 10}, 4, 11),
    ("Burnley", {"ASD": 8, "SEMH": 4}, 11, 16),
    ("Colne", {"SLCN": 10, "ASD": 4}, 4, 11),
    ("Chorley", {"ASD": 6, "SLCN": 8}, 4, 11),
    ("Leyland", {"ASD": 10, "MLD": 4}, 11, 16),
    ("Morecambe", {"ASD": 6, "SLCN": 8}, 4, 11),
    ("Fleetwood", {"ASD": 8, "SEMH": 4}, 11, 16),
    ("Ormskirk", {"ASD": 6, "SLCN": 6}, 4, 11),
)
# ASSUMED fictional independent providers: (town, district, (lat, lon) of a town outside the
# county, or None for the town-centre proxy, places by need, ages).
INDEPENDENTS: tuple[tuple[str, str, LatLon | None, Places, int, int], ...] = (
    ("Blackburn", "Blackburn with Darwen (outside)", (53.7486, -2.4823),
     {"SEMH": 14, "ASD": 6}, 7, 18),
    ("Blackpool", "Blackpool (outside)", (53.8175, -3.0357), {"ASD": 12, "SEMH": 6}, 5, 18),
    ("Skipton", "North Yorkshire (outside)", (53.9620, -2.0170), {"SEMH": 12}, 10, 18),
    ("Clitheroe", "Ribble Valley", None, {"SEMH": 10, "ASD": 6}, 9, 18),
    ("Garstang", "Wyre", None, {"ASD": 10, "SLCN": 4}, 5, 18),
    ("Carnforth", "Lancaster", None, {"SEMH": 8, "ASD": 6}, 8, 18),
    ("Bacup", "Rossendale", None, {"SEMH": 10, "ASD": 4}, 11, 18),
)
# Candidate sites: (district, asset-name prefix in the sites file, fallback town, label, ages,
# places by need).
CANDIDATES: tuple[tuple[str, str, str, str, int, int, Places], ...] = (
    ("Hyndburn", "Oswaldtwistle Former Broadfield", "Accrington",
     "SEMH special school, 70 places", 9, 18, {"SEMH": 56, "ASD": 14}),
    ("Pendle", "Nelson Hendon Brook", "Nelson",
     "autism special school, East Lancashire", 4, 18, {"ASD": 60, "SLCN": 10, "SEMH": 10}),
    ("West Lancashire", "Skelmersdale Hope High Tanhouse", "Skelmersdale",
     "SEMH and autism special school", 9, 18, {"SEMH": 40, "ASD": 30}),
    ("Lancaster", "Lancaster Firbank", "Lancaster",
     "SEMH primary free school, 54 places", 4, 11, {"SEMH": 40, "ASD": 14}),
)
# fmt: on
POLICY = """open_sites = {open_sites}
unranked_cost = 10

[max_travel_minutes]
primary = 45
secondary = 75

[travel_estimate]
speed_kmh = 30
circuity = 1.3
"""


SCHOOL_COLUMNS = "school_id,name,lat,lon,age_min,age_max,kind,annual_place_cost_gbp,district"
CHILD_COLUMNS = "child_id,need,age,lat,lon,priority,district,ward,locked_school_id"


@dataclass
class School:
    school_id: str
    name: str
    kind: str
    district: str
    lat: float
    lon: float
    age_min: int
    age_max: int
    cost: int
    places: dict[str, int] = field(default_factory=dict)

    def row(self) -> list[object]:
        """This school as a schools.csv row (SCHOOL_COLUMNS order)."""
        s, lat, lon = self, f"{self.lat:.6f}", f"{self.lon:.6f}"
        return [s.school_id, s.name, lat, lon, s.age_min, s.age_max, s.kind, s.cost, s.district]


@dataclass
class Child:
    child_id: str
    need: str
    age: int
    lat: float
    lon: float
    priority: int
    district: str
    ward: str
    locked: str = ""

    def row(self) -> list[object]:
        """This child as a children.csv row (CHILD_COLUMNS order)."""
        c, lat, lon = self, f"{self.lat:.5f}", f"{self.lon:.5f}"
        return [c.child_id, c.need, c.age, lat, lon, c.priority, c.district, c.ward, c.locked]


@dataclass(frozen=True)
class Ward:
    district: str
    name: str
    lat: float
    lon: float
    weights: tuple[float, float, float]  # Census 2021 ages 5-10, 11-15, 16-18


Rng = np.random.Generator


def rng_for(step: int) -> Rng:
    """One independent, seeded stream per step, so changing one step leaves the others alone."""
    return np.random.default_rng([SEED, step])


def read_csv(name: str) -> list[dict[str, str]]:
    """Read one source CSV as a list of row dicts (file order)."""
    with open(SRC / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(out: Path, name: str, header: str, rows: list[list[object]]) -> None:
    """Write a case CSV: UTF-8, '\\n' line endings, header row, no index column."""
    with open(out / name, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header.split(","))
        writer.writerows(rows)


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (spherical; used only to rank nearby schools)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def minutes(child: Child, school: School) -> int:
    """Travel estimate of the contract (30 km/h, circuity 1.3), with a spherical distance."""
    return math.ceil(km(child.lat, child.lon, school.lat, school.lon) * 1.3 / 30 * 60)


def limit(age: int) -> int:
    """Phase travel limit of policy.toml: primary (age <= 10) 45 minutes, else 75."""
    return 45 if age <= 10 else 75


def mix_row(population: str) -> np.ndarray:
    """One row of need_mix_derived_pct.csv over NEEDS (NEED_UNKNOWN dropped), summing to 1."""
    row = next(r for r in read_csv("need_mix_derived_pct.csv") if r["population"] == population)
    mix = np.array([float(row[f"{n}_pct"]) for n in NEEDS])
    share: np.ndarray = mix / mix.sum()
    return share


def age_counts(name: str, column: str | None) -> np.ndarray:
    """Lancashire rows 'age N' (N in AGES) of a DfE file: one count per age in `column`, or
    (column None) one row per age of need counts over NEEDS from the number_* columns."""
    out = np.zeros((len(AGES), 1 if column else len(NEEDS)))
    for r in read_csv(name):
        m = re.fullmatch(r"age (\d+)", r["breakdown"])
        if r["area"] == "Lancashire" and m and int(m.group(1)) in AGES:
            cols = [column] if column else [f"number_{n.lower()}" for n in NEEDS]
            out[AGES.index(int(m.group(1)))] += [float(r[c]) for c in cols]
    return out


def joint_age_need() -> np.ndarray:
    """Joint P(age, need) for the children, by iterative proportional fitting.

    Age margin: DfE new plans 2022-2024 that started in a special school, ages 4-18.
    Need margin: mean of the 'new plans 2024 placed in special' and 'special schools Jan 2025'
    mixes. Seed (how need varies with age, e.g. SEMH older): Lancashire Jan 2025 plans by age.
    """
    ages = age_counts("ehcp_new_plans_by_age_placement_lancashire.csv", "special_total")[:, 0]
    new_entrants = mix_row("Lancashire new plans 2024 placed in special")
    needs = (new_entrants + mix_row("Lancashire special schools (all types) Jan2025")) / 2
    seed = age_counts("ehcp_primary_need_2025_lancashire_england.csv", None) + 0.5
    ages, needs = ages / ages.sum(), needs / needs.sum()
    for _ in range(500):
        seed *= (ages / seed.sum(axis=1))[:, None]
        col = seed.sum(axis=0)
        seed *= np.divide(needs, col, out=np.zeros_like(col), where=col > 0)[None, :]
    joint: np.ndarray = seed / seed.sum()
    return joint


def split_places(total: int, needs: tuple[str, ...], mix: np.ndarray) -> dict[str, int]:
    """Split `total` places over `needs` in proportion to `mix` (largest remainder; ties by
    NEEDS order); needs that get 0 places are left out."""
    w = np.array([mix[NEEDS.index(n)] for n in needs])
    quota = total * w / w.sum()
    out = {n: int(q) for n, q in zip(needs, quota, strict=True)}
    order = sorted(range(len(needs)), key=lambda i: (int(quota[i]) - quota[i], i))
    for i in order[: total - sum(out.values())]:
        out[needs[i]] += 1
    return {n: v for n, v in out.items() if v > 0}


def parse_ages(text: str, name: str) -> tuple[int, int]:
    """Age range from the compiled file's text; ASSUMED where only a phase or nothing is given:
    primary 4-11, secondary 11-16, secondary/post-16 11-19; blank: 11-16 for a 'High' school,
    else 4-19 (all-through)."""
    m = re.search(r"(\d+)\s*-\s*(\d+)", text)
    if m:
        return int(m.group(1)), int(m.group(2))
    if "post-16" in text:
        return 11, 19
    if "secondary" in text or (not text and " High " in name):
        return 11, 16
    return (4, 11) if "primary" in text else (4, 19)


def lookup(table: dict[str, int] | dict[str, tuple[str, ...]], name: str) -> str | None:
    """The key of `table` that `name` starts with, if any."""
    return next((k for k in sorted(table) if name.startswith(k)), None)


def special_schools(rng: Rng) -> list[School]:
    """State special schools of the compiled file that have coordinates (not Wennington Hall).

    Free places this round (ASSUMED): base 4-9 in east Lancashire, 5-12 elsewhere (schools are
    full), plus part of any sourced expansion; split over the school's designated needs, or over
    the Lancashire LA-maintained special-school need mix where no designation was sourced.
    Cost ASSUMED uniform in GBP 22,000-26,000 (published maintained range), rounded to 100.
    """
    maintained = mix_row("Lancashire LA-maintained special Jan2025")
    compiled = read_csv("lancashire_special_schools_compiled.csv")
    rows = sorted((r for r in compiled if r["lat"]), key=lambda r: r["school_name"])
    schools = []
    for i, r in enumerate(rows, start=1):
        name = r["school_name"]
        lo, hi = (4, 9) if r["district"] in EAST else (5, 12)
        small, extra, designated = (lookup(t, name) for t in (SMALL_BASE, EXPANSION, DESIGNATED))
        base = SMALL_BASE[small] if small else int(rng.integers(lo, hi + 1))
        places = split_places(
            base + (EXPANSION[extra] if extra else 0),
            DESIGNATED[designated] if designated else NEEDS,
            maintained,
        )
        a0, a1 = parse_ages(r["age_range"], name)
        cost = int(rng.integers(220, 261)) * 100
        sid, lat, lon = f"LAN-SP-{i:02d}", float(r["lat"]), float(r["lon"])
        schools.append(School(sid, name, "special", r["district"], lat, lon, a0, a1, cost, places))
    return schools


def programme_places() -> dict[str, int]:
    """Places of PROGRAMME per school (name prefix): sourced figures, and equal shares of the rest
    of a programme's total (ASSUMED). Each school must have an expansion in the compiled file."""
    compiled = read_csv("lancashire_special_schools_compiled.csv")
    out: dict[str, int] = {}
    for what, total, sourced, sharing in PROGRAMME:
        out.update(sourced)
        rest = total - sum(sourced.values())
        for i, prefix in enumerate(sharing):
            out[prefix] = rest // len(sharing) + (1 if i < rest % len(sharing) else 0)
        for prefix in (*sourced, *sharing):
            row = next(r for r in compiled if r["school_name"].startswith(prefix))
            if not row["places_info"]:
                raise ValueError(f"{what}: the compiled file gives no expansion for {row['school_name']}")
    return out


def expansions(schools: list[School]) -> Rows:
    """expansions.csv rows (school_id, need, max_extra): each programme school's places not yet
    free this round, split over its designated needs (or the LA-maintained special-school mix)
    by largest remainder, as its places are; schools in id order, needs in NEEDS order."""
    maintained = mix_row("Lancashire LA-maintained special Jan2025")
    programme, rows = programme_places(), []
    for school in schools:
        prefix = lookup(programme, school.name)
        if school.kind != "special" or prefix is None:
            continue
        already = EXPANSION.get(lookup(EXPANSION, school.name) or "", 0)
        if programme[prefix] < already:
            raise ValueError(f"{school.name}: {already} expansion places free, more than the programme's")
        designated = lookup(DESIGNATED, school.name)
        split = split_places(programme[prefix] - already, DESIGNATED[designated] if designated else NEEDS, maintained)
        rows += [[school.school_id, n, split[n]] for n in NEEDS if n in split]
    return rows


def towns() -> dict[str, tuple[str, float, float]]:
    """Town-centre proxies (a central ward's centroid): town -> (district, lat, lon)."""
    out = {}
    for r in read_csv("lancashire_main_towns_ward_centroids.csv"):
        out[r["town"]] = (r["district"], float(r["centroid_lat"]), float(r["centroid_lon"]))
    return out


def phase(age_min: int, age_max: int) -> str:
    """Label for a school's age range."""
    return "primary" if age_max <= 11 else "secondary" if age_min >= 11 else "all-through"


def resource_bases(rng: Rng) -> list[School]:
    """ASSUMED resource bases (new places of the expansion programme) at town-centre proxies;
    all their places are free (newly opened). Cost ASSUMED GBP 15,000-20,000."""
    proxies, out = towns(), []
    for i, (town, places, a0, a1) in enumerate(RESOURCE_BASES, start=1):
        district, lat, lon = proxies[town]
        name = f"Resource base ({'/'.join(places)}) in a mainstream {phase(a0, a1)} school, {town}"
        sid, cost = f"LAN-RB-{i:02d}", int(rng.integers(150, 201)) * 100
        rb = School(sid, name, "resource_base", district, lat, lon, a0, a1, cost, dict(places))
        out.append(rb)
    return out


def independents(rng: Rng) -> list[School]:
    """ASSUMED fictional independent special providers, mostly SEMH and autism, some just outside
    the county (approximate town-centre coordinates). Cost ASSUMED GBP 60,000-65,000."""
    proxies, out = towns(), []
    for i, (town, district, where, places, a0, a1) in enumerate(INDEPENDENTS, start=1):
        lat, lon = where if where else proxies[town][1:]
        name = f"Independent special provider ({'/'.join(places)}), {town}"
        sid, cost = f"LAN-IND-{i:02d}", int(rng.integers(600, 651)) * 100
        out.append(School(sid, name, "independent", district, lat, lon, a0, a1, cost, dict(places)))
    return out


def candidates() -> list[School]:
    """Candidate sites from the council's former/vacant sites list (town proxy if absent).
    Sizes from council plans where published (Hyndburn 70, Lancaster 54); other sizes, need
    mixes and ages ASSUMED. Cost ASSUMED GBP 24,000. All places free (a new school)."""
    sites = read_csv("lcc_candidate_sites_former_or_vacant.csv")
    proxies, out = towns(), []
    for i, (district, prefix, town, label, a0, a1, places) in enumerate(CANDIDATES, start=1):
        site = next((s for s in sites if s["asset_name"].startswith(prefix)), None)
        lat, lon = (float(site["lat"]), float(site["lon"])) if site else proxies[town][1:]
        where = site["asset_name"].split(" (")[0] if site else f"{town} (town-centre proxy)"
        sid, name = f"LAN-CAND-{i:02d}", f"Candidate: {label} ({where})"
        out.append(School(sid, name, "candidate", district, lat, lon, a0, a1, 24000, dict(places)))
    return out


def wards() -> list[Ward]:
    """Home areas. Districts whose Census 2021 wards all have a centroid use those wards, weighted
    by their Census 2021 age bands. Districts redrawn since (Fylde, Lancaster, Rossendale, West
    Lancashire) use current ward centroids, each ASSUMED to hold an equal share of the district."""
    bands = ("age_5_10", "age_11_15", "age_16_18")
    census = read_csv("lancashire_wards_census2021.csv")
    current = read_csv("lancashire_ward_centroids_current.csv")
    out = []
    for d in read_csv("lancashire_districts_census2021.csv"):
        if d["n_wards_census2021"] == d["n_wards_with_centroid"]:
            rows = [w for w in census if w["district"] == d["district"]]
            weights = [tuple(float(w[b]) for b in bands) for w in rows]
        else:
            rows = [w for w in current if w["district"] == d["district"]]
            weights = [tuple(float(d[b]) / len(rows) for b in bands)] * len(rows)
        for w, (b0, b1, b2) in zip(rows, weights, strict=True):
            where = float(w["centroid_lat"]), float(w["centroid_lon"])
            out.append(Ward(d["district"], w["ward_name"], *where, (b0, b1, b2)))
    return sorted(out, key=lambda w: (w.district, w.name))


def make_children(rng: Rng, count: int = N_CHILDREN) -> list[Child]:
    """Synthetic children: (age, need) from joint_age_need(); district by its Census share of the
    child's age band (5-10 also stands for age 4), then ward by its share within the district;
    home = ward centroid + uniform jitter in a JITTER_KM disc; priority tier from PRIORITY_P."""
    joint, homes = joint_age_need(), wards()
    districts = sorted({w.district for w in homes})
    by_band = np.zeros((3, len(districts)))
    for w in homes:
        by_band[:, districts.index(w.district)] += w.weights
    cells = rng.choice(joint.size, size=count, p=joint.ravel())
    children = []
    for i, cell in enumerate(cells, start=1):
        age, need = AGES[int(cell) // len(NEEDS)], NEEDS[int(cell) % len(NEEDS)]
        band = 0 if age <= 10 else 1 if age <= 15 else 2
        district = districts[int(rng.choice(len(districts), p=by_band[band] / by_band[band].sum()))]
        local = [w for w in homes if w.district == district]
        ww = np.array([w.weights[band] for w in local])
        ward = local[int(rng.choice(len(local), p=ww / ww.sum()))]
        r, theta = JITTER_KM * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        lat = round(ward.lat + r * math.cos(theta) / 111.32, 5)
        lon = round(ward.lon + r * math.sin(theta) / (111.32 * math.cos(math.radians(ward.lat))), 5)
        priority = int(rng.choice(3, p=PRIORITY_P))
        children.append(Child(f"C{i:04d}", need, age, lat, lon, priority, district, ward.name))
    return children


def suitable(child: Child, school: School) -> bool:
    """Contract rules 1 and 2: places for the child's need, and age within the school's range."""
    return school.places.get(child.need, 0) > 0 and school.age_min <= child.age <= school.age_max


def nearest(child: Child, schools: list[School], kinds: tuple[str, ...]) -> list[School]:
    """Suitable schools of the given kinds, nearest first (ties by id)."""
    pool = [s for s in schools if s.kind in kinds and suitable(child, s)]
    return sorted(pool, key=lambda s: (km(child.lat, child.lon, s.lat, s.lon), s.school_id))


def assign_locks(rng: Rng, children: list[Child], schools: list[School], locks: int = N_LOCKS) -> None:
    """Lock `locks` random children at their nearest suitable special school within their travel
    limit, never exceeding that school's places for the need (panel decisions already made)."""
    used: Counter[tuple[str, str]] = Counter()
    for idx in rng.permutation(len(children)):
        child = children[int(idx)]
        near = nearest(child, schools, ("special",))
        near = [s for s in near if minutes(child, s) <= limit(child.age)]
        if near and used[(near[0].school_id, child.need)] < near[0].places[child.need]:
            child.locked = near[0].school_id
            used[(child.locked, child.need)] += 1
        if sum(used.values()) == locks:
            return


Rows = list[list[object]]


def make_preferences(rng: Rng, children: list[Child], schools: list[School]) -> Rows:
    """About PREF_SHARE of families rank 1-3 schools: state special schools and resource bases that
    suit the child's need and age (independent only when no state school suits); each pick is one
    of the 4 nearest remaining with probability 0.85 (nearer more likely), else any remaining one.
    A locked child's first choice is the locked school."""
    by_id = {s.school_id: s for s in schools}
    rows: Rows = []
    for child in children:
        if rng.random() >= PREF_SHARE:
            continue
        k = int(rng.choice([1, 2, 3], p=[0.3, 0.35, 0.35]))
        state = nearest(child, schools, ("special", "resource_base"))
        picks = [by_id[child.locked]] if child.locked else []
        pool = [s for s in state or nearest(child, schools, ("independent",)) if s not in picks]
        while len(picks) < k and pool:
            if rng.random() < 0.85:
                w = np.array([0.45, 0.25, 0.18, 0.12][: min(4, len(pool))])
                pick = pool[int(rng.choice(len(w), p=w / w.sum()))]
            else:
                pick = pool[int(rng.integers(len(pool)))]
            picks.append(pick)
            pool.remove(pick)
        rows += [[child.child_id, s.school_id, rank] for rank, s in enumerate(picks, start=1)]
    return rows


def estates_candidates() -> list[School]:
    """Every site of the council's former/vacant sites list as a candidate, in file order after the
    four named sites of CANDIDATES (LAN-CAND-01..04, as in the bundled case). The other sites have
    no published plan: each takes the size, need mix and ages of one of the four named sites in
    turn (ASSUMED), and its district from the file or, where blank, the district of the nearest
    ward centroid. Cost ASSUMED GBP 24,000, as for the named sites."""
    named = candidates()
    homes = wards()
    out = list(named)
    others = [
        s
        for s in read_csv("lcc_candidate_sites_former_or_vacant.csv")
        if not any(s["asset_name"].startswith(prefix) for _, prefix, *_ in CANDIDATES)
    ]
    for i, site in enumerate(others):
        _, _, _, label, a0, a1, places = CANDIDATES[i % len(CANDIDATES)]
        lat, lon = float(site["lat"]), float(site["lon"])
        district = site["district"] or min(homes, key=lambda w: (km(lat, lon, w.lat, w.lon), w.name)).district
        design = label.split(",")[0].replace(" free school", " school")
        sid = f"LAN-CAND-{len(out) + 1:02d}"
        name = f"Candidate: {design}, {sum(places.values())} places, ASSUMED ({site['asset_name'].split(' (')[0]})"
        out.append(School(sid, name, "candidate", district, lat, lon, a0, a1, 24000, dict(places)))
    return out


def scale_places(schools: list[School], total: int) -> None:
    """Scale the places of every school that is not a candidate so that they add up to `total`
    (largest remainder over school and need, ties in school then NEEDS order); a school and need
    keeps at least one place. ASSUMED: a larger round has proportionally more free places."""
    cells = [(s, n) for s in schools if s.kind != "candidate" for n in NEEDS if n in s.places]
    now = sum(s.places[n] for s, n in cells)
    quota = [s.places[n] * total / now for s, n in cells]
    new = [max(1, int(q)) for q in quota]
    order = sorted(range(len(cells)), key=lambda i: (int(quota[i]) - quota[i], i))
    for i in order[: total - sum(new)]:
        new[i] += 1
    for (school, need), places in zip(cells, new, strict=True):
        school.places[need] = places


def write_case(out: Path, schools: list[School], children: list[Child], preferences: Rows, open_sites: int) -> None:
    """Write schools, places, children, preferences and policy.toml to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    places = [[s.school_id, n, s.places[n]] for s in schools for n in NEEDS if n in s.places]
    write_csv(out, "schools.csv", SCHOOL_COLUMNS, [s.row() for s in schools])
    write_csv(out, "places.csv", "school_id,need,places", places)
    write_csv(out, "children.csv", CHILD_COLUMNS, [c.row() for c in children])
    write_csv(out, "preferences.csv", "child_id,school_id,rank", preferences)
    (out / "policy.toml").write_bytes(POLICY.format(open_sites=open_sites).encode("utf-8"))
    print(f"wrote {len(schools)} schools, {len(children)} children, {len(preferences)} preferences to {out.name}/")


def existing_schools() -> list[School]:
    """Special schools, resource bases and independent providers (each from its own stream)."""
    return special_schools(rng_for(1)) + resource_bases(rng_for(2)) + independents(rng_for(3))


def main() -> None:
    """Build every part of the bundled case and write it to OUT."""
    schools = existing_schools() + candidates()
    children = make_children(rng_for(4))
    assign_locks(rng_for(5), children, schools)
    preferences = make_preferences(rng_for(6), children, schools)
    write_case(OUT, schools, children, preferences, open_sites=1)
    write_csv(OUT, "expansions.csv", "school_id,need,max_extra", expansions(schools))


def main_estates() -> None:
    """Build the 18-site estates case and write it to ESTATES_OUT: the bundled schools with their
    places scaled to ESTATES_PLACE_SHARE of ESTATES_CHILDREN children, every listed site a candidate."""
    schools = existing_schools()
    scale_places(schools, round(ESTATES_PLACE_SHARE * ESTATES_CHILDREN))
    schools += estates_candidates()
    children = make_children(rng_for(ESTATES_STEP + 4), ESTATES_CHILDREN)
    assign_locks(rng_for(ESTATES_STEP + 5), children, schools, ESTATES_LOCKS)
    preferences = make_preferences(rng_for(ESTATES_STEP + 6), children, schools)
    write_case(ESTATES_OUT, schools, children, preferences, open_sites=3)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estates", action="store_true", help="write the 18-site estates case instead")
    if parser.parse_args().estates:
        main_estates()
    else:
        main()
