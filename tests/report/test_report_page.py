"""The HTML report: every section and chart is there, it is self-contained, deterministic,
and never shows where an individual child lives."""

import re
from collections import Counter
from pathlib import Path

import pytest

from data.loader import LoadedCase
from models.results import Allocation
from report import build_report
from report.areas import home_areas
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
