"""What every `allocator` command shares: how input and output errors end a run."""

from typing import NoReturn

import typer

from data.outputs import OutputError
from models.problems import CaseInvalid

EXIT_INVALID = 2


def fail_invalid(error: CaseInvalid) -> NoReturn:
    # Only `file:line: column: message` lines, so scripts can parse stderr line by line.
    for line in error.lines():
        typer.echo(line, err=True)
    raise typer.Exit(EXIT_INVALID)


def fail_output(error: OutputError) -> NoReturn:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(EXIT_INVALID)
