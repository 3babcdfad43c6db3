"""The reference for national fixed-site rounds (issue 12), built from the contract alone (it
reads the case's CSV files and policy.toml; no product code): pandas reads the files, a k-d tree
on 3-D unit vectors keeps the (child, school) pairs within the longest travel limit's distance
(and every ranked pair), exact WGS 84 geodesics (pyproj, the contract's estimate
ceil(km * circuity / speed * 60)) price them, and one OR-Tools min-cost flow per group of
connected components (children and places linked by usable pairs) solves the lexicographic
objective with the weights A = 1 + sum of each child's largest minutes, BIG = 1 + sum of each
child's largest pref * A + minutes, W[tier] = BIG * ordinal(tier), per group.

Usage: python bench/reference_national.py CASE_DIR  -> one JSON line: the objective levels, seconds.
"""

import json
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow
from pyproj import Geod
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

GROUP_NODES = 20_000
SPHERE_KM = 6_300.0  # below every radius of curvature of WGS 84: no geodesic is shorter than this sphere's arc


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def main(case: Path) -> None:
    started = time.perf_counter()
    policy = tomllib.loads((case / "policy.toml").read_text())
    speed, circuity = policy["travel_estimate"]["speed_kmh"], policy["travel_estimate"]["circuity"]
    primary, secondary = policy["max_travel_minutes"]["primary"], policy["max_travel_minutes"]["secondary"]
    unranked = policy["unranked_cost"]
    schools = pd.read_csv(case / "schools.csv")
    places = pd.read_csv(case / "places.csv")
    children = pd.read_csv(case / "children.csv")
    preferences = pd.read_csv(case / "preferences.csv")

    school_of = pd.Series(np.arange(len(schools)), index=schools["school_id"])
    child_of = pd.Series(np.arange(len(children)), index=children["child_id"])
    places = places[places["places"] > 0].reset_index(drop=True)
    places["b"] = np.arange(len(places))
    places["s"] = school_of[places["school_id"]].to_numpy()

    # candidate pairs: within the longest limit's distance, plus every ranked pair
    km = max(primary, secondary) * speed / 60.0 / circuity
    chord = 2 * np.sin(km / SPHERE_KM / 2)
    child_xyz = unit_vectors(children["lat"].to_numpy(), children["lon"].to_numpy())
    school_xyz = unit_vectors(schools["lat"].to_numpy(), schools["lon"].to_numpy())
    near = cKDTree(child_xyz).sparse_distance_matrix(cKDTree(school_xyz), chord, output_type="ndarray")
    ranked = pd.DataFrame(
        {
            "c": child_of[preferences["child_id"]].to_numpy(),
            "s": school_of[preferences["school_id"]].to_numpy(),
            "rank": preferences["rank"].to_numpy(),
        }
    )
    pairs = pd.concat([pd.DataFrame({"c": near["i"], "s": near["j"]}), ranked[["c", "s"]]]).drop_duplicates()
    pairs = pairs.merge(ranked, on=["c", "s"], how="left")
    pairs["need"] = children["need"].to_numpy()[pairs["c"].to_numpy()]
    pairs = pairs.merge(places[["s", "need", "b"]], on=["s", "need"])
    age = children["age"].to_numpy()[pairs["c"].to_numpy()]
    s = pairs["s"].to_numpy()
    pairs = pairs[(schools["age_min"].to_numpy()[s] <= age) & (age <= schools["age_max"].to_numpy()[s])]
    c, s = pairs["c"].to_numpy(), pairs["s"].to_numpy()
    _, _, metres = Geod(ellps="WGS84").inv(
        children["lon"].to_numpy()[c],
        children["lat"].to_numpy()[c],
        schools["lon"].to_numpy()[s],
        schools["lat"].to_numpy()[s],
    )
    minutes = np.ceil(np.round(np.asarray(metres) / 1000.0 * circuity / speed * 60.0, 9)).astype(np.int64)
    limit = np.where(children["age"].to_numpy()[c] <= 10, primary, secondary)
    rank = pairs["rank"].to_numpy()
    keep = (minutes <= limit) | ~np.isnan(rank)
    c, b, minutes = c[keep], pairs["b"].to_numpy()[keep], minutes[keep]
    cost = np.where(np.isnan(rank[keep]), unranked, rank[keep]).astype(np.int64)

    n, buckets = len(children), len(places)
    graph = coo_matrix((np.ones(c.size, np.int8), (c, n + b)), shape=(n + buckets, n + buckets))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    group_of_label = np.cumsum(sizes) // GROUP_NODES
    group = group_of_label[label[c]]
    priority = children["priority"].to_numpy()
    tiers = sorted(set(priority.tolist()))
    placed = {t: 0 for t in tiers}
    total_cost, total_minutes = 0, 0
    order = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[order], np.arange(group.max() + 2))
    for g in range(group.max() + 1):
        idx = order[starts[g] : starts[g + 1]]
        if idx.size == 0:
            continue
        kids, kid_local = np.unique(c[idx], return_inverse=True)
        bks, bk_local = np.unique(b[idx], return_inverse=True)
        largest = np.zeros(kids.size, np.int64)
        np.maximum.at(largest, kid_local, minutes[idx])
        scale = int(largest.sum()) + 1
        secondary_cost = cost[idx] * scale + minutes[idx]
        top = np.zeros(kids.size, np.int64)
        np.maximum.at(top, kid_local, secondary_cost)
        big = int(top.sum()) + 1
        ordinal = np.searchsorted(np.array(tiers), priority[kids]) + 1
        nodes = kids.size + bks.size + 1
        assert big * len(tiers) * (nodes + 1) < 2**62, "weights beyond int64 for one group"
        sink = nodes - 1
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            np.concatenate([kid_local, np.arange(kids.size), kids.size + np.arange(bks.size)]),
            np.concatenate([kids.size + bk_local, np.full(kids.size, sink), np.full(bks.size, sink)]),
            np.concatenate([np.ones(idx.size + kids.size, np.int64), places["places"].to_numpy()[bks]]),
            np.concatenate([secondary_cost, ordinal * big, np.zeros(bks.size, np.int64)]),
        )
        supplies = np.zeros(nodes, np.int64)
        supplies[: kids.size] = 1
        supplies[sink] = -kids.size
        flow.set_nodes_supplies(np.arange(nodes), supplies)
        assert flow.solve() == flow.OPTIMAL
        used = np.asarray(flow.flows(np.arange(idx.size))) > 0
        for tier, count in zip(*np.unique(priority[c[idx][used]], return_counts=True), strict=True):
            placed[int(tier)] += int(count)
        total_cost += int(cost[idx][used].sum())
        total_minutes += int(minutes[idx][used].sum())
    print(
        json.dumps(
            {
                "placed_by_priority": {str(t): placed[t] for t in tiers},
                "preference_cost": total_cost,
                "travel_minutes": total_minutes,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
