"""The report's candidate-sites section: a map of the candidate sites, their table and a summary.

Input is the section data of `allocator.estates.sites.sites_section` (rows as in sites.csv,
best first, with each site's lat/lon). On the map, existing schools are faint grey dots; each
candidate site is a circle whose area and colour grow with its `placed_gain` (children placed
with that site alone opened, minus the baseline's), labelled by its rank; the sites of the joint
choice have a dark ring and their name beside them. Same projection as the placement map.
Output is deterministic (numbers through `svg.num`), text is escaped, and there is no script.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

from allocator.estates.files import sites_files
from allocator.estates.sites import SitesReport, sites_section
from data.loader import LoadedCase
from models.case import Case, SchoolKind
from models.results import Allocation
from report.bundle import REPORT_FILE
from report.labels import cut
from report.map import MARGIN, WIDTH, Projection, scale_bar
from report.page import build_report
from report.sections import figure
from report.svg import GREY, INK, esc, num, svg_open, text

SECTION_TITLE = "Candidate sites"
SITES_REPORT_TITLE = "Candidate sites: the joint choice, and each site opened alone"
LEGEND_HEIGHT = 76.0
SMALLEST_RADIUS = 7.0
LARGEST_RADIUS = 20.0
LOW_GAIN_COLOUR = (0xDC, 0xEB, 0xF5)  # pale blue, no extra child placed
HIGH_GAIN_COLOUR = (0x00, 0x50, 0x7D)  # deep blue, the largest gain on the map

TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("placed", "children placed"),
    ("placed_gain", "more placed than no site"),
    ("preference_cost", "preference cost"),
    ("travel_minutes", "travel minutes"),
    ("travel_saved_minutes", "travel minutes saved"),
    ("children_newly_in_reach", "children newly in reach"),
    ("independent_placements_avoided", "independent placements avoided"),
    ("cost_gbp_year", "cost a year"),
    ("cost_saved_gbp_year", "saved a year"),
)
MONEY_COLUMNS = {"cost_gbp_year", "cost_saved_gbp_year"}

Row = Mapping[str, Any]


def sites_section_html(case: Case, section: Mapping[str, Any], *, joint: Allocation | None = None) -> str:
    """The section's HTML: summary paragraph, map and table. `joint`, when given, is the joint
    choice's allocation; its figures then go into the summary when it opens more than one site."""
    rows: Sequence[Row] = section["sites"]
    if not rows:
        return "<p>The case lists no candidate sites (schools.csv has no rows of kind candidate).</p>"
    chosen = set(section["joint_opened_sites"])
    caption = (
        "Each circle is a candidate site, numbered by its rank (1 is best: with it alone opened, most children "
        "placed by priority tier, then the least preference cost, then the least travel). Bigger and darker "
        "circles place more children than opening no site; a dark ring marks the joint choice. Grey dots are "
        "the existing schools. Hover a circle for its figures."
    )
    return (
        _summary(case, section, chosen, joint)
        + figure(sites_map(case, rows, chosen), caption)
        + _together_html(case, section)
        + _table(rows, chosen)
    )


def _together_html(case: Case, section: Mapping[str, Any]) -> str:
    """For each size chosen jointly (sites.json `joint_choices`): a sentence, a map of the chosen set
    and, as its text alternative, the list of the chosen sites."""
    rows: Sequence[Row] = section["sites"]
    by_id = {str(r["site_id"]): r for r in rows}
    parts = []
    for choice in section.get("together", []):
        opened = [by_id[site] for site in choice["opened_sites"] if site in by_id]
        size = int(choice["size"])
        status = "proven the best" if choice["status"] == "optimal" else "the best found in the time allowed"
        gain = int(choice["placed"]) - int(section["baseline"]["placed"])
        children = "child" if gain == 1 else "children"
        sentence = (
            f"Best {size} sites opened together ({status}): {len(opened)} opened, placing {choice['placed']:,} "
            f"children, {gain:,} more {children} than opening no site."
        )
        if choice["note"]:
            sentence += " " + str(choice["note"])
        items = (
            "".join(
                f'<li>{esc(r["name"])} (<span class="nowrap">{esc(r["site_id"])}</span>), '
                f"rank {esc(r['rank'])} alone</li>"
                for r in opened
            )
            or "<li>no site opened</li>"
        )
        caption = (
            f"The best {size} candidate sites opened together: chosen sites are dark, numbered and named; the other "
            "candidate sites are hollow grey rings; grey dots are the existing schools. The list below says the same."
        )
        parts.append(
            f'<div class="joint-choice" data-size="{size}"><h3>Best {size} sites together</h3>'
            f'<p class="joint-choice-summary">{esc(sentence)}</p>'
            + figure(choice_map(case, rows, size, [str(r["site_id"]) for r in opened]), caption)
            + f'<ol class="joint-choice-sites" id="joint-choice-{size}-sites">{items}</ol></div>'
        )
    return "".join(parts)


