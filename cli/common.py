"""What every `allocator` command shares: how input and output errors end a run."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from allocator.progress import Progress
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


@contextmanager
def command_run() -> Iterator[Progress]:
    """The frame of every command: a progress line for slow runs, and invalid input or an
    unwritable output folder ending the run with exit 2 and nothing written."""
    progress = Progress.to_stderr()
    try:
        yield progress
    except CaseInvalid as error:
        fail_invalid(error)
    except OutputError as error:
        fail_output(error)
    finally:
        progress.close()
