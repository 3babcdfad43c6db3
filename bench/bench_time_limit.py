"""Issue 12, item 4: a run stopped at its time limit, repeated three times, writes the same
files. The 10,000-child, 30-candidate case of `bench/site_cases.py` (open 3) through
`allocator solve --time-limit 10`, three times; prints each run's seconds, status and the
sha256 of every file it wrote (allocation.csv, explanations.csv, summary.json: a run stopped at
its limit reports the limit as `solve_seconds`), and whether all three runs wrote identical files.

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
            files = sorted(path.name for path in out.iterdir())
            digest = {name: hashlib.sha256((out / name).read_bytes()).hexdigest()[:12] for name in files}
            digests.append(tuple(digest.items()))
            print(
                f"run {run + 1}: {timing.seconds:.1f} s (solve_seconds {summary['solve_seconds']}), "
                f"{summary['status']} ({summary['solver']}, gap {summary.get('gap')}), "
                + ", ".join(f"{name} {value}" for name, value in digest.items())
            )
    same = len(set(digests)) == 1
    print("identical outputs in all three runs" if same else "OUTPUTS DIFFER")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
