"""`allocator demo` and `allocator export-template`. Call `register(app)` to add them.

Both commands only parse arguments, call `api.jobs.demo_run` (the demo) or `data.workbook`
(the template), print and write files. openpyxl (through `data.workbook`) and rich's tables are
imported by the command that uses them, so that every other command starts without them.
"""

from pathlib import Path
from typing import Any

import typer

from api.jobs import DemoRunOptions, RunOutput, demo_run
from cli.common import EXIT_INVALID, fail_invalid, fail_output
from cli.options import DEFAULT_TIME_LIMIT, CaseSource, DemoOut, TemplatePath, TimeLimit
from data.case_tables import WORKBOOK_SUFFIX
from data.loader import load_case
from data.outputs import OutputError, write_outputs
from models.case import Policy
from models.problems import CaseInvalid
from report.bundle import REPORT_FILE, bundled_case

DEMO_TITLE = "Lancashire placement round (synthetic children)"


def register(app: typer.Typer) -> None:
    """Add `demo` and `export-template` to the `allocator` command."""
    app.command("demo")(demo)
    app.command("export-template")(export_template)


def demo(case: CaseSource = None, out: DemoOut = Path("out"), time_limit: TimeLimit = DEFAULT_TIME_LIMIT) -> None:
    """Solve the bundled Lancashire case (or CASE) and write the allocation with an HTML report to OUT."""

    source = case if case is not None else bundled_case()
    title = DEMO_TITLE if case is None else f"Placement round: {source.stem if source.suffix else source.name}"
    try:
        loaded = load_case(source)
        output = demo_run(loaded, DemoRunOptions(title=title, time_limit=time_limit))
        write_outputs(out, output.files)
    except CaseInvalid as error:
        fail_invalid(error)
    except OutputError as error:
        fail_output(error)
    _print_summary(output, loaded.case.policy)
    typer.echo(f"report: {(out / REPORT_FILE).absolute()}")


def export_template(path: TemplatePath) -> None:
    """Write an empty case workbook: one sheet per case file with its header, and a notes sheet."""

    if path.suffix.lower() != WORKBOOK_SUFFIX:
        typer.echo(f"error: {path} must end in {WORKBOOK_SUFFIX}", err=True)
        raise typer.Exit(EXIT_INVALID)
    from data.workbook import write_template

    try:
        write_template(path)
    except OutputError as error:
        fail_output(error)
    typer.echo(f"template: {path.absolute()}")


def _print_summary(output: RunOutput, policy: Policy) -> None:
    from rich.console import Console
    from rich.table import Table

    summary: dict[str, Any] = output.summary
    seconds = summary["seconds"]
    table = Table(title="Placement round", show_header=False, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("status", output.status.value)
    table.add_row("children placed", str(summary["placed"]))
    table.add_row("children unplaced", str(summary["unplaced"]))
    for tier, placed in summary["placed_by_priority"].items():
        of = summary["children_by_priority"].get(tier, placed)
        table.add_row(f"  placed: {policy.priority_name(int(tier))}", f"{placed} of {of}")
    table.add_row("preference cost", str(summary["preference_cost"]))
    table.add_row("travel minutes", f"{summary['travel_minutes']:,}")
    table.add_row("sites opened", ", ".join(summary["opened_sites"]) or "none")
    if summary["cost_gbp_year"]:
        table.add_row("cost a year", f"£{round(summary['cost_gbp_year'].get('total', 0.0)):,}")
    table.add_row("solve time", f"{seconds['solve']:.2f} s")
    if seconds["candidate_sites"] is not None:
        table.add_row("candidate sites evaluated in", f"{seconds['candidate_sites']:.2f} s")
    Console(soft_wrap=False).print(table)
