"""Issue 12, item 3: national fixed-site rounds (`bench/national_cases.py`, estimated travel),
the whole `allocator solve CASE --out OUT` run against `bench/reference_national.py` (read,
k-d tree prefilter, exact geodesics, one min-cost flow per group of components) in the same run.
Targets per size: proven optimal, the same objective levels as the reference, at most 2x its
time, peak memory under 2 GB (wait4's ru_maxrss of each process).

Usage: python -m bench.bench_national [--sizes 2000,20000,...] [--repeats N]
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench.measure import Run, run_capturing
from bench.national_cases import write_national

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SIZES = (2_000, 20_000, 50_000, 100_000, 150_000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    failures: list[str] = []
    print(
        f"{'children':>9} {'schools':>7} {'product s':>9} {'ref s':>7} {'ratio':>6} {'peak MB':>8} {'ref MB':>7} status"
    )
    with tempfile.TemporaryDirectory(prefix="bench_national_") as temp:
        for children in (int(s) for s in args.sizes.split(",")):
            case = write_national(Path(temp) / f"case_{children}", children)
            out = Path(temp) / f"out_{children}"
            ours: list[Run] = []
            theirs: list[Run] = []
            reference: dict[str, object] = {}
            for _ in range(args.repeats):  # interleaved, so noise hits both alike
                run, _ = run_capturing([str(BIN / "allocator"), "solve", str(case), "--out", str(out)])
                ours.append(run)
                ref_run, printed = run_capturing(
                    [sys.executable, str(ROOT / "bench" / "reference_national.py"), str(case)]
                )
                theirs.append(ref_run)
                reference = json.loads(printed)
            summary = json.loads((out / "summary.json").read_text())
            seconds = statistics.median(r.seconds for r in ours)
            ref_seconds = statistics.median(r.seconds for r in theirs)
            peak = max(r.peak_mb for r in ours)
            levels = (summary["placed_by_priority"], summary["preference_cost"], summary["travel_minutes"])
            ref_levels = (reference["placed_by_priority"], reference["preference_cost"], reference["travel_minutes"])
            schools = sum(1 for _ in (case / "schools.csv").open()) - 1
            ratio = seconds / ref_seconds
            print(
                f"{children:>9,} {schools:>7,} {seconds:>9.2f} {ref_seconds:>7.2f} {ratio:>6.2f} {peak:>8.0f} "
                f"{max(r.peak_mb for r in theirs):>7.0f}  {summary['status']} ({summary['solver']}), "
                f"placed {summary['placed']:,}, levels {'equal' if levels == ref_levels else 'DIFFER'}"
            )
            print(f"{'':>9} product levels {levels}\n{'':>9} reference      {ref_levels}")
            if summary["status"] != "optimal":
                failures.append(f"{children}: not proven optimal")
            if levels != ref_levels:
                failures.append(f"{children}: objective levels differ from the reference")
            if ratio > 2.0:
                failures.append(f"{children}: ratio {ratio:.2f} > 2")
            if peak >= 2048:
                failures.append(f"{children}: peak {peak:.0f} MB >= 2048 MB")
    print("targets met" if not failures else "TARGETS MISSED: " + "; ".join(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
