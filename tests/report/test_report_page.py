"""The HTML report: every section and chart is there, it is self-contained, deterministic,
and never shows where an individual child lives."""

import re
from collections import Counter
from pathlib import Path

import pytest

from allocator.estates.sites import whole_pounds
from allocator.solve import allocate
from data.loader import LoadedCase
from models.results import Allocation
from report import build_report
from report.areas import home_areas
from report.svg import thousands
from tests.core.helpers import child, make_case, places, school
from tests.report.report_fixtures import LANCASHIRE, SAMPLE, children_rows, solved

CHART_IDS = [
    "map",
    "chart-need",
    "chart-district",
    "chart-travel-primary",
    "chart-travel-secondary",
    "chart-places",
    "chart-cost",
]
SECTION_IDS = ["figures", "map", "need", "district", "travel", "places", "cost", "unplaced"]
Report = tuple[Path, str, LoadedCase, Allocation]  # case folder, its report, the loaded case, its allocation


def wards_of(case_dir: Path) -> dict[str, str]:
    """child_id -> ward straight from children.csv, independent of the loader."""
    return {row["child_id"]: row["ward"] for row in children_rows(case_dir) if row.get("ward")}


@pytest.fixture(scope="module", params=[SAMPLE, LANCASHIRE], ids=["sample", "lancashire"])
def report(request: pytest.FixtureRequest) -> Report:
    case_dir: Path = request.param
    loaded, allocation = solved(case_dir)
    html = build_report(loaded.case, allocation, title="Test round", wards=wards_of(case_dir) or None)
    return case_dir, html, loaded, allocation


def test_every_section_and_chart_is_present(report: Report) -> None:
    _, html, _, _ = report
    for section in SECTION_IDS:
        assert f'id="section-{section}"' in html
        assert f'href="#section-{section}"' in html
    for chart in CHART_IDS:
        match = re.search(rf'<svg id="{chart}" data-chart="[a-z-]+"[^>]*role="img"', html)
        assert match, chart
        assert f'<title id="{chart}-title">' in html


def test_unplaced_children_are_listed_with_their_reasons(report: Report) -> None:
    _, html, _, allocation = report
    table = html[html.index('id="section-unplaced"') :]
    unplaced = [p for p in allocation.placements if not p.placed]
    assert unplaced, "both cases leave someone unplaced"
    assert f"{len(unplaced)} children without a place" in table
    for placement in unplaced:
        assert f"<td>{placement.child_id}</td>" in table
        assert placement.reason is not None
        assert placement.reason.value in table
    placed_ids = [p.child_id for p in allocation.placements if p.placed]
    assert not any(f"<td>{child_id}</td>" in table for child_id in placed_ids)


def test_no_child_home_coordinates_appear(report: Report) -> None:
    case_dir, html, _, _ = report
    for row in children_rows(case_dir):
        for column in ("lat", "lon"):
            written = row[column]
            assert written not in html
            assert repr(float(written)) not in html


def test_map_shows_areas_not_children(report: Report) -> None:
    case_dir, html, loaded, allocation = report
    rows = children_rows(case_dir)
    wards = wards_of(case_dir)
    areas, flows = home_areas(loaded.case, allocation, wards or None)
    circles = html.count('class="home-area"')
    assert circles == len(areas)
    if wards:
        assert circles == len({(r["district"], r["ward"]) for r in rows})
        assert circles < len(rows)
    assert sum(area.children for area in areas) == len(rows)
    assert sum(flow.children for flow in flows) == allocation.summary.placed
    markers = Counter(re.findall(r'<g class="school" data-kind="([a-z_]+)"', html))
    assert sum(markers.values()) == len(loaded.case.schools)
    opened = allocation.summary.opened_sites
    assert html.count('data-kind="candidate" data-opened="true"') == len(opened)


def test_travel_chart_counts_children_beyond_the_limit(report: Report) -> None:
    case_dir, html, loaded, allocation = report
    ages = {r["child_id"]: int(r["age"]) for r in children_rows(case_dir)}
    policy = loaded.case.policy
    for phase, limit in (
        ("primary", policy.max_travel_minutes.primary),
        ("secondary", policy.max_travel_minutes.secondary),
    ):
        placed = [p for p in allocation.placements if p.placed and (ages[p.child_id] <= 10) == (phase == "primary")]
        minutes = [p.travel_minutes for p in placed if p.travel_minutes is not None]
        assert len(minutes) == len(placed)  # every placed child has its travel minutes
        over = sum(1 for m in minutes if m > limit)
        chart = html[html.index(f'<svg id="chart-travel-{phase}"') :]
        chart = chart[: chart.index("</svg>")]
        assert f"{len(minutes)} children placed; {over} travel beyond the {limit}-minute limit" in chart


