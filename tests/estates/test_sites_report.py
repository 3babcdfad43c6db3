"""`allocator sites` writes report.html with the candidate-sites section beside its other files."""

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from allocator.estates.files import sites_files
from allocator.estates.sites import evaluate_sites
from cli.estates import register
from data.loader import load_case
from tests.report.report_fixtures import LANCASHIRE, SAMPLE
from tests.report.test_sites_section import Elements


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test app"""

    register(app)
    return app


def _run_sites(case_dir: Path, out: Path) -> dict[str, bytes]:
    result = CliRunner().invoke(cli(), ["sites", str(case_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {path.name: path.read_bytes() for path in out.iterdir()}


@pytest.mark.parametrize("case_dir", [SAMPLE, LANCASHIRE], ids=["sample", "lancashire"])
def test_sites_writes_the_report_with_the_section(case_dir: Path, tmp_path: Path) -> None:
    first = _run_sites(case_dir, tmp_path / "first")
    second = _run_sites(case_dir, tmp_path / "second")
    assert first == second  # byte-identical, report included
    assert sorted(first) == ["marginal.csv", "report.html", "sites.csv", "sites.json"]
    # The files written before the report existed are unchanged.
    report = evaluate_sites(load_case(case_dir))
    for name, text in sites_files(report).items():
        assert first[name] == text.encode(), name
    page = Elements(first["report.html"].decode())
    assert page.find("section", id="section-candidate-sites")
    sites_csv = first["sites.csv"].decode().splitlines()[1:]
    csv_order = [line.split(",")[1] for line in sites_csv]
    table = [attrs["data-site-id"] for tag, attrs in page.tags if tag == "tr" and "data-site-id" in attrs]
    assert table == csv_order
    chosen = {attrs["data-site-id"] for attrs in page.find("g", class_="candidate-site", data_chosen="true")}
    assert chosen == set(report.joint.summary.opened_sites)
    # The rest of the report is the joint choice's run: its placement map marks the chosen sites opened.
    opened = {attrs["data-kind"] for attrs in page.find("g", class_="school") if attrs["data-opened"] == "true"}
    assert opened == {"candidate"}


def test_invalid_case_writes_nothing(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(SAMPLE, case_dir)
    with (case_dir / "places.csv").open("a") as handle:
        handle.write("NOWHERE,ASD,1\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli(), ["sites", str(case_dir), "--out", str(out)])
    assert result.exit_code == 2
    assert "places.csv:" in result.stderr
    assert not out.exists()
