"""The report's fairness section: accessible inline SVG (title, description, every value as
text), no script, the same bytes on every run, and the price of a [fairness] rule in words."""

import re

from allocator.solve import allocate
from api.jobs import with_run_policy
from data.loader import load_case
from models.case import FairnessRule
from report.fairness import fairness_section
from report.page import build_report
from tests.conftest import SAMPLE_CASE


def test_fairness_charts_are_accessible_and_write_every_value() -> None:
    loaded = load_case(SAMPLE_CASE)
    allocation = allocate(loaded)
    html = build_report(loaded.case, allocation)
    assert '<section id="section-fairness"' in html and "<script" not in html
    section = re.search(r'<section id="section-fairness".*?</section>', html, re.S)
    assert section is not None
    for chart in ("chart-fairness-share", "chart-fairness-travel"):
        assert f'<svg id="{chart}"' in section.group(0)
        assert f'<title id="{chart}-title">' in section.group(0) and f'<desc id="{chart}-desc">' in section.group(0)
    figures = allocation.summary.fairness["by_district"]
    for name, district in figures.items():
        assert f">{name}<" in section.group(0)
        share = f"{district['placed_share'] * 100:.1f}".rstrip("0").rstrip(".")
        assert f">{share}%<" in section.group(0)
        if district["mean_travel_minutes"] is not None:
            mean = f"{district['mean_travel_minutes']:.1f}".rstrip("0").rstrip(".")
            assert f">{mean} min<" in section.group(0)
    assert build_report(loaded.case, allocate(loaded)) == html
    assert "Compared with the same round without that rule" not in html


def test_a_rule_is_described_with_its_price() -> None:
    allocation = allocate(
        with_run_policy(load_case(SAMPLE_CASE), None, FairnessRule(balance="districts", travel="kolm_pollak"))
    )
    html = fairness_section(allocation)
    price = allocation.summary.price_of_fairness
    assert price is not None
    assert "evened out the share of children left without a place in each district" in html
    assert "counted long journeys more heavily" in html
    assert "without placing fewer children of any priority" in html
    assert "priority 0" not in html and "(s)" not in html
