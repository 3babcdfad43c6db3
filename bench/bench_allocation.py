"""Issue 2 figures: the whole `allocator solve` run against the reference in the same run.

Reference = pandas reading the same files + one OR-Tools min-cost flow (bench/reference_flow.py).
Targets: 2,000 x 50 whole CLI run under 2 s; 20,000 x 200 with a full travel matrix proven
optimal, at most 2x the reference, peak memory under 2 GB.

Usage: python bench/bench_allocation.py [--repeats N]
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cases import write_case  # noqa: E402
from bench.measure import median_runs  # noqa: E402

BIN = Path(sys.executable).parent
SIZES = [(2_000, 50, 2.0), (20_000, 200, None)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = ROOT / "bench" / "out"
    failures = []
    print(f"{'case':>16} {'allocator s':>12} {'reference s':>12} {'ratio':>6} {'peak MB':>8} status")
    for children, schools, limit in SIZES:
        case = write_case(work / f"case_{children}x{schools}", children, schools, full_travel=True)
        out = work / f"out_{children}x{schools}"
        runs = median_runs(
            {
                "allocator": [str(BIN / "allocator"), "solve", str(case), "--out", str(out)],
                "reference": [sys.executable, str(ROOT / "bench" / "reference_flow.py"), str(case)],
            },
            args.repeats,
        )
        summary = json.loads((out / "summary.json").read_text())
        ours, reference = runs["allocator"], runs["reference"]
        ratio = ours.seconds / reference.seconds
        print(
            f"{children:>7} x {schools:<6} {ours.seconds:>12.2f} {reference.seconds:>12.2f} {ratio:>6.2f} "
            f"{ours.peak_mb:>8.0f} {summary['status']} ({summary['placed']} placed)"
        )
        if summary["status"] != "optimal":
            failures.append(f"{children}x{schools}: not proven optimal")
        if limit is not None and ours.seconds >= limit:
            failures.append(f"{children}x{schools}: {ours.seconds:.2f}s >= {limit}s")
        if limit is None and ratio > 2.0:
            failures.append(f"{children}x{schools}: ratio {ratio:.2f} > 2")
        if ours.peak_mb >= 2048:
            failures.append(f"{children}x{schools}: peak {ours.peak_mb:.0f} MB >= 2048 MB")
    print("targets met" if not failures else "TARGETS MISSED: " + "; ".join(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
