"""The reference point of issue 2: pandas reads the case files, one OR-Tools min-cost flow
solves the same assignment. No validation, no explanations, no output files.

Usage: python bench/reference_flow.py CASE_DIR  -> prints placed children and seconds.
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow


def main(case: Path) -> None:
    started = time.perf_counter()
    schools = pd.read_csv(case / "schools.csv")
    places = pd.read_csv(case / "places.csv")
    children = pd.read_csv(case / "children.csv")
    preferences = pd.read_csv(case / "preferences.csv")
    travel = pd.read_csv(case / "travel_times.csv")

    children["c"] = np.arange(len(children))
    places = places[places["places"] > 0].reset_index(drop=True)
    places["b"] = np.arange(len(places))
    pairs = children[["c", "child_id", "need", "age", "priority"]].merge(places, on="need")
    pairs = pairs.merge(schools[["school_id", "age_min", "age_max"]], on="school_id")
    pairs = pairs[(pairs["age"] >= pairs["age_min"]) & (pairs["age"] <= pairs["age_max"])]
    pairs = pairs.merge(travel, on=["child_id", "school_id"])
    pairs = pairs.merge(preferences, on=["child_id", "school_id"], how="left")
    limit = np.where(pairs["age"] <= 10, 45, 75)
    pairs = pairs[(pairs["minutes"] <= limit) | pairs["rank"].notna()]

    n = len(children)
    sink = n + len(places)
    cost = pairs["rank"].fillna(10).to_numpy(np.int64) * 10_000_000 + pairs["minutes"].to_numpy(np.int64)
    unplaced = (children["priority"].to_numpy(np.int64) + 1) * 10**12
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([pairs["c"].to_numpy(), np.arange(n), n + places["b"].to_numpy()]),
        np.concatenate([n + pairs["b"].to_numpy(), np.full(n, sink), np.full(len(places), sink)]),
        np.concatenate([np.ones(len(pairs), np.int64), np.ones(n, np.int64), places["places"].to_numpy()]),
        np.concatenate([cost, unplaced, np.zeros(len(places), np.int64)]),
    )
    supplies = np.zeros(sink + 1, np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)
    assert flow.solve() == flow.OPTIMAL
    placed = int((flow.flows(np.arange(len(pairs))) > 0).sum())
    print(f"placed={placed} seconds={time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