def choice_map(case: Case, rows: Sequence[Row], size: int, opened: Sequence[str]) -> str:
    """One set of sites chosen together, as <svg id="map-sites-N" data-chart="sites-choice-map">:
    the chosen sites filled, numbered 1.. in their order and named; the others hollow rings."""
    existing = [s for s in case.schools if s.kind != SchoolKind.CANDIDATE]
    points = [(s.lat, s.lon) for s in existing] + [(float(r["lat"]), float(r["lon"])) for r in rows]
    projection, plot_height = Projection.fit(points, WIDTH)
    by_id = {str(r["site_id"]): r for r in rows}
    names = "; ".join(f"{number}: {by_id[site]['name']} ({site})" for number, site in enumerate(opened, start=1))
    description = (
        f"The best {size} of {len(rows)} candidate sites opened together. Chosen: {names or 'none'}. "
        f"The other {len(rows) - len(opened)} candidate sites and {len(existing)} existing schools are shown faint."
    )
    chart_id = f"map-sites-{size}"
    parts = [
        svg_open(chart_id, "sites-choice-map", WIDTH, plot_height + 40, f"Best {size} sites together", description),
        f'<rect x="0" y="0" width="{num(WIDTH)}" height="{num(plot_height)}" fill="#F7F9FB"/>',
    ]
    for school in existing:
        x, y = projection.xy(school.lat, school.lon)
        parts.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="3" fill="{GREY}" fill-opacity="0.45"/>')
    for row in rows:
        if str(row["site_id"]) not in opened:
            x, y = projection.xy(float(row["lat"]), float(row["lon"]))
            parts.append(
                f'<g class="choice-site" data-site-id="{esc(row["site_id"])}" data-in-set="false">'
                f"<title>{esc(row['name'])} ({esc(row['site_id'])}), not in this set</title>"
                f'<circle cx="{num(x)}" cy="{num(y)}" r="6" fill="none" stroke="{GREY}" stroke-width="2"/></g>'
            )
    halo = ' paint-order="stroke" stroke="#ffffff" stroke-width="3"'
    for number, site in enumerate(opened, start=1):
        row = by_id[site]
        x, y = projection.xy(float(row["lat"]), float(row["lon"]))
        anchor, dx = ("end", -16.0) if x > WIDTH * 0.55 else ("start", 16.0)
        dy = 16.0 * (number - (len(opened) + 1) / 2)  # sites close together get labels apart
        parts.append(
            f'<g class="choice-site" data-site-id="{esc(site)}" data-in-set="true">'
            f"<title>{esc(row['name'])} ({esc(site)}), chosen</title>"
            f'<circle cx="{num(x)}" cy="{num(y)}" r="10" fill="{INK}" stroke="#FFFFFF" stroke-width="1.5"/>'
            + text(x, y + 4, str(number), anchor="middle", size=11, weight="bold", fill="#FFFFFF")
            + "</g>"
            + '<g class="choice-label">'
            + text(x + dx, y + dy, f"{number}: {_short_name(row)} ({site})", anchor=anchor, size=11, extra=halo)
            + "</g>"
        )
    parts.append(scale_bar(projection, plot_height))
    top = plot_height + 20
    parts.append(
        '<g class="legend">'
        f'<circle cx="{num(MARGIN + 10)}" cy="{num(top)}" r="8" fill="{INK}"/>'
        + text(MARGIN + 24, top + 4, "chosen site (number: order in the list below)")
        + f'<circle cx="{num(MARGIN + 330)}" cy="{num(top)}" r="6" fill="none" stroke="{GREY}" stroke-width="2"/>'
        + text(MARGIN + 344, top + 4, "other candidate site")
        + f'<circle cx="{num(MARGIN + 500)}" cy="{num(top)}" r="3" fill="{GREY}" fill-opacity="0.45"/>'
        + text(MARGIN + 510, top + 4, "existing school")
        + "</g></svg>"
    )
    return "".join(parts)


