"""Every argument and option of the `allocator` commands, defined once."""

from pathlib import Path
from typing import Annotated

import typer

from api.access import Role

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
