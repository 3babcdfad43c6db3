"""A plain HiGHS MIP for a case with candidate sites, built from the contract files alone (not
from the product's arrays): the baseline `bench/bench_site_choice.py` measures against.

    x[p] in {0,1} per (child, school) passing rules 1-3; y[s] in {0,1} per candidate site
    sum_p of child x[p] <= 1;  sum_p in (school, need) x[p] <= places;  x[p] <= y[s(p)];
    sum_s y[s] <= open_sites
Levels, each solved by scipy.optimize.milp (HiGHS) and then fixed: placed per tier (highest
first), preference cost, travel minutes. Prints one JSON line: seconds, status, the objective.
Cases with locks or a travel_times.csv are not supported (the bench cases have neither).

Usage: python bench/reference_sites_mip.py CASE_DIR [--time-limit S]
"""

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Geod
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, vstack


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", type=Path)
    parser.add_argument("--time-limit", type=float, default=300.0)
    args = parser.parse_args()
    started = time.perf_counter()
    deadline = time.monotonic() + args.time_limit
    folder: Path = args.case
    schools = pd.read_csv(folder / "schools.csv", keep_default_na=False)
    places = pd.read_csv(folder / "places.csv", keep_default_na=False)
    children = pd.read_csv(folder / "children.csv", keep_default_na=False)
    preferences = pd.read_csv(folder / "preferences.csv", keep_default_na=False)
    policy = tomllib.loads((folder / "policy.toml").read_text())
    locks = children.get("locked_school_id", pd.Series(dtype=str)).astype(bool)
    if (folder / "travel_times.csv").exists() or locks.any():
        sys.exit("travel_times.csv and locks are not supported by this reference")
    limits = {"primary": 45, "secondary": 75, **policy.get("max_travel_minutes", {})}
    estimate = {"speed_kmh": 30.0, "circuity": 1.3, **policy.get("travel_estimate", {})}
    unranked = int(policy.get("unranked_cost", 10))
    open_sites = int(policy.get("open_sites", 1))

    school_at = {s: i for i, s in enumerate(schools["school_id"])}
    offers = places[places["places"] > 0]
    bucket_school = offers["school_id"].map(school_at).to_numpy()
    bucket_need = offers["need"].to_numpy()
    child_index = np.repeat(np.arange(len(children)), len(offers))
    bucket_index = np.tile(np.arange(len(offers)), len(children))
    need_ok = children["need"].to_numpy()[child_index] == bucket_need[bucket_index]
    child_index, bucket_index = child_index[need_ok], bucket_index[need_ok]
    school_index = bucket_school[bucket_index]
    age = children["age"].to_numpy()[child_index]
    age_ok = (schools["age_min"].to_numpy()[school_index] <= age) & (age <= schools["age_max"].to_numpy()[school_index])
    child_index, bucket_index, school_index = child_index[age_ok], bucket_index[age_ok], school_index[age_ok]
    _, _, metres = Geod(ellps="WGS84").inv(
        children["lon"].to_numpy()[child_index],
        children["lat"].to_numpy()[child_index],
        schools["lon"].to_numpy()[school_index],
        schools["lat"].to_numpy()[school_index],
    )
    # rounded to 9 places before the ceiling, as a float product of an exact value may land a hair above it
    minutes = np.ceil(np.round(metres / 1000 * estimate["circuity"] / estimate["speed_kmh"] * 60, 9)).astype(np.int64)
    rank_of = {
        (c, s): r
        for c, s, r in zip(preferences["child_id"], preferences["school_id"], preferences["rank"], strict=True)
    }
    child_ids = children["child_id"].to_numpy()
    school_ids = schools["school_id"].to_numpy()
    ranks = np.array(
        [rank_of.get((child_ids[c], school_ids[s]), 0) for c, s in zip(child_index, school_index, strict=True)]
    )
    limit = np.where(children["age"].to_numpy()[child_index] <= 10, limits["primary"], limits["secondary"])
    usable = (minutes <= limit) | (ranks > 0)
    child_index, bucket_index, school_index = child_index[usable], bucket_index[usable], school_index[usable]
    minutes, ranks = minutes[usable], ranks[usable]
    cost = np.where(ranks > 0, ranks, unranked)

    candidate = (schools["kind"] == "candidate").to_numpy()
    sites = np.flatnonzero(candidate)
    site_column = np.full(len(schools), -1)
    site_column[sites] = len(child_index) + np.arange(sites.size)
    columns = len(child_index) + sites.size
    pairs = np.arange(len(child_index))
    rows = [
        coo_matrix((np.ones(pairs.size), (child_index, pairs)), shape=(len(children), columns)),
        coo_matrix((np.ones(pairs.size), (bucket_index, pairs)), shape=(len(offers), columns)),
    ]
    at_site = np.flatnonzero(site_column[school_index] >= 0)
    link = np.arange(at_site.size)
    rows.append(
        coo_matrix(
            (
                np.concatenate([np.ones(at_site.size), -np.ones(at_site.size)]),
                (np.concatenate([link, link]), np.concatenate([at_site, site_column[school_index[at_site]]])),
            ),
            shape=(at_site.size, columns),
        )
    )
    rows.append(coo_matrix((np.ones(sites.size), (np.zeros(sites.size, int), site_column[sites])), shape=(1, columns)))
    upper = np.concatenate(
        [np.ones(len(children)), offers["places"].to_numpy(float), np.zeros(at_site.size), [open_sites]]
    )
    constraints = [LinearConstraint(vstack(rows).tocsr(), -np.inf, upper)]
    tier = children["priority"].to_numpy()[child_index] if "priority" in children else np.zeros(pairs.size, int)
    levels: list[tuple[str, np.ndarray, bool]] = [
        (f"placed_priority_{t}", (tier == t).astype(float), True) for t in sorted(set(tier.tolist()), reverse=True)
    ]
    levels += [("preference_cost", cost.astype(float), False), ("travel_minutes", minutes.astype(float), False)]
    values: dict[str, int] = {}
    proven = True
    for name, weights, maximise in levels:
        row = np.concatenate([weights, np.zeros(sites.size)])
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proven = False
            break
        result = milp(
            -row if maximise else row,
            constraints=constraints,
            integrality=np.ones(columns),
            bounds=Bounds(0, 1),
            options={"time_limit": remaining, "mip_rel_gap": 0.0},
        )
        if result.x is None:
            proven = False
            break
        value = float(row @ result.x)
        values[name] = int(round(value))
        if result.status != 0:
            proven = False
            break
        low, high = (value - 0.5, np.inf) if maximise else (-np.inf, value + 0.5)
        constraints.append(LinearConstraint(row.reshape(1, -1), low, high))
    seconds = time.perf_counter() - started
    print(json.dumps({"status": "optimal" if proven else "feasible", "seconds": round(seconds, 2), **values}))


if __name__ == "__main__":
    main()