def sites_map(case: Case, rows: Sequence[Row], chosen: set[str]) -> str:
    """The map as one <svg id="map-sites" data-chart="sites-map">."""
    existing = [s for s in case.schools if s.kind != SchoolKind.CANDIDATE]
    points = [(s.lat, s.lon) for s in existing] + [(float(r["lat"]), float(r["lon"])) for r in rows]
    projection, plot_height = Projection.fit(points, WIDTH)
    largest_gain = max([_gain(r) for r in rows] + [1])
    description = (
        f"{len(rows)} candidate sites over {len(existing)} existing schools; circle size and colour show how many "
        f"more children are placed with the site alone opened (up to {largest_gain}); "
        f"joint choice: {', '.join(sorted(chosen)) or 'none'}."
    )
    parts = [
        svg_open("map-sites", "sites-map", WIDTH, plot_height + LEGEND_HEIGHT, "Candidate sites ranked", description),
        f'<rect x="0" y="0" width="{num(WIDTH)}" height="{num(plot_height)}" fill="#F7F9FB"/>',
        '<g class="existing-schools">',
    ]
    for school in existing:
        x, y = projection.xy(school.lat, school.lon)
        parts.append(
            f'<circle class="existing-school" cx="{num(x)}" cy="{num(y)}" r="3" fill="{GREY}" fill-opacity="0.45">'
            f"<title>{esc(school.name)} (existing school)</title></circle>"
        )
    parts.append('</g><g class="candidate-sites">')
    # Lower ranks are drawn last so that the best sites sit on top where circles overlap.
    for row in reversed(rows):
        x, y = projection.xy(float(row["lat"]), float(row["lon"]))
        parts.append(_site_marker(row, x, y, largest_gain, str(row["site_id"]) in chosen))
    parts.append("</g>")
    for row in rows:
        if str(row["site_id"]) in chosen:
            x, y = projection.xy(float(row["lat"]), float(row["lon"]))
            parts.append(_chosen_label(row, x, y, largest_gain))
    parts.append(scale_bar(projection, plot_height))
    parts.append(_legend(plot_height + 10, largest_gain))
    parts.append("</svg>")
    return "".join(parts)


def _gain(row: Row) -> int:
    return max(int(row["placed_gain"]), 0)


def _radius(gain: int, largest_gain: int) -> float:
    """Circle area proportional to the gain, between the smallest and largest radius."""
    share = gain / largest_gain if largest_gain > 0 else 0.0
    return math.sqrt(SMALLEST_RADIUS**2 + share * (LARGEST_RADIUS**2 - SMALLEST_RADIUS**2))


def _colour(gain: int, largest_gain: int) -> str:
    share = gain / largest_gain if largest_gain > 0 else 0.0
    channels = (round(low + (high - low) * share) for low, high in zip(LOW_GAIN_COLOUR, HIGH_GAIN_COLOUR, strict=True))
    return "#" + "".join(f"{channel:02X}" for channel in channels)


def _site_marker(row: Row, x: float, y: float, largest_gain: int, is_chosen: bool) -> str:
    gain = _gain(row)
    radius = _radius(gain, largest_gain)
    fill = _colour(gain, largest_gain)
    label_colour = "#FFFFFF" if gain / max(largest_gain, 1) > 0.45 else INK
    ring = f' stroke="{INK}" stroke-width="3"' if is_chosen else ' stroke="#FFFFFF" stroke-width="1.5"'
    tooltip = (
        f"rank {row['rank']}: {row['name']} ({row['site_id']})"
        + (", in the joint choice" if is_chosen else "")
        + f"; {row['placed_gain']} more placed than with no site, travel saved {row['travel_saved_minutes']} min, "
        f"{row['independent_placements_avoided']} independent placements avoided"
    )
    return (
        f'<g class="candidate-site" data-site-id="{esc(row["site_id"])}" data-rank="{esc(row["rank"])}" '
        f'data-chosen="{str(is_chosen).lower()}"><title>{esc(tooltip)}</title>'
        f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(radius)}" fill="{fill}"{ring}/>'
        + text(x, y + 4, str(row["rank"]), anchor="middle", size=11, weight="bold", fill=label_colour)
        + "</g>"
    )


