"""Every argument and option of the `allocator` commands, defined once."""

from pathlib import Path
from typing import Annotated

import typer

from api.access import Role
from api.jobs import MAX_TOGETHER_SIZE, MAX_TOGETHER_SIZES

CaseDir = Annotated[Path, typer.Argument(help="case folder (see CONTRACT.md) or .xlsx workbook")]
CaseSource = Annotated[
    Path | None,
    typer.Argument(help="case folder or .xlsx workbook; default: the bundled Lancashire case", show_default=False),
]
OutDir = Annotated[Path, typer.Option("--out", help="folder for the run's output files")]
DemoOut = Annotated[Path, typer.Option("--out", help="folder for allocation.csv, summary.json and report.html")]
TimeLimit = Annotated[float, typer.Option("--time-limit", min=0.1, help="seconds for the solver")]
ScenarioFile = Annotated[Path, typer.Argument(help="scenario file (TOML, see the README, Estates)")]
NewPlaces = Annotated[int, typer.Option("--add", max=100_000, help="at most this many new places (0 to 100,000)")]
TemplatePath = Annotated[Path, typer.Argument(help="the .xlsx file to write")]
Host = Annotated[str, typer.Option("--host", help="address to listen on (loopback by default)")]
Port = Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port")]
KeyRole = Annotated[Role, typer.Option("--role", help="officer, panel, estates or admin")]
Label = Annotated[str, typer.Option("--label", help="who or what the key is for")]

Alternatives = Annotated[
    int,
    typer.Option("--alternatives", min=1, max=100, help="also write up to K-1 further optimal allocations (1 to 100)"),
]

DEFAULT_TIME_LIMIT = 60.0


def together_sizes(text: str | None) -> str | None:
    """Check `--together` (sizes of the sets of sites chosen jointly, comma-separated, such as
    `2,3`): whole numbers from 1 to MAX_TOGETHER_SIZE, each once, at most MAX_TOGETHER_SIZES."""
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and part.isascii() for part in parts):
        raise typer.BadParameter(f"{text!r}: give whole numbers separated by commas, such as 2,3")
    sizes = [int(part) for part in parts]
    if not all(1 <= size <= MAX_TOGETHER_SIZE for size in sizes):
        raise typer.BadParameter(f"{text!r}: each size must be from 1 to {MAX_TOGETHER_SIZE}")
    if len(set(sizes)) != len(sizes):
        raise typer.BadParameter(f"{text!r}: each size may be given once")
    if len(sizes) > MAX_TOGETHER_SIZES:
        raise typer.BadParameter(f"{text!r}: at most {MAX_TOGETHER_SIZES} sizes")
    return text


def parse_together(text: str | None) -> tuple[int, ...] | None:
    """The sizes of a checked `--together` (see `together_sizes`)."""
    return None if text is None else tuple(int(part) for part in text.split(","))


Together = Annotated[
    str | None,
    typer.Option(
        "--together",
        callback=together_sizes,
        help="also choose the best set of each of these sizes jointly, e.g. 2,3 (default: 2 to open_sites)",
        show_default=False,
    ),
]