def test_report_is_self_contained_and_deterministic(report: Report) -> None:
    case_dir, html, loaded, allocation = report
    again = build_report(
        loaded.case,
        allocation,
        title="Test round",
        wards=wards_of(case_dir) or None,
    )
    assert again == html
    assert "<script" not in html
    urls = set(re.findall(r"https?://[^\"' )]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert re.findall(r'(?:src|href)="([^"#][^"]*)"', html) == ["data:,"]
    assert "@media print" in html


def test_extra_sections_are_added_before_the_unplaced_table() -> None:
    loaded, allocation = solved(SAMPLE)
    html = build_report(loaded.case, allocation, extra_sections=[("Candidate sites", "<p>site figures</p>")])
    assert 'href="#section-candidate-sites"' in html
    assert html.index("<p>site figures</p>") < html.index('id="section-unplaced"')


def test_grid_cells_are_used_when_no_ward_is_given() -> None:
    loaded, allocation = solved(SAMPLE)
    areas, _ = home_areas(loaded.case, allocation, None)
    assert all(area.name.startswith("grid cell R") for area in areas)
    # C001 and C010 live 1.6 km apart in the same district: at most one area each, and every
    # area centre is a grid-cell centre, not a child's home.
    homes = {(c.lat, c.lon) for c in loaded.case.children}
    assert not any((a.lat, a.lon) in homes for a in areas)


def test_report_bytes_do_not_depend_on_the_solve_time() -> None:
    loaded, allocation = solved(LANCASHIRE)
    slower = allocation.model_copy(update={"summary": allocation.summary.model_copy(update={"solve_seconds": 7.3})})
    _, second = solved(LANCASHIRE)
    first_html = build_report(loaded.case, allocation)
    assert build_report(loaded.case, slower) == first_html
    assert build_report(loaded.case, second) == first_html


def _travel_figure(html: str, phase: str) -> tuple[str, str]:
    """(the chart's title, the figure's caption) of one phase's travel histogram."""
    start = html.index(f'<svg id="chart-travel-{phase}"')
    figure = html[start : html.index("</figure>", start)]
    title = re.search(r"<title id=\"chart-travel-[a-z]+-title\">([^<]*)</title>", figure)
    caption = re.search(r"<figcaption>([^<]*)", figure)
    assert title and caption
    return title.group(1), caption.group(1)


def test_secondary_travel_caption_gives_its_own_ages_and_limit() -> None:
    # Limits away from the defaults (45, 75) and from each other, so that a caption repeating the
    # other phase's figures, or the defaults, is caught.
    random_case = make_case(
        [school("S1")],
        [places("S1", 2)],
        [child("K1", age=10), child("K2", age=11)],
        minutes={("K1", "S1"): 12, ("K2", "S1"): 61},
        limits=(38, 62),
    )
    loaded = random_case.loaded()
    html = build_report(loaded.case, allocate(loaded))
    primary_title, primary = _travel_figure(html, "primary")
    secondary_title, secondary = _travel_figure(html, "secondary")
    assert primary_title == "Travel times of placed primary-age children (limit 38 minutes)"
    assert secondary_title == "Travel times of placed secondary-age children (limit 62 minutes)"
    assert primary.startswith("Primary phase (ages 10 and under; the policy's limit is 38 minutes)")
    assert secondary.startswith("Secondary phase (ages 11 and over; the policy's limit is 62 minutes)")
    assert "62-minute limit" in secondary and "38" not in secondary and "10" not in secondary
    assert "38-minute limit" in primary and "62" not in primary and "11" not in primary
    for default in ("45", "75"):
        assert default not in primary + secondary


def test_report_money_rounds_halves_up_like_sites_csv() -> None:
    for amount, shown in ((2.5, "3"), (3.5, "4"), (33_500.5, "33,501"), (1_234_567.4, "1,234,567"), (-2.5, "-3")):
        assert thousands(amount) == shown
        assert f"{whole_pounds(amount):,}" == shown
