"""Estates figures: rank 25 candidate sites on a 2,000-child case; plan 200 new places over
40 schools x 12 needs; OR-Library pmed1-pmed10 through `allocator solve` against spopt's PMedian;
the best 3 of the 18-site Lancashire estates case jointly, against enumeration (bench/estates18.py).

Run: .venv/bin/python -m bench.bench_estates [--pmed 1-10] [--skip-spopt] [--only sites|plan|pmed|estates18]
Each figure prints one line with its target; the exit code is 1 when a target is missed.
"""

import argparse
import csv
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from allocator.estates.plan import plan_places
from allocator.estates.sites import evaluate_sites
from bench import orlib
from bench.cases import write_case as write_synthetic_case
from bench.estates18 import estates18_figure
from data.expansions import load_expansions
from data.loader import load_case
from models.need import Need

ROOT = Path(__file__).resolve().parents[1]
ALLOCATOR = ROOT / ".venv" / "bin" / "allocator"
LANCASHIRE = ROOT / "data" / "lancashire" / "case"


def rank_sites(work: Path) -> bool:
    folder = write_synthetic_case(work / "sites2000", children=2000, schools=80, full_travel=False, seed=11)
    _make_candidates(folder / "schools.csv", 25)
    loaded = load_case(folder)
    started = time.perf_counter()
    report = evaluate_sites(loaded)
    seconds = time.perf_counter() - started
    ok = seconds < 5.0 and len(report.sites) == 25
    print(
        f"sites: ranked {len(report.sites)} candidate sites on {len(loaded.case.children)} children in {seconds:.2f}s "
        f"(target < 5 s) best {report.sites[0].site_id}; joint {report.joint.summary.opened_sites} "
        f"[{'ok' if ok else 'MISSED'}]"
    )
    return ok


def _make_candidates(schools_csv: Path, count: int) -> None:
    """The last `count` schools become candidate sites."""
    with schools_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows[-count:]:
        row["kind"] = "candidate"
    with schools_csv.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def plan_new_places(work: Path) -> bool:
    source = LANCASHIRE if (LANCASHIRE / "children.csv").exists() else None
    if source is None:
        source = write_synthetic_case(work / "plan_synthetic", children=2000, schools=60, full_travel=False, seed=5)
        label = "synthetic 2,000-child case"
    else:
        label = "Lancashire case"
    folder = work / "plan_case"
    folder.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    loaded = load_case(folder)
    schools = [s.school_id for s in loaded.case.schools if s.kind.value != "candidate"][:40]
    with (folder / "expansions.csv").open("w") as handle:
        handle.write("school_id,need,max_extra\n")
        handle.writelines(f"{school},{need.value},10\n" for school in schools for need in Need)
    expansions = load_expansions(folder, loaded.case)
    started = time.perf_counter()
    plan = plan_places(loaded, expansions, 200)
    seconds = time.perf_counter() - started
    used = sum(p.extra_places for p in plan.plan)
    summary = plan.allocation.summary
    ok = seconds < 30.0 and summary.status.value == "optimal"
    print(
        f"plan-places: {used} of 200 new places over {len(schools)} schools x 12 needs on the {label} "
        f"({len(loaded.case.children)} children), {summary.status.value}, placed {summary.placed}, "
        f"{seconds:.2f}s (target < 30 s, optimal) [{'ok' if ok else 'MISSED'}]"
    )
    return ok


def pmedian(work: Path, numbers: list[int], with_spopt: bool, allocator: list[str]) -> bool:
    optima = orlib.published_optima()
    all_ok = True
    print(
        "instance  n    p   published  allocator  spopt      solver                     "
        "allocator_s  spopt_s  ratio  (solve_seconds in summary / spopt build and solve)"
    )
    for number in numbers:
        name = f"pmed{number}"
        instance = orlib.read_pmed(orlib.ORLIB / "pmed" / f"{name}.txt")
        case = orlib.write_case(instance, work / name)
        out = work / f"{name}_out"
        started = time.perf_counter()
        subprocess.run(
            [*allocator, "solve", str(case), "--out", str(out), "--time-limit", "600"],
            check=True,
            capture_output=True,
        )
        ours = time.perf_counter() - started
        summary = json.loads((out / "summary.json").read_text())
        spopt_seconds, spopt_value, spopt_solve = _spopt_run(instance, work) if with_spopt else (float("nan"), -1, 0.0)
        reproduced = summary["travel_minutes"] == optima[name] and summary["status"] == "optimal"
        reproduced = reproduced and (not with_spopt or spopt_value == optima[name])
        faster = not with_spopt or ours <= spopt_seconds
        all_ok = all_ok and reproduced and faster
        print(
            f"{name:<9} {instance.distance.shape[0]:<4} {instance.p:<3} {optima[name]:<10} "
            f"{summary['travel_minutes']:<10} {spopt_value:<10} {summary['solver']:<26} "
            f"{ours:<12.2f} {spopt_seconds:<8.2f} "
            f"{ours / spopt_seconds if with_spopt else float('nan'):<6.3f} "
            f"({summary['solve_seconds']:.1f} / {spopt_solve:.2f}) "
            f"[{'ok' if reproduced and faster else 'MISSED'}]"
        )
    return all_ok


SPOPT_RUNNER = """
import sys, time
import numpy as np
import pulp
from spopt.locate import PMedian
distance = np.load(sys.argv[1])
started = time.perf_counter()
model = PMedian.from_cost_matrix(distance.astype(float), np.ones(distance.shape[0]), p_facilities=int(sys.argv[2]))
model.solve(pulp.PULP_CBC_CMD(msg=False))
print(round(float(model.problem.objective.value())), time.perf_counter() - started)
"""


def _spopt_run(instance: orlib.PMedianInstance, work: Path) -> tuple[float, int, float]:
    """spopt's PMedian on the same matrix with PuLP's default solver (CBC), in its own process
    like `allocator solve`: (seconds end to end, optimum, seconds building and solving)."""
    matrix = work / f"{instance.name}.npy"
    np.save(matrix, instance.distance)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", SPOPT_RUNNER, str(matrix), str(instance.p)], check=True, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    value, solve_seconds = done.stdout.split()[-2:]
    return seconds, int(value), float(solve_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pmed", default="1-10", help="range of pmed instances, e.g. 1-10 or 1-3")
    parser.add_argument("--skip-spopt", action="store_true")
    parser.add_argument("--allocator", default=str(ALLOCATOR), help="command that runs `allocator`")
    parser.add_argument("--only", choices=["sites", "plan", "pmed", "estates18"], help="run one figure")
    args = parser.parse_args()
    low, _, high = args.pmed.partition("-")
    numbers = list(range(int(low), int(high or low) + 1))
    with tempfile.TemporaryDirectory(prefix="bench_estates_") as temp:
        work = Path(temp)
        results = []
        if args.only in (None, "sites"):
            results.append(rank_sites(work))
        if args.only in (None, "plan"):
            results.append(plan_new_places(work))
        if args.only in (None, "pmed"):
            results.append(pmedian(work, numbers, not args.skip_spopt, shlex.split(args.allocator)))
        if args.only in (None, "estates18"):
            results.append(estates18_figure())
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
