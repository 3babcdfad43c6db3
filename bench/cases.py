"""Seeded synthetic cases of any size, written in the contract's folder format."""

from pathlib import Path

import numpy as np
import pandas as pd

NEEDS = ["ASD", "SLCN", "SEMH", "MLD", "SLD", "PD", "PMLD", "HI", "VI", "SPLD", "MSI", "OTH"]
NEED_SHARE = np.array([41, 16, 15, 10, 7, 6, 3, 1, 1, 0.7, 0.3, 0.5])
# A county-sized box around Lancashire.
LAT_RANGE = (53.55, 54.20)
LON_RANGE = (-3.05, -2.05)


def write_case(folder: Path, children: int, schools: int, full_travel: bool, seed: int = 7) -> Path:
    """Write schools, places, children, preferences, policy and (optionally) a full travel matrix.

    Places total about 90% of the children, so the round is over-subscribed as in Lancashire.
    Travel minutes, when written, are the estimate plus seeded noise, as a routing engine's would differ.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    school_ids = [f"S{i:04d}" for i in range(schools)]
    school_lat = rng.uniform(*LAT_RANGE, schools)
    school_lon = rng.uniform(*LON_RANGE, schools)
    primary = rng.random(schools) < 0.4
    age_min = np.where(primary, 4, 11)
    age_max = np.where(primary, 11, 19)
    all_age = rng.random(schools) < 0.3
    age_min = np.where(all_age, 4, age_min)
    age_max = np.where(all_age, 19, age_max)
    pd.DataFrame(
        {
            "school_id": school_ids,
            "name": [f"School {i}" for i in range(schools)],
            "lat": school_lat.round(6),
            "lon": school_lon.round(6),
            "age_min": age_min,
            "age_max": age_max,
            "kind": "special",
            "annual_place_cost_gbp": rng.integers(22000, 26001, schools),
        }
    ).to_csv(folder / "schools.csv", index=False, lineterminator="\n")

    share = NEED_SHARE / NEED_SHARE.sum()
    place_rows = []
    total_places = int(children * 0.9)
    for s in range(schools):
        offered = rng.choice(len(NEEDS), size=rng.integers(2, 6), replace=False, p=share)
        for need in sorted(offered):
            place_rows.append((school_ids[s], NEEDS[need], share[need]))
    weights = np.array([row[2] for row in place_rows])
    counts = rng.multinomial(total_places, weights / weights.sum())
    pd.DataFrame(
        {
            "school_id": [row[0] for row in place_rows],
            "need": [row[1] for row in place_rows],
            "places": counts,
        }
    ).to_csv(folder / "places.csv", index=False, lineterminator="\n")

    child_ids = [f"C{i:06d}" for i in range(children)]
    child_lat = rng.uniform(*LAT_RANGE, children)
    child_lon = rng.uniform(*LON_RANGE, children)
    pd.DataFrame(
        {
            "child_id": child_ids,
            "need": np.array(NEEDS)[rng.choice(len(NEEDS), size=children, p=share)],
            "age": rng.integers(4, 19, children),
            "lat": child_lat.round(6),
            "lon": child_lon.round(6),
            "priority": rng.choice([0, 1, 2], size=children, p=[0.86, 0.10, 0.04]),
            "district": np.array([f"D{d}" for d in range(12)])[rng.integers(0, 12, children)],
        }
    ).to_csv(folder / "children.csv", index=False, lineterminator="\n")

    ranked = rng.random(children) < 0.6
    pref_children = np.repeat(np.flatnonzero(ranked), 2)
    pref_schools = rng.integers(0, schools, pref_children.size)
    frame = pd.DataFrame({"c": pref_children, "s": pref_schools}).drop_duplicates()
    frame["rank"] = frame.groupby("c").cumcount() + 1
    pd.DataFrame(
        {
            "child_id": np.array(child_ids)[frame["c"]],
            "school_id": np.array(school_ids)[frame["s"]],
            "rank": frame["rank"],
        }
    ).to_csv(folder / "preferences.csv", index=False, lineterminator="\n")
    (folder / "policy.toml").write_text("open_sites = 1\nunranked_cost = 10\n")

    travel = folder / "travel_times.csv"
    if full_travel:
        km = _approx_km(child_lat[:, None], child_lon[:, None], school_lat[None, :], school_lon[None, :])
        minutes = np.ceil(km * 1.3 / 30 * 60 * rng.uniform(0.85, 1.25, km.shape)).astype(np.int64)
        with travel.open("w") as handle:
            handle.write("child_id,school_id,minutes\n")
            school_col = np.array(school_ids)
            for c in range(children):
                rows = np.char.add(np.char.add(f"{child_ids[c]},", school_col), ",")
                handle.write("\n".join(np.char.add(rows, minutes[c].astype(str))) + "\n")
    elif travel.exists():
        travel.unlink()
    return folder


def _approx_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    mean_lat = np.radians((lat1 + lat2) / 2)
    dy = (lat2 - lat1) * 111.2
    dx = (lon2 - lon1) * 111.2 * np.cos(mean_lat)
    return np.sqrt(dx * dx + dy * dy)
