"""`allocator demo` and `allocator export-template` from the outside: files written, or one line and exit 2."""

import json
import re
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.jobs import DemoRunOptions, demo_run
from cli.demo import DEMO_TITLE, register
from data.loader import load_case
from report.bundle import bundled_case
from tests.report.report_fixtures import LANCASHIRE, children_rows


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test app"""

    register(app)
    return app


def test_demo_writes_allocation_summary_and_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    started = time.perf_counter()
    result = CliRunner().invoke(cli(), ["demo", "--out", str(out)])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir())
    assert written == ["allocation.csv", "explanations.csv", "report.html", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    children = children_rows(LANCASHIRE)
    assert summary["placed"] + summary["unplaced"] == len(children) == 600
    placed_row = next(line for line in result.stdout.splitlines() if "children placed" in line)
    assert str(summary["placed"]) in placed_row
    assert f"report: {(out / 'report.html').absolute()}" in result.stdout
    assert "solve time" in result.stdout
    assert elapsed < 10  # the solve itself is well under 2 s; this includes reading and the report
    report = (out / "report.html").read_text()
    assert "Lancashire placement round (synthetic children)" in report
    assert report.count('class="home-area"') == len({(r["district"], r["ward"]) for r in children})


@pytest.mark.parametrize("where", ["proc", "file", "under-file"])
def test_demo_to_an_unwritable_place_is_one_line_and_exit_2(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me\n")
    out = {"proc": Path("/proc/allocator-demo"), "file": blocker, "under-file": blocker / "out"}[where]
    before = sorted(tmp_path.rglob("*"))
    result = CliRunner().invoke(cli(), ["demo", "--out", str(out)])
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: cannot write to {out}")
    assert sorted(tmp_path.rglob("*")) == before
    assert blocker.read_text() == "keep me\n"


def test_export_template_refuses_other_suffixes_and_unwritable_places(tmp_path: Path) -> None:
    runner = CliRunner()
    wrong = runner.invoke(cli(), ["export-template", str(tmp_path / "case.csv")])
    assert wrong.exit_code == 2
    assert wrong.stderr.strip().endswith("must end in .xlsx")
    unwritable = runner.invoke(cli(), ["export-template", "/proc/allocator-template.xlsx"])
    assert unwritable.exit_code == 2
    assert len(unwritable.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_demo_writes_what_the_demo_run_function_returns(tmp_path: Path) -> None:
    """The command only writes what `api.jobs.demo_run` (the function it calls) makes."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli(), ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    output = demo_run(load_case(bundled_case()), DemoRunOptions(title=DEMO_TITLE, time_limit=60))
    assert sorted(output.files) == sorted(p.name for p in out.iterdir())
    for name, content in output.files.items():
        written = (out / name).read_text()
        if name == "summary.json":  # solve_seconds
            content, written = (re.sub(r'"solve_seconds": [0-9.]+', "", text) for text in (content, written))
        assert content == written, name
    assert output.placements and len(output.placements) == 600
