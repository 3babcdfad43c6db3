"""The demo's report.html opened in headless Chromium: no console errors, no network, the map
and every chart drawn with a real size, and a screenshot saved.

Chromium comes from Debian (`tests/browser/install_chromium.sh`); without it the test skips.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.browser.chromium import find_chromium, open_page
from tests.report.test_demo_cli import cli

EXPECTED_CHARTS = {
    "map",
    "need",
    "district",
    "travel-primary",
    "travel-secondary",
    "places",
    "cost",
    "sites-map",
    "fairness-share",
    "fairness-travel",
}

INSPECT = """(() => {
  const charts = [...document.querySelectorAll('svg[data-chart]')].map(svg => {
    const box = svg.getBoundingClientRect();
    return {chart: svg.dataset.chart, id: svg.id, width: box.width, height: box.height,
            children: svg.childElementCount, drawn: svg.querySelectorAll('rect,circle,path,line').length};
  });
  const markers = [...document.querySelectorAll('#map g.school')].map(g => {
    const box = g.getBoundingClientRect();
    return {kind: g.dataset.kind, width: box.width, height: box.height};
  });
  const sites = [...document.querySelectorAll('#map-sites g.candidate-site')].map(g => {
    const box = g.getBoundingClientRect();
    return {width: box.width, height: box.height};
  });
  return {charts, markers, sites, areas: document.querySelectorAll('#map .home-area').length,
          unplacedRows: document.querySelectorAll('#unplaced-table tbody tr').length};
})()"""


@pytest.mark.slow
def test_report_renders_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed: run tests/browser/install_chromium.sh (Debian package 'chromium')")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli(), ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = out / "report.html"

    visit = open_page(chromium, report, INSPECT)

    assert visit.console_errors == []
    assert visit.requests == [report.absolute().as_uri()]  # nothing fetched but the page itself
    seen = visit.evaluated
    charts = {chart["chart"]: chart for chart in seen["charts"]}
    assert set(charts) == EXPECTED_CHARTS
    for chart in charts.values():
        assert chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["children"] > 2 and chart["drawn"] > 3, chart
    assert len(seen["markers"]) == 48  # every school, resource base, provider and candidate site
    assert {marker["kind"] for marker in seen["markers"]} == {"special", "resource_base", "independent", "candidate"}
    assert all(marker["width"] > 0 and marker["height"] > 0 for marker in seen["markers"])
    assert seen["areas"] > 50
    assert len(seen["sites"]) == 4 and all(site["width"] > 0 and site["height"] > 0 for site in seen["sites"])
    assert seen["unplacedRows"] == json.loads((out / "summary.json").read_text())["unplaced"]
    screenshot = tmp_path / "report.png"
    screenshot.write_bytes(visit.screenshot_png)
    assert visit.screenshot_png.startswith(b"\x89PNG\r\n\x1a\n") and screenshot.stat().st_size > 20_000
