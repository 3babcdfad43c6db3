"""The report page: one self-contained HTML file (inline CSS and SVG, no script, no network).

`build_report` is deterministic: the same case and allocation give the same bytes.
Other parts of the project may add sections with `extra_sections` (title, HTML fragment);
each is placed before the unplaced-children table and listed in the page's contents.
"""

import re
from collections.abc import Mapping, Sequence

from models.case import Case
from models.results import Allocation
from report.areas import home_areas
from report.fairness import fairness_section
from report.map import placement_map
from report.preferences import explanation_sections
from report.sections import (
    cost_section,
    district_chart,
    figure,
    need_chart,
    places_chart,
    run_figures,
    travel_charts,
    unplaced_table,
)
from report.svg import esc

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; color: #222;
  margin: 0 auto; max-width: 980px; padding: 0 16px 48px; line-height: 1.45; }
header { border-bottom: 3px solid #0072B2; margin-bottom: 8px; }
h1 { font-size: 1.7rem; margin: 24px 0 4px; }
h2 { font-size: 1.3rem; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.lede { color: #555; margin-top: 0; }
nav ol { columns: 2; padding-left: 20px; }
figure { margin: 12px 0 20px; }
figcaption { color: #555; font-size: 0.9rem; margin-top: 4px; }
svg { width: 100%; max-width: 100%; height: auto; display: block; }
#map { max-width: 780px; margin: 0 auto; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.92rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 10px 4px 0; text-align: left; vertical-align: top; }
table.figures th { font-weight: normal; color: #444; max-width: 460px; }
table.figures td { font-variant-numeric: tabular-nums; }
code.hash { font-size: 0.9em; white-space: nowrap; }
code.hash span { display: inline-block; }
@media screen and (max-width: 640px) { code.hash { white-space: normal; } }
.nowrap { white-space: nowrap; }
.table-scroll { overflow-x: auto; }
table.unplaced { width: 100%; }
table.sites { width: 100%; font-size: 0.85rem; }
table.sites th, table.sites td { padding: 4px 8px 4px 0; }
table.sites .num { text-align: right; font-variant-numeric: tabular-nums; }
table.sites td.num { white-space: nowrap; }
table.sites td.site { min-width: 9em; }
table.sites tr.chosen { background: #FBEFF5; }
.headline { font-size: 1.2rem; }
footer { margin-top: 40px; color: #666; font-size: 0.85rem; }
@page { margin: 12mm; }
@media print {
  nav { display: none; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  table { font-size: 9pt; }
  table.sites { font-size: 8pt; }
  table.sites th, table.sites td { padding: 3px 4px 3px 0; }
  .table-scroll { overflow: visible; }
  section { break-inside: avoid-page; }
  figure, tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def build_report(
    case: Case,
    allocation: Allocation,
    *,
    title: str = "Placement round",
    wards: Mapping[str, str] | None = None,
    extra_sections: Sequence[tuple[str, str]] = (),
) -> str:
    """The report as HTML text. `wards` maps child_id to ward name (children.csv `ward`), when given."""
    if wards is None:
        wards = {child.child_id: child.ward for child in case.children if child.ward} or None
    areas, flows = home_areas(case, allocation, wards)
    area_word = "wards" if wards else "2 km grid cells"
    sections: list[tuple[str, str, str]] = [
        ("figures", "The run in figures", run_figures(case, allocation)),
        (
            "map",
            "Map of placements",
            figure(
                placement_map(case, allocation, areas, flows),
                f"Children's homes are grouped into {area_word} (never shown individually); each circle is an area, "
                "sized by its number of children. Hover a marker for its name and figures.",
            ),
        ),
        ("need", "Placed and unplaced by need", need_chart(allocation)),
        (
            "district",
            "Placed and unplaced by district",
            figure(district_chart(allocation), "District of the child's home (children.csv district)."),
        ),
        *(
            [("fairness", "Fairness between districts", fairness_section(allocation))]
            if allocation.summary.fairness
            else []
        ),
        ("travel", "Travel times against the limits", travel_charts(case, allocation)),
        ("places", "Places used and free by school", places_chart(case, allocation)),
        ("cost", "Cost a year", cost_section(case, allocation)),
    ]
    sections += explanation_sections(case, allocation)
    for extra_title, extra_html in extra_sections:
        sections.append((_slug(extra_title), extra_title, extra_html))
    sections.append(("unplaced", "Children without a place, and why", unplaced_table(case, allocation)))
    contents = "".join(f'<li><a href="#section-{key}">{esc(name)}</a></li>' for key, name, _ in sections)
    body = "".join(
        f'<section id="section-{key}" aria-labelledby="heading-{key}"><h2 id="heading-{key}">{esc(name)}</h2>'
        f"{html}</section>"
        for key, name, html in sections
    )
    version = allocation.summary.software.get("send-allocator", "unknown")
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{esc(title)}</h1><p class="lede">Allocation of children with EHCPs to specialist places: '
        f"{allocation.summary.status.value} result. Children are shown only by pseudonymous id and as counts by "
        f"area.</p></header>"
        f'<nav aria-label="Contents"><ol>{contents}</ol></nav><main>{body}</main>'
        f"<footer>Made by send-allocator {esc(version)}. Input sha256 {esc(allocation.summary.input_sha256)}."
        "</footer></body></html>\n"
    )


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "extra"
