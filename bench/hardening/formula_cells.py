"""Formula injection (issue 10, point 3), measured: seeded cases whose school ids, names, child
ids and districts start with `=`, `+`, `-` or `@` go through every run kind that writes a CSV
(`solve`, `sites`, `plan-places`, `whatif`: the run functions of `api.jobs`, which the commands
and the HTTP service both call), and every cell of every CSV is checked from the outside:

- unneutralised: a text cell a spreadsheet would run (starts with = + - @ tab or CR);
- prefixed numbers: a number the product wrote (a negative saving, say) given an apostrophe;
- needless apostrophes: an apostrophe on a cell that did not need one;
- broken rows: a row whose width is not the header's (a cell split across rows);
- missing ids: a hostile child id not written as itself with one leading apostrophe;
- ordinary cases (the same cases with plain ids): cells changed, and files that differ from a
  plain csv.writer's over the same cells (the writer before the rule);
- formula cells in the workbook template (read by openpyxl, not as values).

Run: .venv/bin/python -m bench.hardening.formula_cells [--quick] [--cases N] [--seed S]
Targets: every count 0, and at least one neutralised cell of each dangerous start. Exit 1 otherwise.
"""

import argparse
import csv
import io
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import openpyxl

from api.jobs import (
    PlanPlacesRunOptions,
    SitesRunOptions,
    SolveRunOptions,
    WhatIfRunOptions,
    plan_places_run,
    sites_run,
    solve_run,
    whatif_run,
)
from data.loader import LoadedCase, load_case_files
from data.outputs import csv_text
from data.workbook import template_bytes

DANGEROUS = ("=", "+", "-", "@")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # the OWASP list, written out again to check against
BODIES = (
    "SUM({i})",
    'HYPERLINK("http://x/{i}")',
    "cmd|' /C calc'!A{i}",
    "{i}",
    "1+{i}",
    "x,{i}",
    "A{i}",
)
NEEDS = ("ASD", "SEMH")
NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[+-]?\d+)?$")
NUMERIC_COLUMNS = {
    "allocation.csv": {"travel_minutes", "preference_rank"},
    "explanations.csv": {"extra_minutes", "priority_needed"},
    "sites.csv": {
        "rank",
        "placed",
        "placed_gain",
        "preference_cost",
        "travel_minutes",
        "travel_saved_minutes",
        "children_newly_in_reach",
        "independent_placements_avoided",
        "cost_gbp_year",
        "cost_saved_gbp_year",
    },
    "marginal.csv": {"places", "placed_gain", "preference_cost_saved", "travel_saved_minutes"},
    "plan.csv": {"extra_places"},
    "changes.csv": {"baseline", "scenario", "change"},
    "moves.csv": set(),
}


