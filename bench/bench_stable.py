"""Issue 9 figure: `objective = "stable"` on 20,000 children x 200 schools under 10 s, against a
plain (optimal) solve of the same case in the same run.

Both are whole `allocator solve` runs (reading the case, a full travel matrix, solving, writing);
the stable run also solves the optimum (for `price_of_stability` and the open sites), so its extra
time over the plain run is deferred acceptance plus the stability figures. In-process, the
deferred acceptance alone is timed too. Medians of `--repeats` runs; the case is bench/cases.py's
(the one bench/bench_allocation.py uses).

Also printed: `--alternatives 100` on the bundled Lancashire round against its plain solve (whole
commands, medians), with the number of alternatives found.

Usage: python -m bench.bench_stable [--repeats N] [--children N --schools N]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from allocator.instance import build_instance  # noqa: E402
from allocator.options import SolveOptions  # noqa: E402
from allocator.solve import solve_instance  # noqa: E402
from allocator.stable import stable_solution  # noqa: E402
from bench.cases import write_case  # noqa: E402
from bench.measure import median_runs  # noqa: E402
from data.loader import load_case  # noqa: E402
from report.bundle import bundled_case  # noqa: E402

BIN = Path(sys.executable).parent
TARGET_SECONDS = 10.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--schools", type=int, default=200)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    work = ROOT / "bench" / "out"
    plain = write_case(work / f"case_{args.children}x{args.schools}", args.children, args.schools, full_travel=True)
    stable = work / f"case_{args.children}x{args.schools}_stable"
    shutil.rmtree(stable, ignore_errors=True)
    shutil.copytree(plain, stable)
    policy = stable / "policy.toml"
    policy.write_text('objective = "stable"\n' + policy.read_text())
    runs = median_runs(
        {
            "plain solve": [str(BIN / "allocator"), "solve", str(plain), "--out", str(work / "out_plain")],
            "stable solve": [str(BIN / "allocator"), "solve", str(stable), "--out", str(work / "out_stable")],
        },
        args.repeats,
    )
    summary = json.loads((work / "out_stable" / "summary.json").read_text())
    optimal = json.loads((work / "out_plain" / "summary.json").read_text())
    acceptance = _deferred_acceptance_seconds(stable, args.repeats)

    print(f"case: {args.children:,} children x {args.schools} schools, full travel matrix; medians of {args.repeats}")
    print(f"{'run':>14} {'seconds':>8} {'CPU s':>8} {'peak MB':>8}")
    for name, measured in runs.items():
        print(f"{name:>14} {measured.seconds:>8.2f} {measured.cpu_seconds:>8.2f} {measured.peak_mb:>8.0f}")
    ratio = runs["stable solve"].seconds / runs["plain solve"].seconds
    print(f"load average at the start: {load:.1f}, at the end: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    print(f"stable / plain: {ratio:.2f}; deferred acceptance alone (in process): {acceptance:.2f} s")
    envy = optimal["stability"]["justified_envy"], summary["stability"]["justified_envy"]
    print(
        f"placed: optimal {optimal['placed']:,}, stable {summary['placed']:,}; "
        f"children with justified envy: optimal {envy[0]:,}, stable {envy[1]:,}"
    )
    print(f"price_of_stability: {json.dumps(summary['price_of_stability'])}")
    _alternatives_figure(work, args.repeats)
    failures = []
    if runs["stable solve"].seconds >= TARGET_SECONDS:
        failures.append(f"stable run {runs['stable solve'].seconds:.2f}s >= {TARGET_SECONDS}s")
    if summary["stability"]["justified_envy"] or summary["stability"]["prefers_free_place"]:
        failures.append("the stable allocation has justified envy or a preferred free place")
    print("target met" if not failures else "TARGET MISSED: " + "; ".join(failures))
    sys.exit(1 if failures else 0)


def _alternatives_figure(work: Path, repeats: int) -> None:
    case = str(bundled_case())
    solve = [str(BIN / "allocator"), "solve", case, "--out"]
    runs = median_runs(
        {
            "plain": [*solve, str(work / "out_lancashire")],
            "alternatives": [*solve, str(work / "out_lancashire_alternatives"), "--alternatives", "100"],
        },
        repeats,
    )
    found = json.loads((work / "out_lancashire_alternatives" / "summary.json").read_text())["alternatives"]
    print(
        f"Lancashire --alternatives 100: {runs['alternatives'].seconds:.2f} s against a plain solve's "
        f"{runs['plain'].seconds:.2f} s; {found['allocations']} different optimal allocations"
    )


def _deferred_acceptance_seconds(case: Path, repeats: int) -> float:
    loaded = load_case(case)
    instance = build_instance(loaded.case, loaded.travel)
    optimal = solve_instance(instance, SolveOptions())
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        stable_solution(instance, optimal, loaded.input_sha256)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == "__main__":
    main()
