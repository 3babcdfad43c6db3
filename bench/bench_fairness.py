"""Fairness figures: policy.toml [fairness] on the Lancashire round against the plain solve,
measured in the same run.

Run: .venv/bin/python -m bench.bench_fairness [--repeats 5]
Each rule is solved in this process (case loaded once), interleaved with the plain solve so
machine noise hits each alike; the median wall time of each is printed with its ratio to the
plain solve's. A rule's run includes the plain solve it is priced against. The exit code is 1
when the balance = "districts" run is not proven optimal within 10 s.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from allocator.solve import allocate
from api.jobs import with_run_policy
from data.loader import load_case
from models.case import FairnessRule
from models.results import Allocation

LANCASHIRE = Path(__file__).resolve().parents[1] / "data" / "lancashire" / "case"
TARGET_SECONDS = 10.0
RULES = {
    "plain": FairnessRule(),
    "balance=districts": FairnessRule(balance="districts"),
    "travel=kolm_pollak": FairnessRule(travel="kolm_pollak"),
    "both": FairnessRule(balance="districts", travel="kolm_pollak"),
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    loaded = load_case(LANCASHIRE)
    cases = {name: with_run_policy(loaded, None, rule) for name, rule in RULES.items()}
    seconds: dict[str, list[float]] = {name: [] for name in RULES}
    last: dict[str, Allocation] = {}
    for _ in range(repeats):
        for name, case in cases.items():
            started = time.perf_counter()
            last[name] = allocate(case)
            seconds[name].append(time.perf_counter() - started)
    plain = statistics.median(seconds["plain"])
    print(f"Lancashire round: {len(loaded.case.children)} children, median of {repeats} in-process runs each")
    for name in RULES:
        median = statistics.median(seconds[name])
        summary = last[name].summary
        price = summary.price_of_fairness or {}
        print(
            f"{name:20s} {median:6.3f}s  x{median / plain:5.2f} of plain  {summary.status.value:8s} "
            f"placed {summary.placed}  preference {summary.preference_cost}  travel {summary.travel_minutes} min  "
            f"largest unplaced share {price.get('largest_unplaced_share', '-')}  "
            f"gap {summary.fairness['largest_placed_share_gap']['value']}"
        )
    balance = last["balance=districts"].summary
    took = statistics.median(seconds["balance=districts"])
    ok = balance.status.value == "optimal" and took < TARGET_SECONDS
    print(
        f"balance=districts: {balance.status.value} in {took:.2f}s (target: optimal < 10 s) "
        f"[{'ok' if ok else 'MISSED'}]"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