@dataclass
class Counts:
    cases: int = 0
    files: int = 0
    cells: int = 0
    neutralised: Counter[str] = field(default_factory=Counter)
    negative_numbers: int = 0
    unneutralised: int = 0
    prefixed_numbers: int = 0
    needless_apostrophes: int = 0
    broken_rows: int = 0
    missing_ids: int = 0
    ordinary_cells_changed: int = 0
    ordinary_files_differing: int = 0
    examples: list[str] = field(default_factory=list)

    def bad(self, kind: str, where: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 10:
            self.examples.append(f"{kind}: {where}")


@dataclass(frozen=True)
class Generated:
    files: dict[str, bytes]
    child_ids: tuple[str, ...]
    expansions: str
    scenario: str


def text(rng: random.Random, index: int, hostile: bool, stem: str = "") -> str:
    start, body = rng.choice(DANGEROUS), rng.choice(BODIES).format(i=index)  # both drawn: same case either way
    return (start if hostile else "") + stem + body


def csv_bytes(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def generate(seed: int, hostile: bool) -> Generated:
    """A small over-subscribed case: 4-8 schools and 2 candidate sites near Burnley, 10-30
    children; ids, names and districts hostile or plain, the rest the same for one seed."""
    rng = random.Random(seed)
    districts = [text(rng, i, hostile, "District ") for i in range(3)]
    schools = [text(rng, i, hostile, "S") for i in range(rng.randint(4, 8))]
    sites = [text(rng, 100 + i, hostile, "C") for i in range(2)]
    school_rows: list[list[object]] = [["school_id", "name", "lat", "lon", "age_min", "age_max", "kind", "district"]]
    place_rows: list[list[object]] = [["school_id", "need", "places"]]
    for school in schools + sites:
        kind = "candidate" if school in sites else "special"
        lat, lon = 53.7 + rng.random() * 0.1, -2.5 + rng.random() * 0.1
        name = text(rng, len(school_rows), hostile, "School ")
        school_rows.append([school, name, f"{lat:.5f}", f"{lon:.5f}", 4, 18, kind, rng.choice(districts)])
        for need in NEEDS:
            place_rows.append([school, need, rng.randint(0, 2)])
    children = [text(rng, 1000 + i, hostile, "K") for i in range(rng.randint(10, 30))]
    child_rows: list[list[object]] = [["child_id", "need", "age", "lat", "lon", "priority", "district"]]
    preference_rows: list[list[object]] = [["child_id", "school_id", "rank"]]
    for child in children:
        lat, lon = 53.7 + rng.random() * 0.1, -2.5 + rng.random() * 0.1
        child_rows.append(
            [child, rng.choice(NEEDS), rng.randint(5, 16), f"{lat:.5f}", f"{lon:.5f}", rng.randint(0, 2)]
            + [rng.choice(districts)]
        )
        for rank, school in enumerate(rng.sample(schools, rng.randint(0, 2)), start=1):
            preference_rows.append([child, school, rank])
    expansions = csv_bytes([["school_id", "need", "max_extra"], *([s, "ASD", 2] for s in schools[:3])]).decode()
    scenario = f"close_schools = [{_toml(schools[0])}]\nopen_candidates = [{_toml(sites[0])}]\n"
    files = {
        "schools.csv": csv_bytes(school_rows),
        "places.csv": csv_bytes(place_rows),
        "children.csv": csv_bytes(child_rows),
        "preferences.csv": csv_bytes(preference_rows),
    }
    return Generated(files, tuple(children), expansions, scenario)


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def outputs(case: Generated) -> dict[str, str]:
    """Every CSV the four run kinds write for the case, as `kind/file`."""
    loaded: LoadedCase = load_case_files(case.files)
    runs = {
        "solve": solve_run(loaded, SolveRunOptions()),
        "sites": sites_run(loaded, SitesRunOptions()),
        "plan-places": plan_places_run(loaded, PlanPlacesRunOptions(add=3, expansions=case.expansions)),
        "whatif": whatif_run(loaded, WhatIfRunOptions(scenario=case.scenario)),
    }
    return {
        f"{kind}/{name}": content
        for kind, run in runs.items()
        for name, content in run.files.items()
        if name.endswith(".csv")
    }


def check_hostile(case: Generated, files: dict[str, str], counts: Counts) -> None:
    for path, content in files.items():
        name = path.split("/", 1)[1]
        rows = list(csv.reader(io.StringIO(content, newline="")))
        header, body = rows[0], rows[1:]
        counts.files += 1
        for line, row in enumerate(body, start=2):
            if len(row) != len(header):
                counts.bad("broken_rows", f"{path}:{line}")
                continue
            for column, cell in zip(header, row, strict=True):
                counts.cells += 1
                where = f"{path}:{line}: {column}: {cell!r}"
                numeric = column in NUMERIC_COLUMNS[name]
                if numeric and cell.startswith("'"):
                    counts.bad("prefixed_numbers", where)
                elif numeric and cell and not NUMBER.match(cell):
                    counts.bad("unneutralised", where)  # a numeric column holding text
                elif numeric and cell.startswith("-"):
                    counts.negative_numbers += 1
                elif not numeric and cell.startswith(FORMULA_STARTS):
                    counts.bad("unneutralised", where)
                elif cell.startswith("'"):
                    if cell[1:].startswith(FORMULA_STARTS):
                        counts.neutralised[cell[1]] += 1
                    else:
                        counts.bad("needless_apostrophes", where)
    written = {row[0] for row in csv.reader(io.StringIO(files["solve/allocation.csv"], newline=""))}
    for child in case.child_ids:
        if "'" + child not in written:
            counts.bad("missing_ids", f"solve/allocation.csv: child_id {child!r}")


def check_ordinary(files: dict[str, str], counts: Counts) -> None:
    for path, content in files.items():
        rows = list(csv.reader(io.StringIO(content, newline="")))
        counts.ordinary_cells_changed += sum(cell.startswith("'") for row in rows for cell in row)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        if buffer.getvalue() != content:
            counts.bad("ordinary_files_differing", path)


def template_formula_cells() -> tuple[int, int]:
    """(cells, formula cells) of the workbook template, read as written (not as cached values)."""
    book = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]
    return len(cells), sum(cell.data_type == "f" for cell in cells)


def writer_seconds(rows: int) -> tuple[float, float]:
    """Seconds to write `rows` allocation rows with the product's writer, and with a plain csv.writer."""
    table = [(f"=K{i:06d}" if i % 7 == 0 else f"K{i:06d}", "LAN-SP-01", (i % 90) - 45, 1, "") for i in range(rows)]

    def plain() -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(table)
        return buffer.getvalue()

    def timed(write: Callable[[], str]) -> float:
        started = time.perf_counter()
        write()
        return time.perf_counter() - started

    return timed(lambda: csv_text(("child_id", "school_id", "minutes", "rank", "reason"), table)), timed(plain)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 cases instead of 200")
    parser.add_argument("--cases", type=int, help="number of seeded cases (each hostile and ordinary)")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    cases = args.cases or (20 if args.quick else 200)
    counts = Counts()
    started = time.perf_counter()
    for index in range(cases):
        hostile = generate(args.seed * 100_000 + index, hostile=True)
        check_hostile(hostile, outputs(hostile), counts)
        check_ordinary(outputs(generate(args.seed * 100_000 + index, hostile=False)), counts)
        counts.cases += 1
    seconds = time.perf_counter() - started
    template_cells, template_formulas = template_formula_cells()
    ours, plain = writer_seconds(100_000)

    misses = {
        "unneutralised": counts.unneutralised,
        "prefixed numbers": counts.prefixed_numbers,
        "needless apostrophes": counts.needless_apostrophes,
        "broken rows": counts.broken_rows,
        "missing ids": counts.missing_ids,
        "ordinary cells changed": counts.ordinary_cells_changed,
        "ordinary files differing": counts.ordinary_files_differing,
        "template formula cells": template_formulas,
    }
    covered = all(counts.neutralised[start] > 0 for start in DANGEROUS) and counts.negative_numbers > 0
    ok = covered and not any(misses.values())
    print(
        f"formula cells: {counts.cases} hostile cases and {counts.cases} ordinary ones, {counts.files} hostile "
        f"CSV files (solve, sites, plan-places, whatif), {counts.cells:,} cells checked in {seconds:.1f}s"
    )
    print(
        "  neutralised (apostrophe added): "
        + ", ".join(f"{start} {counts.neutralised[start]:,}" for start in DANGEROUS)
        + f"; negative numbers left plain: {counts.negative_numbers:,} (target: each > 0)"
    )
    print("  " + ", ".join(f"{name}: {value}" for name, value in misses.items()) + " (target: each 0)")
    print(f"  template: {template_cells} cells, {template_formulas} formulas")
    print(f"  writer: 100,000 allocation rows in {ours:.3f}s with the rule (plain csv.writer {plain:.3f}s)")
    for example in counts.examples:
        print(f"  e.g. {example}")
    print(f"formula cells: [{'ok' if ok else 'MISSED'}]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
