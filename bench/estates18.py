"""Issue 12's figure for the 18-site Lancashire estates case (data/lancashire/estates): the best 3
sites jointly, proven optimal under 30 s, by the branch and bound over sites
(allocator.site_search) against brute-force enumeration (one flow per each of the C(18, 3) = 816
sets, `allocator.solve.best_over_site_sets`) in the same run, each in its own process (wall
seconds and peak memory by wait4); and the whole `allocator sites` command on the case.

Run on its own: .venv/bin/python -m bench.bench_estates --only estates18
One method alone (what the figure runs in a child process, printing JSON):
    .venv/bin/python -m bench.estates18 branch-and-bound 3
"""

import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from allocator.instance import build_instance
from allocator.objective import evaluate
from allocator.site_choice import site_choice
from allocator.site_search import branch_and_bound
from allocator.solve import best_over_site_sets
from bench.measure import run_capturing
from data.loader import load_case

ROOT = Path(__file__).resolve().parents[1]
ESTATES = ROOT / "data" / "lancashire" / "estates"
TARGET_SECONDS = 30.0
METHODS = ("branch-and-bound", "enumeration")


def solve_once(method: str, size: int) -> dict[str, object]:
    """Load the case and choose the best `size` sites by `method`; its figures (seconds exclude
    reading the case)."""
    loaded = load_case(ESTATES)
    instance = build_instance(loaded.case, loaded.travel)
    choice = site_choice(instance)
    choice = replace(choice, to_open=min(size, int(choice.choosable.size)), open_limit=size)
    started = time.perf_counter()
    if method == "branch-and-bound":
        solution = branch_and_bound(instance, choice, time_limit=300.0)
    else:
        solution = best_over_site_sets(instance, choice)
    seconds = time.perf_counter() - started
    value = evaluate(instance, solution.chosen_pair)
    opened = [instance.case.schools[i].school_id for i in range(instance.school_count) if solution.open_sites[i]]
    return {
        "seconds": seconds,
        "status": solution.status.value,
        "sets": choice.set_count,
        "opened": opened,
        "value": [value.placed_by_tier(instance.tiers()), value.preference_cost, value.travel_minutes],
    }


def estates18_figure() -> bool:
    """Print the figure's lines; True when the target is met and both methods agree."""
    runs = {}
    for method in METHODS:
        run, printed = run_capturing([sys.executable, "-m", "bench.estates18", method, "3"])
        runs[method] = (run, json.loads(printed))
    (bb_run, bb), (enum_run, enum) = runs["branch-and-bound"], runs["enumeration"]
    same = bb["value"] == enum["value"]
    ok = bb["status"] == "optimal" and same and bb_run.seconds < TARGET_SECONDS
    print(
        f"estates18: best 3 of 18 sites jointly, 3,000 children: branch and bound {bb['status']} "
        f"{bb['seconds']:.2f}s solve / {bb_run.seconds:.2f}s process, peak {bb_run.peak_mb:.0f} MB; "
        f"enumeration of {enum['sets']} sets {enum['seconds']:.2f}s / {enum_run.seconds:.2f}s, "
        f"peak {enum_run.peak_mb:.0f} MB; ratio {bb['seconds'] / enum['seconds']:.2f} (solve) "
        f"{bb_run.seconds / enum_run.seconds:.2f} (process); same objective: {same}; opened {bb['opened']} "
        f"(target: proven optimal under {TARGET_SECONDS:.0f} s) [{'ok' if ok else 'MISSED'}]"
    )
    with tempfile.TemporaryDirectory(prefix="bench_estates18_") as temp:
        out = Path(temp) / "out"
        command = [str(Path(sys.executable).parent / "allocator"), "sites", str(ESTATES), "--out", str(out)]
        run, _ = run_capturing(command)
        document = json.loads((out / "sites.json").read_text(encoding="utf-8"))
    statuses = {choice["size"]: choice["status"] for choice in document["joint_choices"]}
    whole_ok = len(document["sites"]) == 18 and set(statuses.values()) == {"optimal"}
    print(
        f"estates18: allocator sites (18 alone, best 2 and 3 together, marginal places, report) "
        f"{run.seconds:.2f}s, peak {run.peak_mb:.0f} MB, joint choices {statuses} [{'ok' if whole_ok else 'MISSED'}]"
    )
    return ok and whole_ok


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in METHODS:
        sys.exit(f"usage: python -m bench.estates18 {{{'|'.join(METHODS)}}} SIZE")
    print(json.dumps(solve_once(sys.argv[1], int(sys.argv[2]))))
