"""Estates commands: `sites`, `plan-places`, `whatif`. They parse arguments and call
`allocator.estates`; `register(app)` adds them to the `allocator` command."""

import time
from pathlib import Path
from typing import Annotated

import typer

from allocator.estates.files import place_plan_files, whatif_files
from allocator.estates.plan import plan_places
from allocator.estates.sites import evaluate_sites
from allocator.estates.whatif import run_whatif
from allocator.options import SolveOptions
from cli.common import command_run
from data.expansions import EXPANSIONS_FILE, load_expansions
from data.loader import load_case
from data.outputs import write_outputs
from data.scenario import load_scenario
from models.problems import CaseInvalid, Problem
from report.sites import sites_run_files

CaseDir = Annotated[Path, typer.Argument(help="case folder (see CONTRACT.md) or .xlsx workbook")]
OutDir = Annotated[Path, typer.Option("--out", help="folder for the run's output files")]
TimeLimit = Annotated[float, typer.Option("--time-limit", min=0.1, help="seconds for the solver")]
ScenarioFile = Annotated[Path, typer.Argument(help="scenario file (TOML, see the README, Estates)")]
NewPlaces = Annotated[int, typer.Option("--add", help="at most this many new places (N >= 0)")]


def sites(case_dir: CaseDir, out: OutDir, time_limit: TimeLimit = 60.0) -> None:
    """Rank every candidate site and find the best joint choice; write sites.csv, sites.json, marginal.csv
    and report.html (the joint choice's run with a map and table of the candidate sites)."""
    started = time.perf_counter()
    with command_run() as progress:
        with progress.stage("reading the case"):
            loaded = load_case(case_dir)
        with progress.stage("evaluating candidate sites"):
            report = evaluate_sites(loaded, SolveOptions(time_limit=time_limit))
        with progress.stage("writing"):
            write_outputs(out, sites_run_files(loaded, report))
    best = report.sites[0].site_id if report.sites else "none"
    typer.echo(
        f"{len(report.sites)} candidate site(s) ranked, best alone: {best}; joint choice: "
        f"{', '.join(report.joint.summary.opened_sites) or 'none'} ({time.perf_counter() - started:.2f}s) -> {out}"
    )


def plan_places_command(case_dir: CaseDir, out: OutDir, add: NewPlaces, time_limit: TimeLimit = 60.0) -> None:
    """Distribute at most N new places over expansions.csv; write plan.csv, allocation.csv, summary.json."""
    started = time.perf_counter()
    with command_run() as progress:
        with progress.stage("reading the case"):
            problems = (
                [] if add >= 0 else [Problem(EXPANSIONS_FILE, 0, "--add", f"{add} is negative; it must be 0 or more")]
            )
            try:
                loaded = load_case(case_dir)
                expansions = load_expansions(case_dir, loaded.case)
            except CaseInvalid as error:
                raise CaseInvalid(error.problems + problems) from None
            if problems:
                raise CaseInvalid(problems)
        with progress.stage("planning new places"):
            plan = plan_places(loaded, expansions, add, SolveOptions(time_limit=time_limit))
        with progress.stage("writing"):
            write_outputs(out, place_plan_files(plan))
    summary = plan.allocation.summary
    used = sum(p.extra_places for p in plan.plan)
    typer.echo(
        f"{summary.status.value}: {used} of {add} new place(s) used at {len(plan.plan)} school-need pair(s); "
        f"{summary.placed} placed, {summary.unplaced} unplaced ({time.perf_counter() - started:.2f}s) -> {out}"
    )


def whatif(case_dir: CaseDir, scenario: ScenarioFile, out: OutDir, time_limit: TimeLimit = 60.0) -> None:
    """Run the case and the scenario; write the comparison, the moves and the scenario's allocation."""
    started = time.perf_counter()
    with command_run() as progress:
        with progress.stage("reading the case"):
            loaded = load_case(case_dir)
            parsed = load_scenario(scenario, loaded.case)
            text = scenario.read_text(encoding="utf-8-sig")
        with progress.stage("solving baseline and scenario"):
            result = run_whatif(loaded, parsed, text, SolveOptions(time_limit=time_limit))
        with progress.stage("writing"):
            write_outputs(out, whatif_files(result))
    before, after = result.baseline.summary, result.scenario.summary
    typer.echo(
        f"placed {before.placed} -> {after.placed}, travel {before.travel_minutes} -> {after.travel_minutes} min, "
        f"{len(result.moves)} child(ren) move ({time.perf_counter() - started:.2f}s) -> {out}"
    )


def register(app: typer.Typer) -> None:
    """Add the estates commands to the `allocator` app."""
    app.command("sites")(sites)
    app.command("plan-places")(plan_places_command)
    app.command("whatif")(whatif)