def _chosen_label(row: Row, x: float, y: float, largest_gain: int) -> str:
    name = cut(str(row["name"]), 44)  # the line above names the site_id
    offset = _radius(_gain(row), largest_gain) + 6
    anchor, dx = ("end", -offset) if x > WIDTH * 0.55 else ("start", offset)
    halo = ' paint-order="stroke" stroke="#ffffff" stroke-width="3"'
    return (
        '<g class="chosen-label">'
        + text(x + dx, y - 4, f"joint choice: {row['site_id']}", anchor=anchor, size=12, weight="bold", extra=halo)
        + text(x + dx, y + 11, name, anchor=anchor, size=11, extra=halo)
        + "</g>"
    )


def _short_name(row: Row) -> str:
    """A site's name for a map label: without the "Candidate: " that every candidate's name may start with."""
    name = str(row["name"])
    return cut(name.removeprefix("Candidate: "), 56)


def _legend(top: float, largest_gain: int) -> str:
    small = _radius(0, largest_gain)
    x = MARGIN + 10
    row1, row2 = top + 18, top + 50
    return (
        '<g class="legend">'
        f'<circle cx="{num(x)}" cy="{num(row1)}" r="3" fill="{GREY}" fill-opacity="0.45"/>'
        + text(x + 14, row1 + 4, "existing school")
        + f'<circle cx="{num(x + 150)}" cy="{num(row1)}" r="{num(small)}" fill="{_colour(0, largest_gain)}" '
        'stroke="#FFFFFF" stroke-width="1.5"/>'
        + text(x + 150 + small + 6, row1 + 4, "no more placed")
        + f'<circle cx="{num(x + 300)}" cy="{num(row1)}" r="12" '
        f'fill="{_colour(largest_gain, largest_gain)}" stroke="#FFFFFF" stroke-width="1.5"/>'
        + text(x + 318, row1 + 4, f"{largest_gain} more placed (the most on this map)")
        + f'<circle cx="{num(x)}" cy="{num(row2)}" r="8" fill="{_colour(0, largest_gain)}" stroke="{INK}" '
        'stroke-width="3"/>'
        + text(x + 14, row2 + 4, "in the joint choice (the best set of sites opened together); number: rank")
        + "</g>"
    )


