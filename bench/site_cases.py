"""Seeded capacitated site-choice cases in the contract's folder format (issue 12's table):
12 needs, estimated travel over a county-sized box (about 80 km across), places about 85 % of
the children, the last `candidates` schools candidate sites, `open_sites` of them to open."""

from pathlib import Path

import numpy as np
import pandas as pd

from bench.cases import write_case

PLACE_SHARE = 0.85


def write_site_case(folder: Path, children: int, schools: int, candidates: int, open_sites: int, seed: int = 7) -> Path:
    """`schools` existing schools plus `candidates` candidate sites; places over all of them."""
    write_case(folder, children, schools + candidates, full_travel=False, seed=seed)
    rng = np.random.default_rng(seed + 1)
    frame = pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False)
    frame.loc[frame.index >= schools, "kind"] = "candidate"
    frame.loc[frame.index >= schools, "name"] = [f"Candidate site {i}" for i in range(candidates)]
    frame.to_csv(folder / "schools.csv", index=False, lineterminator="\n")
    places = pd.read_csv(folder / "places.csv", dtype={"places": np.int64}, keep_default_na=False)
    weights = places["places"].to_numpy(np.float64) + 1.0
    places["places"] = rng.multinomial(int(children * PLACE_SHARE), weights / weights.sum())
    places.to_csv(folder / "places.csv", index=False, lineterminator="\n")
    (folder / "policy.toml").write_text(f"open_sites = {open_sites}\nunranked_cost = 10\n")
    return folder
