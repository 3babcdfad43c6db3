"""Reading large cases quickly (README): `data.loader.load_case` on the seeded national rounds of
`bench/bench_national.py` against pandas reading the same four CSV files (`pd.read_csv`, as
`bench/reference_national.py` reads them, with no check), in the same run.

CPU seconds (user + system of this process, less sensitive than wall time to a shared machine)
and wall seconds, the best of --repeats interleaved runs; the ratio is ours over pandas'. pandas
checks nothing and builds no model, so the ratio is what checking every cell and building the
case's pydantic models costs. No target: the figures are for the whole command's (bench_national).

Usage: python -m bench.bench_loading [--sizes 20000,150000] [--repeats 3]
"""

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench.national_cases import write_national
from data.loader import load_case

CSV_FILES = ("schools.csv", "places.csv", "children.csv", "preferences.csv")


def timed(work: Callable[[Path], object], case: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    work(case)
    return time.process_time() - cpu, time.perf_counter() - wall


def read_with_pandas(case: Path) -> list[pd.DataFrame]:
    return [pd.read_csv(case / name) for name in CSV_FILES]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000,150000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'children':>9} {'rows':>8} {'load_case cpu':>13} {'wall':>6} {'pandas cpu':>10} {'wall':>6} {'ratio':>6}")
    with tempfile.TemporaryDirectory(prefix="bench_loading_") as temp:
        for children in (int(size) for size in args.sizes.split(",")):
            case = write_national(Path(temp) / f"case_{children}", children)
            loaded = load_case(case)
            rows = sum(len(part) for part in (loaded.case.schools, loaded.case.places, loaded.case.children))
            rows += len(loaded.case.preferences)
            ours: list[tuple[float, float]] = []
            theirs: list[tuple[float, float]] = []
            for _ in range(args.repeats):  # interleaved, so that noise hits both alike
                ours.append(timed(load_case, case))
                theirs.append(timed(read_with_pandas, case))
            cpu, wall = min(c for c, _ in ours), min(w for _, w in ours)
            pandas_cpu, pandas_wall = min(c for c, _ in theirs), min(w for _, w in theirs)
            print(
                f"{children:>9,} {rows:>8,} {cpu:>11.2f} s {wall:>6.2f} {pandas_cpu:>8.2f} s {pandas_wall:>6.2f} "
                f"{cpu / pandas_cpu:>6.2f}"
            )


if __name__ == "__main__":
    main()
