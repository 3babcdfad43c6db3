"""The `allocator` command. It parses arguments and calls the same functions as the API (`api.jobs`)."""

import sys
import time

import typer

from api.jobs import SolveRunOptions, solve_run
from cli.common import command_run
from cli.options import DEFAULT_TIME_LIMIT, Alternatives, CaseDir, OutDir, TimeLimit
from data.loader import load_case
from data.outputs import write_outputs

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Exact, explainable allocation of children with EHCPs to specialist places.",
)


@app.callback()
def _commands() -> None:
    """Exact, explainable allocation of children with EHCPs to specialist places."""


@app.command()
def solve(
    case_dir: CaseDir, out: OutDir, time_limit: TimeLimit = DEFAULT_TIME_LIMIT, alternatives: Alternatives = 1
) -> None:
    """Allocate every child in CASE_DIR and write allocation.csv and summary.json to OUT."""
    started = time.perf_counter()
    with command_run() as progress:
        with progress.stage("reading the case"):
            loaded = load_case(case_dir)
        output = solve_run(loaded, SolveRunOptions(time_limit=time_limit, alternatives=alternatives), progress)
        with progress.stage("writing"):
            write_outputs(out, output.files)
    summary = output.summary
    typer.echo(
        f"{output.status.value}: {summary['placed']} placed, {summary['unplaced']} unplaced, "
        f"preference cost {summary['preference_cost']}, travel {summary['travel_minutes']} min "
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
