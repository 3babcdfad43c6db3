"""Issue 12 figures for site choice with capacities: the whole `allocator solve` command against a
plain HiGHS MIP solved level by level on the same case (bench/reference_sites_mip.py), in the
same run, on seeded cases of issue 12's sizes (bench/site_cases.py); peak memory by wait4.

Targets: 3,000 children, 20 candidates, open 3: proven optimal, at most 0.5x the MIP's time,
peak under 1 GB; 10,000 children, 30 candidates, open 3: proven optimal under 120 s, peak under
2 GB (the MIP is not run there by default: it does not prove it in five minutes; --mip-all).

Usage: python -m bench.bench_site_choice [--mip-all] [--only 600|3000|10000]
"""

import argparse
import json
import sys
from pathlib import Path

from bench.measure import run_capturing
from bench.site_cases import write_site_case

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# children, schools, candidates, open_sites, target ratio, target peak MB, target seconds
SIZES = [
    (600, 40, 8, 2, None, None, None),
    (3_000, 60, 20, 3, 0.5, 1024, None),
    (10_000, 150, 30, 3, None, 2048, 120.0),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mip-all", action="store_true", help="also run the MIP on the 10,000-child case")
    parser.add_argument("--only", type=int, default=None)
    args = parser.parse_args()
    work = ROOT / "bench" / "out"
    failures: list[str] = []
    print(f"{'case':>22} {'allocator s':>11} {'MIP s':>7} {'ratio':>6} {'peak MB':>8} {'MIP MB':>7} status")
    for children, schools, candidates, open_sites, ratio_target, peak_target, seconds_target in SIZES:
        if args.only is not None and children != args.only:
            continue
        name = f"{children}x{schools}_c{candidates}_o{open_sites}"
        case = write_site_case(work / f"sites_{name}", children, schools, candidates, open_sites)
        out = work / f"out_sites_{name}"
        ours, _ = run_capturing([str(BIN / "allocator"), "solve", str(case), "--out", str(out), "--time-limit", "300"])
        summary = json.loads((out / "summary.json").read_text())
        figures = {f"placed_priority_{t}": n for t, n in summary["placed_by_priority"].items()}
        figures.update(preference_cost=summary["preference_cost"], travel_minutes=summary["travel_minutes"])
        mip_text, ratio = "-", None
        if children < 10_000 or args.mip_all:
            mip, printed = run_capturing([sys.executable, str(ROOT / "bench" / "reference_sites_mip.py"), str(case)])
            reference = json.loads(printed)
            ratio = ours.seconds / mip.seconds
            mip_text = f"{mip.seconds:>7.2f} {ratio:>6.2f} {ours.peak_mb:>8.0f} {mip.peak_mb:>7.0f}"
            mip_text += f" (MIP {reference['status']})"
            both_proven = reference["status"] == "optimal" and summary["status"] == "optimal"
            if both_proven and any(reference[key] != value for key, value in figures.items()):
                failures.append(f"{name}: objective differs from the MIP's ({reference} vs {figures})")
        else:
            mip_text = f"{'-':>7} {'-':>6} {ours.peak_mb:>8.0f} {'-':>7}"
        print(f"{name:>22} {ours.seconds:>11.2f} {mip_text} {summary['status']} {summary['solver']}")
        if summary["status"] != "optimal":
            failures.append(f"{name}: not proven optimal")
        if ratio_target is not None and ratio is not None and ratio > ratio_target:
            failures.append(f"{name}: ratio {ratio:.2f} > {ratio_target}")
        if peak_target is not None and ours.peak_mb >= peak_target:
            failures.append(f"{name}: peak {ours.peak_mb:.0f} MB >= {peak_target} MB")
        if seconds_target is not None and ours.seconds >= seconds_target:
            failures.append(f"{name}: {ours.seconds:.1f} s >= {seconds_target} s")
    print("targets met" if not failures else "TARGETS MISSED: " + "; ".join(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
