"""OR-Library p-median instances (bench/data/orlib/pmed, see its COPY.md) read and written as cases.

Reading (FORMATS.md, OR-Library's pmedinfo rule): `n_vertices n_edges p`, then `i j cost`
lines (1-based, undirected); c(i,i) = 0, a repeated edge keeps its LAST cost, then
Floyd-Warshall gives the full shortest-path matrix.

As a case (the folder README): every vertex is a child (need OTH, age 10) and a candidate site
with room for all; `open_sites = p`; travel_times.csv is the full matrix; the travel limits are
huge, so every child can reach every site. The least total travel is then the p-median optimum.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

ORLIB = Path(__file__).resolve().parent / "data" / "orlib"
NO_LIMIT_MINUTES = 100_000

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PMedianInstance:
    name: str
    p: int
    distance: IntArray  # (n, n) shortest-path lengths


def read_pmed(path: Path) -> PMedianInstance:
    tokens = path.read_text().split()
    n, edges, p = (int(tokens[0]), int(tokens[1]), int(tokens[2]))
    values = np.array(tokens[3 : 3 + 3 * edges], dtype=np.float64).astype(np.int64).reshape(edges, 3)
    infinity = np.int64(10**12)
    distance = np.full((n, n), infinity, np.int64)
    np.fill_diagonal(distance, 0)
    for i, j, cost in values:  # in file order: the last copy of an edge wins
        distance[i - 1, j - 1] = cost
        distance[j - 1, i - 1] = cost
    for k in range(n):
        np.minimum(distance, distance[:, k : k + 1] + distance[k : k + 1, :], out=distance)
    return PMedianInstance(path.stem, p, distance)


def published_optima() -> dict[str, int]:
    with (ORLIB / "optima.csv").open(newline="") as handle:
        return {
            row["instance"]: int(float(row["optimum"])) for row in csv.DictReader(handle) if row["family"] == "pmed"
        }


def write_case(instance: PMedianInstance, folder: Path) -> Path:
    """Write the instance as a case folder (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = instance.distance.shape[0]
    ids = [f"V{i + 1:04d}" for i in range(n)]
    with (folder / "schools.csv").open("w", newline="") as handle:
        handle.write("school_id,name,lat,lon,age_min,age_max,kind\n")
        handle.writelines(f"{v},vertex {v},0,0,4,19,candidate\n" for v in ids)
    with (folder / "places.csv").open("w", newline="") as handle:
        handle.write("school_id,need,places\n")
        handle.writelines(f"{v},OTH,{n}\n" for v in ids)
    with (folder / "children.csv").open("w", newline="") as handle:
        handle.write("child_id,need,age,lat,lon\n")
        handle.writelines(f"{v},OTH,10,0,0\n" for v in ids)
    rows = [f"{ids[i]},{ids[j]},{int(instance.distance[i, j])}\n" for i in range(n) for j in range(n)]
    with (folder / "travel_times.csv").open("w", newline="") as handle:
        handle.write("child_id,school_id,minutes\n")
        handle.writelines(rows)
    (folder / "policy.toml").write_text(
        f"open_sites = {instance.p}\n\n[max_travel_minutes]\nprimary = {NO_LIMIT_MINUTES}\n"
        f"secondary = {NO_LIMIT_MINUTES}\n"
    )
    return folder
