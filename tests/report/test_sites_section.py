"""The report's candidate-sites section: map, table and summary, on hand-checked and real cases."""

import csv
import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allocator.estates.files import sites_files
from allocator.estates.sites import evaluate_sites, sites_section
from data.loader import load_case
from models.case import SchoolKind
from report.sites import TABLE_COLUMNS, candidate_sites_sections, sites_section_html
from tests.core.helpers import child, make_case, places, school
from tests.report.report_fixtures import LANCASHIRE, SAMPLE
from tests.report.test_demo_cli import cli
from tests.strategies import RandomCase


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order, plus the page's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **wanted: str) -> list[dict[str, str]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(wanted[k] in attrs.get(k.rstrip("_").replace("_", "-"), "").split() for k in wanted)
        ]


def _two_sites(open_sites: int) -> RandomCase:
    # S1 has one place, taken by K1. N1 (2 places) reaches K2 and K3 in 10 minutes; N2 (1 place)
    # reaches K2 in 5. Alone: N1 places 3 (gain 2), N2 places 2 (gain 1). Together: K2 -> N2,
    # K3 -> N1, 3 placed with 5 fewer minutes than N1 alone.
    return make_case(
        [school("S1"), school("N1", kind=SchoolKind.CANDIDATE), school("N2", kind=SchoolKind.CANDIDATE)],
        [places("S1", 1), places("N1", 2), places("N2", 1)],
        [child("K1"), child("K2"), child("K3")],
        minutes={
            ("K1", "S1"): 5,
            ("K2", "S1"): 30,
            ("K3", "S1"): 60,
            ("K1", "N1"): 40,
            ("K2", "N1"): 10,
            ("K3", "N1"): 10,
            ("K1", "N2"): 50,
            ("K2", "N2"): 5,
            ("K3", "N2"): 70,
        },
        open_sites=open_sites,
    )


def _section_of(random_case: RandomCase) -> str:
    report = evaluate_sites(random_case.loaded())
    return sites_section_html(random_case.case, sites_section(report), joint=report.joint)


def _candidate_ids(case_dir: Path) -> list[str]:
    with (case_dir / "schools.csv").open(encoding="utf-8", newline="") as handle:
        return [row["school_id"] for row in csv.DictReader(handle) if row["kind"] == "candidate"]


def _radius(page: Elements, site_id: str) -> float:
    index = next(i for i, (tag, attrs) in enumerate(page.tags) if attrs.get("data-site-id") == site_id and tag == "g")
    return float(next(attrs["r"] for tag, attrs in page.tags[index:] if tag == "circle"))


def test_hand_checked_two_sites_one_to_open() -> None:
    html = _section_of(_two_sites(open_sites=1))
    page = Elements(html)
    (svg,) = page.find("svg", id="map-sites")
    assert svg["data-chart"] == "sites-map"
    assert page.find("title", id="map-sites-title") and page.find("desc", id="map-sites-desc")
    markers = page.find("g", class_="candidate-site")
    assert [(m["data-site-id"], m["data-rank"], m["data-chosen"]) for m in markers] == [
        ("N2", "2", "false"),
        ("N1", "1", "true"),
    ]  # best drawn last, on top
    assert len(page.find("circle", class_="existing-school")) == 1
    assert _radius(page, "N1") > _radius(page, "N2")  # gain 2 against gain 1
    rows = page.find("tr", data_chosen="true") + page.find("tr", data_chosen="false")
    assert sorted(r["data-site-id"] for r in rows) == ["N1", "N2"]
    table_order = [attrs["data-site-id"] for tag, attrs in page.tags if tag == "tr" and "data-site-id" in attrs]
    assert table_order == ["N1", "N2"]
    assert [r["data-site-id"] for r in page.find("tr", data_chosen="true")] == ["N1"]
    summary = " ".join("".join(page.text).split())
    assert "Opening N1 School (N1) places 2 more children than opening no site (3 of 3 placed instead of 1)" in summary
    assert "total one-way travel rises by 20 minutes" in summary  # 25 minutes against 5
    assert "It is also the best choice of up to 1 site opened together" in summary


def test_hand_checked_two_sites_opened_together() -> None:
    page = Elements(_section_of(_two_sites(open_sites=2)))
    assert sorted(m["data-site-id"] for m in page.find("g", data_chosen="true")) == ["N1", "N2"]
    assert len(page.find("g", class_="chosen-label")) == 2
    summary = " ".join("".join(page.text).split())
    assert "up to 2 sites opened together (the joint choice) is N1 School (N1), N2 School (N2)" in summary
    assert "together they place 2 more children than opening no site" in summary


