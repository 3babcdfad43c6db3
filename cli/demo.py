"""`allocator demo` and `allocator export-template`. Call `register(app)` to add them.

Both commands only parse arguments and call functions from `report` and `data`.
"""

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from allocator.estates.sites import evaluate_sites
from allocator.options import SolveOptions
from allocator.solve import allocate
from cli.common import fail_invalid, fail_output
from data.loader import LoadedCase, load_case
from data.outputs import OutputError, write_outputs
from data.workbook import WORKBOOK_SUFFIX, write_template
from models.problems import CaseInvalid
from models.results import Allocation
from report.bundle import REPORT_FILE, bundled_case, run_files
from report.sites import candidate_sites_sections, has_candidate_sites

EXIT_INVALID = 2
DEMO_TITLE = "Lancashire placement round (synthetic children)"

CaseSource = Annotated[
    Path | None,
    typer.Argument(help="case folder or .xlsx workbook; default: the bundled Lancashire case", show_default=False),
]
DemoOut = Annotated[Path, typer.Option("--out", help="folder for allocation.csv, summary.json and report.html")]
TimeLimit = Annotated[float, typer.Option("--time-limit", min=0.1, help="seconds for the solver")]
TemplatePath = Annotated[Path, typer.Argument(help="the .xlsx file to write")]


def register(app: typer.Typer) -> None:
    """Add `demo` and `export-template` to the `allocator` command."""
    app.command("demo")(demo)
    app.command("export-template")(export_template)


def demo(case: CaseSource = None, out: DemoOut = Path("out"), time_limit: TimeLimit = 60.0) -> None:
    """Solve the bundled Lancashire case (or CASE) and write the allocation with an HTML report to OUT."""

    source = case if case is not None else bundled_case()
    title = DEMO_TITLE if case is None else f"Placement round: {source.stem if source.suffix else source.name}"
    try:
        loaded = load_case(source)
        started = time.perf_counter()
        allocation = allocate(loaded, SolveOptions(time_limit=time_limit))
        solve_seconds = time.perf_counter() - started
        sites, sites_seconds = _candidate_sites(loaded, time_limit)
        files = run_files(loaded.case, allocation, title=title, extra_sections=sites)
        write_outputs(out, files)
    except CaseInvalid as error:
        fail_invalid(error)
    except OutputError as error:
        fail_output(error)
    _print_summary(allocation, solve_seconds, sites_seconds)
    typer.echo(f"report: {(out / REPORT_FILE).absolute()}")


def _candidate_sites(loaded: LoadedCase, time_limit: float) -> tuple[list[tuple[str, str]], float | None]:
    """The report's candidate-sites section and the seconds it took, when the case has candidate sites."""
    if not has_candidate_sites(loaded.case):
        return [], None
    started = time.perf_counter()
    report = evaluate_sites(loaded, SolveOptions(time_limit=time_limit))
    return candidate_sites_sections(loaded.case, report), time.perf_counter() - started


def export_template(path: TemplatePath) -> None:
    """Write an empty case workbook: one sheet per case file with its header, and a notes sheet."""

    if path.suffix.lower() != WORKBOOK_SUFFIX:
        typer.echo(f"error: {path} must end in {WORKBOOK_SUFFIX}", err=True)
        raise typer.Exit(EXIT_INVALID)
    try:
        write_template(path)
    except OutputError as error:
        fail_output(error)
    typer.echo(f"template: {path.absolute()}")


def _print_summary(allocation: Allocation, solve_seconds: float, sites_seconds: float | None) -> None:
    summary = allocation.summary
    table = Table(title="Placement round", show_header=False, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("status", summary.status.value)
    table.add_row("children placed", str(summary.placed))
    table.add_row("children unplaced", str(summary.unplaced))
    for tier, placed in summary.placed_by_priority.items():
        table.add_row(f"  priority {tier} placed", f"{placed} of {summary.children_by_priority.get(tier, placed)}")
    table.add_row("preference cost", str(summary.preference_cost))
    table.add_row("travel minutes", f"{summary.travel_minutes:,}")
    table.add_row("sites opened", ", ".join(summary.opened_sites) or "none")
    if summary.cost_gbp_year:
        table.add_row("cost a year", f"£{round(summary.cost_gbp_year.get('total', 0.0)):,}")
    table.add_row("solve time", f"{solve_seconds:.2f} s")
    if sites_seconds is not None:
        table.add_row("candidate sites evaluated in", f"{sites_seconds:.2f} s")
    Console(soft_wrap=False).print(table)
