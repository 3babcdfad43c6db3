"""The demo's report laid out by headless Chromium at the widths a panel or an estates team reads it:
a 1,000 px browser window, and printed (print media at 1,000 px, and at the width of an A4 portrait
page inside the margins the report's print style sets). Its tables must fit (no column clipped or
scrolled out of sight) and no word may be broken across lines.

Chromium comes from Debian (`tests/browser/install_chromium.sh`); without it the tests skip.
"""

from typing import Any

import pytest
from typer.testing import CliRunner

from tests.browser.chromium import PageVisit, View, find_chromium, open_page_views
from tests.report.test_demo_cli import cli

# A4 is 210 mm wide; the report's print style sets 12 mm page margins: 186 mm at 96 px per inch.
A4_PORTRAIT_PX = round((210 - 2 * 12) / 25.4 * 96)
VIEWS = {
    "screen-1000": View(1000, 900, "screen"),
    "print-1000": View(1000, 900, "print"),
    "print-a4-portrait": View(A4_PORTRAIT_PX, 1100, "print"),
}

# For each table: the box it has to fit in (its parent: a scroll container or the section), its
# cells' rightmost edge, and every word (a run of non-space characters in one text node) whose
# rendered range covers more than one line.
INSPECT = r"""(() => {
  const table = (selector) => {
    const element = document.querySelector(selector);
    if (!element) return null;
    const box = element.parentElement;
    const cells = [...element.querySelectorAll('th, td, caption')];
    const broken = [];
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
    return {
      rows: element.rows.length,
      boxScrollWidth: box.scrollWidth, boxClientWidth: box.clientWidth,
      boxRight: box.getBoundingClientRect().right,
      tableRight: element.getBoundingClientRect().right,
      cellsRight: Math.max(...cells.map(c => c.getBoundingClientRect().right)),
      viewport: document.documentElement.clientWidth,
      styles: [...new Set(cells.map(c => {
        const style = getComputedStyle(c);
        return `${style.wordBreak} ${style.overflowWrap}`;
      }))],
      broken,
    };
  };
  const chart = document.querySelector('#chart-places');
  const chartBox = chart.getBoundingClientRect();
  const labels = [...chart.querySelectorAll('text[text-anchor="end"]')].map(label => {
    const box = label.getBoundingClientRect();
    return {text: label.textContent, left: box.left - chartBox.left, right: box.right - chartBox.left};
  });
  return {sites: table('#sites-table'), figures: table('table.figures'), media: matchMedia('print').matches,
          placesLabels: labels, placesWidth: chartBox.width};
})()"""


@pytest.fixture(scope="module")
def visits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PageVisit]:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed: run tests/browser/install_chromium.sh (Debian package 'chromium')")
    out = tmp_path_factory.mktemp("layout") / "out"
    result = CliRunner().invoke(cli(), ["demo", "--out", str(out)])  # the bundled Lancashire case
    assert result.exit_code == 0, result.output
    seen = open_page_views(chromium, out / "report.html", INSPECT, list(VIEWS.values()))
    for name, visit in zip(VIEWS, seen, strict=True):
        (out.parent / f"{name}.png").write_bytes(visit.screenshot_png)
    return dict(zip(VIEWS, seen, strict=True))


def _fits(table: dict[str, Any], view: View) -> None:
    assert table["viewport"] == view.width
    assert table["boxScrollWidth"] <= table["boxClientWidth"], table  # nothing to scroll to
    assert table["tableRight"] <= table["boxRight"] + 0.5, table
    assert table["cellsRight"] <= table["boxRight"] + 0.5, table  # every column inside its box...
    assert table["cellsRight"] <= view.width, table  # ...and inside the page


@pytest.mark.slow
@pytest.mark.parametrize("view", list(VIEWS))
def test_candidate_sites_table_fits_1000px_and_print(visits: dict[str, PageVisit], view: str) -> None:
    visit = visits[view]
    assert visit.console_errors == []
    assert visit.evaluated["media"] == (VIEWS[view].media == "print")
    sites = visit.evaluated["sites"]
    assert sites is not None and sites["rows"] == 1 + 4  # the heading row and Lancashire's four sites
    _fits(sites, VIEWS[view])
    assert sites["broken"] == []  # fitting is not bought by breaking words either


@pytest.mark.slow
@pytest.mark.parametrize("view", list(VIEWS))
def test_figures_table_breaks_no_word(visits: dict[str, PageVisit], view: str) -> None:
    figures = visits[view].evaluated["figures"]
    assert figures is not None and figures["rows"] >= 10
    assert figures["styles"] == ["normal normal"]  # word-break, overflow-wrap: never mid-word
    assert figures["broken"] == []
    _fits(figures, VIEWS[view])


@pytest.mark.slow
@pytest.mark.parametrize("view", list(VIEWS))
def test_places_chart_labels_are_distinct_and_drawn_whole(visits: dict[str, PageVisit], view: str) -> None:
    seen = visits[view].evaluated
    labels = seen["placesLabels"]
    assert len(labels) == 48  # every Lancashire school, resource base, provider and candidate site has places
    assert len({label["text"] for label in labels}) == len(labels)
    assert any("…" in label["text"] for label in labels)  # some names are cut: the case the labels are for
    assert all(label["left"] >= 0 and label["right"] <= seen["placesWidth"] for label in labels), labels
