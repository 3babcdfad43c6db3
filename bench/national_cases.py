"""Seeded national fixed-site rounds at constant density, in the contract's folder format.

One school per 100 children (1,500 at 150,000), all in a box whose area grows with the children
(about 1.33 km^2 a child: at 150,000 a box of about 200,000 km^2, England's size); no candidate
site, no travel_times.csv (the policy's `[travel_estimate]` prices every pair), three priority
tiers, places about 85 % of the children. Most families rank one to three schools near home;
one in twenty also ranks a school anywhere in the box (a distant one, always eligible because
ranked), which both links far regions and inflates the flow's weights, as the issue describes.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

NEEDS = ["ASD", "SLCN", "SEMH", "MLD", "SLD", "PD", "PMLD", "HI", "VI", "SPLD", "MSI", "OTH"]
NEED_SHARE = np.array([41, 16, 15, 10, 7, 6, 3, 1, 1, 0.7, 0.3, 0.5])
KM2_PER_CHILD = 1.33
CENTRE = (52.5, -1.5)
POLICY = """open_sites = 0
unranked_cost = 10

[max_travel_minutes]
primary = 45
secondary = 75

[travel_estimate]
speed_kmh = 30
circuity = 1.3
"""


def write_national(folder: Path, children: int, seed: int = 12) -> Path:
    """Write schools, places, children, preferences and policy for one round."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    schools = max(children // 100, 10)
    side_km = float(np.sqrt(children * KM2_PER_CHILD))
    half_lat = side_km / 2 / 111.2
    half_lon = side_km / 2 / (111.2 * np.cos(np.radians(CENTRE[0])))

    def points(count: int) -> tuple[np.ndarray, np.ndarray]:
        lat = rng.uniform(CENTRE[0] - half_lat, CENTRE[0] + half_lat, count).round(5)
        lon = rng.uniform(CENTRE[1] - half_lon, CENTRE[1] + half_lon, count).round(5)
        return lat, lon

    school_ids = np.array([f"S{i:05d}" for i in range(schools)])
    school_lat, school_lon = points(schools)
    primary = rng.random(schools) < 0.4
    all_age = rng.random(schools) < 0.3
    age_min = np.where(all_age, 4, np.where(primary, 4, 11))
    age_max = np.where(all_age, 19, np.where(primary, 11, 19))
    pd.DataFrame(
        {
            "school_id": school_ids,
            "name": [f"School {i}" for i in range(schools)],
            "lat": school_lat,
            "lon": school_lon,
            "age_min": age_min,
            "age_max": age_max,
            "kind": "special",
        }
    ).to_csv(folder / "schools.csv", index=False, lineterminator="\n")

    share = NEED_SHARE / NEED_SHARE.sum()
    place_school, place_need = [], []
    for s in range(schools):
        offered = np.sort(rng.choice(len(NEEDS), size=int(rng.integers(2, 6)), replace=False, p=share))
        place_school += [s] * offered.size
        place_need += offered.tolist()
    weights = share[np.array(place_need)]
    counts = rng.multinomial(int(children * 0.85), weights / weights.sum())
    pd.DataFrame(
        {
            "school_id": school_ids[np.array(place_school)],
            "need": np.array(NEEDS)[np.array(place_need)],
            "places": counts,
        }
    ).to_csv(folder / "places.csv", index=False, lineterminator="\n")

    child_ids = np.array([f"C{i:07d}" for i in range(children)])
    child_lat, child_lon = points(children)
    pd.DataFrame(
        {
            "child_id": child_ids,
            "need": np.array(NEEDS)[rng.choice(len(NEEDS), size=children, p=share)],
            "age": rng.integers(4, 19, children),
            "lat": child_lat,
            "lon": child_lon,
            "priority": rng.choice([0, 1, 2], size=children, p=[0.86, 0.10, 0.04]),
        }
    ).to_csv(folder / "children.csv", index=False, lineterminator="\n")

    # ranks: 60 % of families rank 1-3 of their 5 nearest schools; 5 % add one anywhere
    tree = cKDTree(np.column_stack([school_lat, school_lon * np.cos(np.radians(CENTRE[0]))]))
    _, nearest = tree.query(np.column_stack([child_lat, child_lon * np.cos(np.radians(CENTRE[0]))]), k=5)
    ranking = np.flatnonzero(rng.random(children) < 0.6)
    how_many = rng.integers(1, 4, ranking.size)
    rows_child = np.repeat(ranking, how_many)
    rows_school = nearest[rows_child, rng.integers(0, 5, rows_child.size)]
    distant = np.flatnonzero(rng.random(children) < 0.05)
    rows_child = np.concatenate([rows_child, distant])
    rows_school = np.concatenate([rows_school, rng.integers(0, schools, distant.size)])
    frame = pd.DataFrame({"c": rows_child, "s": rows_school}).drop_duplicates().sort_values("c", kind="stable")
    frame["rank"] = frame.groupby("c").cumcount() + 1
    pd.DataFrame(
        {
            "child_id": child_ids[frame["c"].to_numpy()],
            "school_id": school_ids[frame["s"].to_numpy()],
            "rank": frame["rank"],
        }
    ).to_csv(folder / "preferences.csv", index=False, lineterminator="\n")
    (folder / "policy.toml").write_text(POLICY)
    return folder
