"""Issue 12, item 4: a run stopped at its time limit, repeated three times, writes the same
files. The 10,000-child, 30-candidate case of `bench/site_cases.py` (open 3) through
`allocator solve --time-limit 10`, three times; prints each run's seconds, status and the
sha256 of allocation.csv and of summary.json without `solve_seconds` (whole seconds of the
clock, so a run may cross one), and whether all three are identical.

Usage: python -m bench.bench_time_limit [--time-limit SECONDS]
"""

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

from bench.measure import run_command
from bench.site_cases import write_site_case

BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", default="10")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_time_limit_") as temp:
        case = write_site_case(Path(temp) / "case", 10_000, 150, 30, 3)
        digests = []
        for run in range(3):
            out = Path(temp) / f"out{run}"
            timing = run_command(
                [str(BIN / "allocator"), "solve", str(case), "--out", str(out), "--time-limit", args.time_limit]
            )
            summary = json.loads((out / "summary.json").read_text())
            seconds = summary.pop("solve_seconds")
            allocation = hashlib.sha256((out / "allocation.csv").read_bytes()).hexdigest()[:16]
            rest = hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()[:16]
            digests.append((allocation, rest))
            print(
                f"run {run + 1}: {timing.seconds:.1f} s (solve_seconds {seconds}), {summary['status']} "
                f"({summary['solver']}, gap {summary.get('gap')}), allocation.csv {allocation}, summary.json {rest}"
            )
    same = len(set(digests)) == 1
    print("identical outputs in all three runs" if same else "OUTPUTS DIFFER")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