def test_no_candidate_sites_gives_a_sentence_and_no_section_in_the_demo() -> None:
    random_case = make_case([school("S1")], [places("S1", 1)], [child("K1")])
    assert "lists no candidate sites" in _section_of(random_case)
    assert candidate_sites_sections(random_case.loaded().case, None) == []


def test_text_is_escaped() -> None:
    random_case = _two_sites(open_sites=1)
    report = evaluate_sites(random_case.loaded())
    section: dict[str, Any] = sites_section(report)
    section["sites"][0]["name"] = "<script>alert(1)</script> & co"
    html = sites_section_html(random_case.case, section)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


@pytest.mark.parametrize("case_dir", [SAMPLE, LANCASHIRE], ids=["sample", "lancashire"])
def test_section_on_the_bundled_cases(case_dir: Path) -> None:
    loaded = load_case(case_dir)
    report = evaluate_sites(loaded)
    section = sites_section(report)
    html = sites_section_html(loaded.case, section, joint=report.joint)
    assert html == sites_section_html(loaded.case, section, joint=report.joint)  # deterministic
    page = Elements(html)
    candidates = _candidate_ids(case_dir)
    markers = page.find("g", class_="candidate-site")
    assert sorted(m["data-site-id"] for m in markers) == sorted(candidates)
    existing = len(loaded.case.schools) - len(candidates)
    assert len(page.find("circle", class_="existing-school")) == existing
    table = [attrs for tag, attrs in page.tags if tag == "tr" and "data-site-id" in attrs]
    assert [row["data-site-id"] for row in table] == [site.site_id for site in report.sites]
    chosen = set(report.joint.summary.opened_sites)
    assert chosen and {r["data-site-id"] for r in table if r["data-chosen"] == "true"} == chosen
    assert {m["data-site-id"] for m in markers if m["data-chosen"] == "true"} == chosen
    ranks = {m["data-site-id"]: int(m["data-rank"]) for m in markers}
    assert [ranks[row["data-site-id"]] for row in table] == list(range(1, len(candidates) + 1))
    best = report.sites[0].summary.placed - report.baseline.summary.placed
    assert re.search(rf"places {best} more child(ren)? than opening no site", "".join(page.text))
    assert "<script" not in html


def test_demo_report_has_the_candidate_sites_section(tmp_path: Path) -> None:
    outputs = []
    for run in ("first", "second"):
        out = tmp_path / run
        result = CliRunner().invoke(cli(), ["demo", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "candidate sites evaluated in" in result.stdout
        outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outputs[0] == outputs[1]
    report = outputs[0]["report.html"].decode()
    page = Elements(report)
    assert page.find("section", id="section-candidate-sites")
    assert page.find("a", href="#section-candidate-sites")
    assert len(page.find("g", class_="candidate-site")) == len(_candidate_ids(LANCASHIRE)) == 4


def test_demo_of_a_case_without_candidate_sites_has_no_section(tmp_path: Path) -> None:
    case_dir = tmp_path / "no-sites"
    shutil.copytree(SAMPLE, case_dir)
    candidates = set(_candidate_ids(SAMPLE))
    for name in ("schools.csv", "places.csv"):
        lines = (case_dir / name).read_text().splitlines(keepends=True)
        (case_dir / name).write_text("".join(line for line in lines if line.split(",")[0] not in candidates))
    result = CliRunner().invoke(cli(), ["demo", str(case_dir), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "candidate sites evaluated in" not in result.stdout
    assert "section-candidate-sites" not in (tmp_path / "out" / "report.html").read_text()


def test_sites_table_figures_read_as_numbers_when_pasted_into_a_spreadsheet() -> None:
    loaded = load_case(LANCASHIRE)
    report = evaluate_sites(loaded)
    html = sites_section_html(loaded.case, sites_section(report), joint=report.joint)
    with io.StringIO(sites_files(report)["sites.csv"]) as handle:
        csv_rows = {row["site_id"]: row for row in csv.DictReader(handle)}
    columns = [key for key, _ in TABLE_COLUMNS]
    negatives = 0
    for site_id, row_html in re.findall(r'<tr data-site-id="([^"]+)".*?>(.*?)</tr>', html):
        cells = re.findall(r'<td class="num">([^<]*)</td>', row_html)
        assert len(cells) == len(columns)
        for column, cell in zip(columns, cells, strict=True):
            assert re.fullmatch(r"-?£?\d{1,3}(,\d{3})*", cell), cell  # ASCII minus, no U+2212
            assert cell.replace("£", "").replace(",", "") == csv_rows[site_id][column]
            negatives += cell.startswith("-")
    assert len(csv_rows) == 4 and negatives > 0  # Lancashire has negative savings to show
