"""The report's stability section: the counts of summary.json, the price of stability of a stable
run (recomputed from the two summaries), plain words, no child named, the same bytes twice."""

import re

from allocator.solve import allocate
from api.jobs import with_run_policy
from data.loader import load_case
from report.page import build_report
from report.stability import STABILITY_TITLE, stability_sections
from tests.report.report_fixtures import LANCASHIRE, children_rows

CELL = re.compile(r'<th scope="row">([^<]*)</th>((?:<td>[^<]*</td>)+)</tr>')


def _rows(html: str) -> dict[str, list[str]]:
    return {label: re.findall(r"<td>([^<]*)</td>", cells) for label, cells in CELL.findall(html)}


def _number(text: str) -> int:
    return int(text.replace(",", "").replace("+", ""))


def test_optimal_run_section_counts_the_summary() -> None:
    loaded = load_case(LANCASHIRE)
    allocation = allocate(loaded)
    ((title, html),) = stability_sections(allocation, loaded.case.policy)
    stability = allocation.summary.stability
    assert title == STABILITY_TITLE and stability is not None and stability.justified_envy > 0
    values = [_number(cells[0]) for cells in _rows(html).values()]
    assert values == [stability.justified_envy, stability.prefers_free_place]
    assert "price of stability" not in html
    ids = {row["child_id"] for row in children_rows(LANCASHIRE)}
    assert not any(re.search(rf"\b{re.escape(child_id)}\b", html) for child_id in ids)
    assert "priority 0" not in html and "(s)" not in html


def test_stable_run_section_shows_the_price() -> None:
    loaded = load_case(LANCASHIRE)
    optimal = allocate(loaded).summary
    stable = allocate(with_run_policy(loaded, "stable", None)).summary
    allocation = allocate(with_run_policy(loaded, "stable", None))
    ((_, html),) = stability_sections(allocation, loaded.case.policy)
    rows = _rows(html)
    assert [_number(v[0]) for v in list(rows.values())[:2]] == [0, 0]
    assert rows["preference cost (sum of ranks)"] == [
        f"{optimal.preference_cost:,}",
        f"{stable.preference_cost:,}",
        _signed(stable.preference_cost - optimal.preference_cost),
    ]
    assert rows["travel minutes (all placed children)"][2] == _signed(stable.travel_minutes - optimal.travel_minutes)
    standard = rows["children placed (standard priority)"]
    assert [_number(v) for v in standard[:2]] == [optimal.placed_by_priority["0"], stable.placed_by_priority["0"]]
    assert "out of education" in html and "priority level" not in html


def _signed(value: int) -> str:
    return "0" if value == 0 else ("+" if value > 0 else "-") + f"{abs(value):,}"


def test_report_with_the_section_is_deterministic() -> None:
    loaded = load_case(LANCASHIRE)
    pages = [
        build_report(loaded.case, allocation, extra_sections=stability_sections(allocation, loaded.case.policy))
        for allocation in (allocate(loaded), allocate(loaded))
    ]
    assert pages[0] == pages[1] and STABILITY_TITLE in pages[0]