def _table(rows: Sequence[Row], chosen: set[str]) -> str:
    """The sites table. Its styles are the page's (`report.page.CSS`, `table.sites`), so that the print
    style can make it fit a portrait page; ids never break across lines, numbers never wrap."""
    head = '<th scope="col">rank</th><th scope="col">site</th>' + "".join(
        f'<th scope="col" class="num">{esc(label)}</th>' for _, label in TABLE_COLUMNS
    )
    body = []
    for row in rows:
        is_chosen = str(row["site_id"]) in chosen
        row_class = ' class="chosen"' if is_chosen else ""
        mark = " · <strong>joint choice</strong>" if is_chosen else ""
        if row.get("note"):
            mark += f'<br><span class="site-note">{esc(row["note"])}</span>'

        cells = "".join(f'<td class="num">{esc(_cell(key, row[key]))}</td>' for key, _ in TABLE_COLUMNS)
        body.append(
            f'<tr data-site-id="{esc(row["site_id"])}" data-chosen="{str(is_chosen).lower()}"{row_class}>'
            f'<td>{esc(row["rank"])}</td><td class="site">{esc(row["name"])}<br>'
            f'<small><span class="nowrap">{esc(row["site_id"])}</span>{mark}</small></td>{cells}</tr>'
        )
    return (
        '<div class="table-scroll"><table class="sites" id="sites-table">'
        "<caption>Each candidate site opened alone, best first (the figures of sites.csv; gains and savings "
        "against opening no site, negative when worse)</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _cell(key: str, value: Any) -> str:
    """A figure as a spreadsheet reads it when the table is pasted: ASCII minus, comma thousands."""
    if key in MONEY_COLUMNS:  # whole pounds, as in sites.csv
        amount = int(value)
        return ("-£" if amount < 0 else "£") + f"{abs(amount):,}"
    return f"{int(value):,}"


def _summary(case: Case, section: Mapping[str, Any], chosen: set[str], joint: Allocation | None) -> str:
    rows: Sequence[Row] = section["sites"]
    baseline = section["baseline"]
    best = rows[0]
    total = len(case.children)
    sentences = [
        _best_alone_sentence(best, int(baseline["placed"]), total, len(rows) > 1),
        _side_effects_sentence(best),
        _joint_sentence(case, rows, chosen, joint, int(baseline["placed"])),
        str(section.get("joint_note", "")),
    ]
    return f'<p class="sites-summary">{" ".join(esc(s) for s in sentences if s)}</p>'


def _best_alone_sentence(best: Row, baseline_placed: int, total: int, several: bool) -> str:
    site = f"{best['name']} ({best['site_id']})"
    gain = int(best["placed_gain"])
    if gain <= 0:
        return (
            f"No candidate site places more children than opening no site ({baseline_placed} of {total} placed); "
            f"the best by the other aims of the objective is {site}."
        )
    children = "child" if gain == 1 else "children"
    return (
        f"Opening {site} places {gain} more {children} than opening no site "
        f"({best['placed']} of {total} placed instead of {baseline_placed})"
        + (", the most of any candidate alone." if several else ".")
    )


def _side_effects_sentence(best: Row) -> str:
    saved = int(best["travel_saved_minutes"])
    travel = (
        f"total one-way travel falls by {saved:,} minutes"
        if saved > 0
        else f"total one-way travel rises by {-saved:,} minutes, as more children travel"
        if saved < 0
        else "total travel is unchanged"
    )
    avoided = int(best["independent_placements_avoided"])
    money = int(best["cost_saved_gbp_year"])  # whole pounds
    cost = f"saves £{money:,} a year" if money > 0 else f"costs £{-money:,} more a year"
    if money == 0:
        cost = "costs the same a year"
    placements = "placement" if abs(avoided) == 1 else "placements"
    independent = f"avoids {avoided} independent {placements}"
    if avoided < 0:
        independent = f"uses {-avoided} more independent {placements}"
    return f"With it open, {travel}; it {independent} and {cost} (places and transport)."


def _joint_sentence(
    case: Case, rows: Sequence[Row], chosen: set[str], joint: Allocation | None, baseline_placed: int
) -> str:
    limit = case.policy.open_sites
    up_to = f"up to {limit} site" + ("" if limit == 1 else "s")
    names = [f"{r['name']} ({r['site_id']})" for r in rows if str(r["site_id"]) in chosen]
    if not names:
        return f"The best choice of {up_to} opened together (the joint choice) opens none."
    if chosen == {str(rows[0]["site_id"])}:
        return f"It is also the best choice of {up_to} opened together (the joint choice)."
    if len(names) == 1:
        return f"The best choice of {up_to} opened together (the joint choice) is {names[0]}."
    figures = ""
    if joint is not None:
        figures = f"; together they place {joint.summary.placed - baseline_placed} more children than opening no site"
    return f"The best choice of {up_to} opened together (the joint choice) is {', '.join(names)}{figures}."


def sites_run_files(
    loaded: LoadedCase, report: SitesReport, *, wards: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The files of `allocator sites` (and its API run): sites.csv, sites.json, marginal.csv and report.html,
    the report being the joint choice's run with the candidate-sites section."""
    html = sites_section_html(loaded.case, sites_section(report), joint=report.joint)
    page = build_report(
        loaded.case, report.joint, title=SITES_REPORT_TITLE, wards=wards, extra_sections=[(SECTION_TITLE, html)]
    )
    return {**sites_files(report), REPORT_FILE: page}


def has_candidate_sites(case: Case) -> bool:
    return any(school.kind == SchoolKind.CANDIDATE for school in case.schools)


def candidate_sites_sections(case: Case, report: SitesReport | None) -> list[tuple[str, str]]:
    """The candidate-sites section as `build_report` extra sections: one when a site evaluation
    (`allocator.estates.sites.evaluate_sites`, run by the caller) is given."""
    if report is None:
        return []
    return [(SECTION_TITLE, sites_section_html(case, sites_section(report), joint=report.joint))]
