"""Estates commands: `sites`, `plan-places`, `whatif`. They parse arguments and call the run
functions the API calls (`api.jobs`); `register(app)` adds them to the `allocator` command."""

import time
from pathlib import Path

import typer

from api.jobs import (
    RunOptions,
    SitesRunOptions,
    WhatIfRunOptions,
    planned_places_run,
    sites_run,
    whatif_run,
)
from cli.common import command_run
from cli.options import (
    DEFAULT_TIME_LIMIT,
    CaseDir,
    NewPlaces,
    OutDir,
    ScenarioFile,
    TimeLimit,
    Together,
    parse_together,
)
from data.expansions import EXPANSIONS_FILE, Expansion, load_expansions
from data.loader import LoadedCase, load_case
from data.outputs import write_outputs
from data.scenario import read_scenario_text
from models.problems import CaseInvalid, Problem


def sites(
    case_dir: CaseDir, out: OutDir, time_limit: TimeLimit = DEFAULT_TIME_LIMIT, together: Together = None
) -> None:
    """Rank every candidate site and find the best joint choice (and the best set of each size of
    --together); write sites.csv, sites.json, marginal.csv and report.html (the joint choice's run
    with maps and a table of the candidate sites)."""
    started = time.perf_counter()
    with command_run() as progress:
        with progress.stage("reading the case"):
            loaded = load_case(case_dir)
        options = SitesRunOptions(time_limit=time_limit, together=parse_together(together))
        output = sites_run(loaded, options, progress)
        with progress.stage("writing"):
            write_outputs(out, output.files)
    ranked = output.summary["sites_ranked"]
    choices = output.summary["joint_choices"].items()
    sets = "".join(f"; best {size} together: {', '.join(opened) or 'none'}" for size, opened in choices)
    typer.echo(
        f"{output.status.value}: {len(ranked)} candidate {'site' if len(ranked) == 1 else 'sites'} ranked, "
        f"best alone: {ranked[0] if ranked else 'none'}; joint choice: "
        f"{', '.join(output.summary['opened_sites']) or 'none'}{sets} ({time.perf_counter() - started:.2f}s) -> {out}"
    )


def plan_places_command(
    case_dir: CaseDir, out: OutDir, add: NewPlaces, time_limit: TimeLimit = DEFAULT_TIME_LIMIT
) -> None:
    """Distribute at most N new places over expansions.csv; write plan.csv, allocation.csv, summary.json."""
    started = time.perf_counter()
    with command_run() as progress:
        with progress.stage("reading the case"):
            loaded, expansions = _plan_inputs(case_dir, add)
        output = planned_places_run(loaded, expansions, add, RunOptions(time_limit=time_limit), progress)
        with progress.stage("writing"):
            write_outputs(out, output.files)
    summary = output.summary
    typer.echo(
        f"{output.status.value}: {summary['new_places_used']} of {add} new place(s) used at "
        f"{summary['school_need_pairs']} school-need pair(s); "
        f"{summary['placed']} placed, {summary['unplaced']} unplaced ({time.perf_counter() - started:.2f}s) -> {out}"
    )


def _plan_inputs(case_path: Path, add: int) -> tuple[LoadedCase, tuple[Expansion, ...]]:
    """The case and its expansions (a folder's expansions.csv or a workbook's expansions sheet).
    A negative --add is an input problem, listed with every problem of the case and expansions."""
    negative = [] if add >= 0 else [Problem(EXPANSIONS_FILE, 0, "--add", f"{add} is negative; it must be 0 or more")]
    try:
        loaded = load_case(case_path)
        expansions = load_expansions(case_path, loaded.case)
    except CaseInvalid as error:
        raise CaseInvalid(error.problems + negative) from None
    if negative:
        raise CaseInvalid(negative)
    return loaded, expansions


def whatif(case_dir: CaseDir, scenario: ScenarioFile, out: OutDir, time_limit: TimeLimit = DEFAULT_TIME_LIMIT) -> None:
    """Run the case and the scenario; write the comparison, the moves and the scenario's allocation."""
    started = time.perf_counter()
    with command_run() as progress:
        with progress.stage("reading the case"):
            loaded = load_case(case_dir)
            text = read_scenario_text(scenario)
        options = WhatIfRunOptions(scenario=text, scenario_name=scenario.name, time_limit=time_limit)
        output = whatif_run(loaded, options, progress)
        with progress.stage("writing"):
            write_outputs(out, output.files)
    before, after = output.summary["baseline"], output.summary["scenario"]
    typer.echo(
        f"placed {before['placed']} -> {after['placed']}, "
        f"travel {before['travel_minutes']} -> {after['travel_minutes']} min, "
        f"{output.summary['children_moving']} child(ren) move ({time.perf_counter() - started:.2f}s) -> {out}"
    )


def register(app: typer.Typer) -> None:
    """Add the estates commands to the `allocator` app."""
    app.command("sites")(sites)
    app.command("plan-places")(plan_places_command)
    app.command("whatif")(whatif)
