"""Writing a large run's results (README, "Writing large runs quickly"): on a seeded national
fixed-site round (`bench/national_cases.py`), solved once, the placements and summary
(`build_allocation`), every explanation row (`explain_children`, the exact counterfactuals
included) and the files (`allocation_files`), against the per-child code they replaced
(`tests/core/writing_reference.py`) in the same process, interleaved. Seconds are CPU seconds
of this process (time.process_time: a shared machine's other work counts less than in wall
time); each figure is the median of the repeats. The files of both must be identical.

Usage: python -m bench.bench_writing [--children N] [--repeats N]
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from allocator.explain import explain_unplaced
from allocator.explanations import explain_children
from allocator.instance import build_instance
from allocator.options import SolveOptions
from allocator.solve import solve_instance
from allocator.summary import build_allocation
from bench.national_cases import write_national
from data.loader import load_case
from data.outputs import ALLOCATION_COLUMNS, EXPLANATION_COLUMNS, allocation_files, json_text
from models.results import Allocation, ChildExplanation
from tests.core import writing_reference as reference

T = TypeVar("T")


def timed(work: Callable[[], T], into: list[float]) -> T:
    started = time.process_time()
    result = work()
    into.append(time.process_time() - started)
    return result


def reference_files(allocation: Allocation, rows: tuple[ChildExplanation, ...]) -> dict[str, str]:
    """The three files as the csv module wrote them, one row at a time."""
    return {
        "allocation.csv": reference.csv_text(
            ALLOCATION_COLUMNS,
            (
                (p.child_id, p.school_id, p.travel_minutes, p.preference_rank, p.reason_text)
                for p in allocation.placements
            ),
        ),
        "summary.json": json_text(allocation.summary.model_dump(mode="json")),
        "explanations.csv": reference.csv_text(
            EXPLANATION_COLUMNS,
            (
                (
                    r.child_id,
                    r.outcome.value,
                    r.school_id,
                    r.first_choice_school_id,
                    None if r.forced is None else ("yes" if r.forced else "no"),
                    r.add_place_school_id,
                    r.extra_minutes,
                    r.priority_needed,
                    r.explanation,
                )
                for r in rows
            ),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=150_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_writing_") as temp:
        loaded = load_case(write_national(Path(temp) / "case", args.children))
    instance = build_instance(loaded.case, loaded.travel)
    solution = solve_instance(instance, SolveOptions())
    reasons = explain_unplaced(instance, solution.chosen_pair, solution.open_sites)
    stages = ("placements and summary", "explanation rows", "files")
    ours: dict[str, list[float]] = {stage: [] for stage in stages}
    theirs: dict[str, list[float]] = {stage: [] for stage in stages}
    same = True
    for _ in range(args.repeats):
        allocation = timed(lambda: build_allocation(instance, solution, reasons, "0" * 64, 0.0), ours[stages[0]])
        rows = timed(lambda: explain_children(instance, solution, reasons), ours[stages[1]])
        files = timed(partial(allocation_files, allocation.model_copy(update={"explanations": rows})), ours[stages[2]])
        old = timed(lambda: reference.build_allocation(instance, solution, reasons, "0" * 64, 0.0), theirs[stages[0]])
        old_rows = timed(lambda: reference.explain_children(instance, solution, reasons), theirs[stages[1]])
        same &= timed(partial(reference_files, old, old_rows), theirs[stages[2]]) == files
    print(f"{args.children:,} children, {args.repeats} repeats, median CPU seconds")
    print(f"{'stage':<24} {'now':>7} {'per-child':>9} {'ratio':>6}")
    for stage in (*stages, "total"):
        now = sum(statistics.median(ours[s]) for s in stages) if stage == "total" else statistics.median(ours[stage])
        before = (
            sum(statistics.median(theirs[s]) for s in stages) if stage == "total" else statistics.median(theirs[stage])
        )
        print(f"{stage:<24} {now:>7.2f} {before:>9.2f} {now / before:>6.2f}")
    print("files identical" if same else "FILES DIFFER")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
