"""Issue 9 figures: explanations.csv with every counterfactual, timed against the solve.

For the bundled Lancashire round (600 children) and the 2,000-child bench case: the solve
(eligibility and the optimal allocation) and, apart, every child's row with `forced` and every
counterfactual (`allocator.explanations.explain_children`, the unplaced reasons included), each
the median of N interleaved repeats in one process. Targets: all rows under 5 s (Lancashire)
and under 30 s (2,000 children). Then the mean Flesch reading ease (textstat) of the Lancashire
explanation sentences, target >= 60.

Usage: python -m bench.bench_explain [--repeats N]
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import textstat

from allocator.explain import explain_unplaced
from allocator.explanations import explain_children
from allocator.instance import build_instance
from allocator.options import SolveOptions
from allocator.solve import solve_instance
from bench.cases import write_case
from data.loader import load_case
from models.results import ChildExplanation

ROOT = Path(__file__).resolve().parent.parent
LANCASHIRE = ROOT / "data" / "lancashire" / "case"
TARGETS = {"Lancashire (600)": 5.0, "bench 2,000 x 50": 30.0}
READING_EASE_TARGET = 60.0
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def timed_round(case_dir: Path, repeats: int) -> tuple[float, float, tuple[ChildExplanation, ...]]:
    """(median solve seconds, median explanation seconds, the rows)."""
    loaded = load_case(case_dir)
    solves, explains = [], []
    rows: tuple[ChildExplanation, ...] = ()
    for _ in range(repeats):
        started = time.perf_counter()
        instance = build_instance(loaded.case, loaded.travel)
        solution = solve_instance(instance, SolveOptions())
        solves.append(time.perf_counter() - started)
        started = time.perf_counter()
        reasons = explain_unplaced(instance, solution.chosen_pair, solution.open_sites)
        rows = explain_children(instance, solution, reasons)
        explains.append(time.perf_counter() - started)
    return statistics.median(solves), statistics.median(explains), rows


def reading_ease(rows: tuple[ChildExplanation, ...]) -> tuple[float, int]:
    """(mean Flesch reading ease over every explanation sentence, how many sentences)."""
    sentences = [s for row in rows for s in SENTENCE_END.split(row.explanation) if s]
    return statistics.fmean(textstat.flesch_reading_ease(s) for s in sentences), len(sentences)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    failures = []
    lancashire_rows: tuple[ChildExplanation, ...] = ()
    with tempfile.TemporaryDirectory() as work:
        cases = {
            "Lancashire (600)": LANCASHIRE,
            "bench 2,000 x 50": write_case(Path(work) / "case_2000x50", 2_000, 50, full_travel=True),
        }
        print(f"{'round':>18} {'solve s':>8} {'all rows s':>11} {'ratio':>6} {'rows':>6} target")
        for name, case_dir in cases.items():
            solve, explain, rows = timed_round(case_dir, args.repeats)
            print(
                f"{name:>18} {solve:>8.3f} {explain:>11.3f} {explain / solve:>6.2f} {len(rows):>6} "
                f"< {TARGETS[name]:.0f} s"
            )
            if explain >= TARGETS[name]:
                failures.append(f"{name}: {explain:.2f} s >= {TARGETS[name]} s")
            if name.startswith("Lancashire"):
                lancashire_rows = rows
    ease, count = reading_ease(lancashire_rows)
    print(
        f"mean Flesch reading ease of the {count} Lancashire sentences: {ease:.1f} "
        f"(target >= {READING_EASE_TARGET:.0f})"
    )
    if ease < READING_EASE_TARGET:
        failures.append(f"reading ease {ease:.1f} < {READING_EASE_TARGET}")
    print("targets met" if not failures else "TARGETS MISSED: " + "; ".join(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
