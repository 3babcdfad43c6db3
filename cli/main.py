"""The `allocator` command. It parses arguments and calls the same functions as the API."""

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from allocator.options import SolveOptions
from allocator.solve import allocate
from cli.common import command_run
from data.loader import load_case
from data.outputs import allocation_files, write_outputs

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Exact, explainable allocation of children with EHCPs to specialist places.",
)

CaseDir = Annotated[Path, typer.Argument(help="case folder (see CONTRACT.md) or .xlsx workbook")]
OutDir = Annotated[Path, typer.Option("--out", help="folder for the run's output files")]
TimeLimit = Annotated[float, typer.Option("--time-limit", min=0.1, help="seconds for the solver")]


@app.callback()
def _commands() -> None:
    """Exact, explainable allocation of children with EHCPs to specialist places."""


@app.command()
def solve(case_dir: CaseDir, out: OutDir, time_limit: TimeLimit = 60.0) -> None:
    """Allocate every child in CASE_DIR and write allocation.csv and summary.json to OUT."""
    started = time.perf_counter()
    with command_run() as progress:
        with progress.stage("reading the case"):
            loaded = load_case(case_dir)
        allocation = allocate(loaded, SolveOptions(time_limit=time_limit), progress)
        with progress.stage("writing"):
            write_outputs(out, allocation_files(allocation))
    summary = allocation.summary
    typer.echo(
        f"{summary.status.value}: {summary.placed} placed, {summary.unplaced} unplaced, "
        f"preference cost {summary.preference_cost}, travel {summary.travel_minutes} min "
        f"({time.perf_counter() - started:.2f}s) -> {out}"
    )


def _register_commands() -> None:
    from cli.demo import register as register_demo
    from cli.estates import register as register_estates
    from cli.service import register as register_service

    register_demo(app)
    register_estates(app)
    register_service(app)


_register_commands()


def main() -> None:
    """Entry point: never a traceback for a person; unexpected errors are one line, exit 1."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing was written.", err=True)
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - last resort: one line, not a traceback
        typer.echo(f"internal error: {type(error).__name__}: {error}", err=True)
        sys.exit(1)
