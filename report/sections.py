"""The report's sections, each a function from the case and the run to an HTML fragment.

Figures come from the run's summary (the same numbers as summary.json) and its placements;
children appear only by pseudonymous id, in the unplaced table, and as counts.
"""

from collections import Counter

from models.case import Case, SchoolKind
from models.need import NEED_LABELS, Need
from models.results import Allocation
from report.charts import BarRow, Series, histogram, label_chars, label_width, stacked_bars
from report.labels import school_labels
from report.svg import BLUE, GREEN, LIGHT_GREY, SKY, VERMILLION, esc, num, thousands

PLACED = Series("placed", BLUE)
UNPLACED = Series("unplaced", VERMILLION)
KIND_ORDER = [SchoolKind.SPECIAL, SchoolKind.RESOURCE_BASE, SchoolKind.CANDIDATE, SchoolKind.INDEPENDENT]
COST_LABELS = {
    SchoolKind.SPECIAL: "places at special schools",
    SchoolKind.RESOURCE_BASE: "places at resource bases",
    SchoolKind.CANDIDATE: "places at the opened new site",
    SchoolKind.INDEPENDENT: "places at independent providers",
}


def run_figures(case: Case, allocation: Allocation) -> str:
    """The run's figures from summary.json, as a two-column table.

    The solve time is left out on purpose: it varies from run to run, and the report must be
    byte-identical for the same case (summary.json keeps it)."""
    summary = allocation.summary
    names = case.school_by_id()
    tiers = ", ".join(
        f"{case.policy.priority_name(int(tier))}: {placed} of {summary.children_by_priority.get(tier, placed)}"
        for tier, placed in summary.placed_by_priority.items()
    )
    opened = (
        ", ".join(f'{esc(names[s].name)} <span class="nowrap">({esc(s)})</span>' for s in summary.opened_sites)
        or "none"
    )
    solver = f"{summary.solver}" + (f", gap {num(summary.gap * 100, 2)}%" if summary.gap else "")
    software = ", ".join(f"{name} {version}" for name, version in sorted(summary.software.items()))
    rows = [  # (label, value as HTML: every text in it escaped)
        ("status", esc(summary.status.value)),
        ("children placed", str(summary.placed)),
        ("children unplaced", str(summary.unplaced)),
        ("children placed, by priority (most urgent first)", esc(tiers)),
        (
            "preference cost (sum of ranks; unranked schools count as the policy's unranked cost)",
            thousands(summary.preference_cost),
        ),
        ("travel minutes, all placed children", thousands(summary.travel_minutes)),
        ("candidate sites opened", opened),
        ("solver", esc(solver)),
        ("input sha256", _hash_html(summary.input_sha256)),
        ("software", esc(software)),
    ]
    body = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v}</td></tr>' for k, v in rows)
    headline = (
        f'<p class="headline"><strong>{summary.placed}</strong> of {summary.placed + summary.unplaced} children '
        f"placed; <strong>{summary.unplaced}</strong> unplaced.</p>"
    )
    return headline + f'<table class="figures"><caption>Figures from summary.json</caption>{body}</table>'


def _hash_html(digest: str) -> str:
    """A hex digest on one line; on a screen too narrow for its 64 characters (`code.hash` in the page's
    CSS) it wraps between groups of 16 (each an inline block, so copying gives the digest with nothing
    added), and never elsewhere."""
    groups = "".join(f"<span>{esc(digest[i : i + 16])}</span>" for i in range(0, len(digest), 16))
    return f'<code class="hash">{groups}</code>'


def need_chart(allocation: Allocation) -> str:
    summary = allocation.summary
    rows = [
        BarRow(
            f"{need.value} {NEED_LABELS[need]}",
            (summary.placed_by_need.get(need.value, 0), summary.unplaced_by_need.get(need.value, 0)),
        )
        for need in Need
        if summary.placed_by_need.get(need.value, 0) or summary.unplaced_by_need.get(need.value, 0)
    ]
    return stacked_bars(
        "chart-need",
        "need",
        "Placed and unplaced children by primary need",
        "One bar per SEN2 primary need: children placed and children left unplaced.",
        rows,
        [PLACED, UNPLACED],
        label_width=300,
    )


def district_chart(allocation: Allocation) -> str:
    rows = [
        BarRow(
            district,
            (int(figures["placed"]), int(figures["unplaced"])),
            note=f"{num(float(figures['placed_share']) * 100)}% placed",
        )
        for district, figures in allocation.summary.districts.items()
    ]
    return stacked_bars(
        "chart-district",
        "district",
        "Placed and unplaced children by home district",
        "One bar per district of the children's homes: children placed and unplaced.",
        rows,
        [PLACED, UNPLACED],
        label_width=160,
    )


# The phases of CONTRACT.md (`models.case.Child.phase`): primary when age <= 10, else secondary.
PHASE_AGES = {"primary": "ages 10 and under", "secondary": "ages 11 and over"}


def travel_charts(case: Case, allocation: Allocation) -> str:
    """One histogram per phase: primary (age <= 10) and secondary (age >= 11), each against its own
    limit from the policy (policy.toml max_travel_minutes)."""
    limits = case.policy.max_travel_minutes
    by_phase: dict[str, list[int]] = {"primary": [], "secondary": []}
    for child, placement in zip(case.children, allocation.placements, strict=True):
        if placement.travel_minutes is not None and placement.placed:
            by_phase[child.phase].append(placement.travel_minutes)
    parts = []
    for phase, limit, colour in (("primary", limits.primary, BLUE), ("secondary", limits.secondary, GREEN)):
        parts.append(
            "<figure>"
            + histogram(
                f"chart-travel-{phase}",
                f"travel-{phase}",
                f"Travel times of placed {phase}-age children (limit {limit} minutes)",
                f"Children per 5-minute band of one-way travel; bars past the dashed line are beyond "
                f"the {limit}-minute limit (the family ranked that school, or the panel locked it).",
                sorted(by_phase[phase]),
                limit,
                colour,
            )
            + f"<figcaption>{phase.capitalize()} phase ({PHASE_AGES[phase]}; the policy's limit is {limit} "
            f"minutes): grey bars are beyond the {limit}-minute limit, allowed only where the family ranked "
            f"the school or the panel locked the placement.</figcaption></figure>"
        )
    return "".join(parts)


PLACES_LABEL_WIDTH = 340.0


def places_chart(case: Case, allocation: Allocation) -> str:
    """Places used and free by school; a candidate site not opened shows its proposed places apart.
    Names cut to fit get the school's district or id (`report.labels`): no two bars share a label."""
    opened = set(allocation.summary.opened_sites)
    used = Counter(p.school_id for p in allocation.placements if p.school_id is not None)
    places: Counter[str] = Counter()
    for offer in case.places:
        places[offer.school_id] += offer.places
    schools = sorted(
        (s for s in case.schools if places[s.school_id] > 0),
        key=lambda s: (KIND_ORDER.index(s.kind), s.name),
    )
    labels = school_labels(schools, label_chars(PLACES_LABEL_WIDTH))
    rows = []
    for school in schools:
        total, taken = places[school.school_id], used[school.school_id]
        label, title = labels[school.school_id], f"{school.name} ({school.school_id})"
        if school.kind == SchoolKind.CANDIDATE and school.school_id not in opened:
            rows.append(BarRow(label, (0, 0, total), note="candidate site, not opened", title=title))
        else:
            note = {
                SchoolKind.INDEPENDENT: "independent",
                SchoolKind.CANDIDATE: "opened candidate site",
                SchoolKind.RESOURCE_BASE: "resource base",
            }.get(school.kind, "")
            rows.append(BarRow(label, (taken, total - taken, 0), note=note, title=title))
    return stacked_bars(
        "chart-places",
        "places",
        "Places used and free by school in this round",
        "One bar per school with places in this round: places filled by this run and places left "
        "free; candidate sites not opened show the places they would have offered.",
        rows,
        [Series("used", BLUE), Series("free", LIGHT_GREY), Series("not opened", "#EBC7DC")],
        label_width=label_width(list(labels.values()), PLACES_LABEL_WIDTH),
    )


def cost_section(case: Case, allocation: Allocation) -> str:
    """Cost a year: places by kind of school (where a cost is given) and transport per placed child."""
    costs = allocation.summary.cost_gbp_year
    if not any(s.annual_place_cost_gbp is not None for s in case.schools):
        return "<p>The case gives no place costs (schools.csv has no annual_place_cost_gbp), so no cost is shown.</p>"
    schools = case.school_by_id()
    by_kind: dict[SchoolKind, float] = dict.fromkeys(KIND_ORDER, 0.0)
    for placement in allocation.placements:
        if placement.school_id is not None:
            school = schools[placement.school_id]
            by_kind[school.kind] += school.annual_place_cost_gbp or 0.0
    rows = [BarRow(COST_LABELS[kind], (by_kind[kind],)) for kind in KIND_ORDER if by_kind[kind]]
    rows.append(BarRow("home-to-school transport", (costs.get("transport", 0.0),)))
    chart = stacked_bars(
        "chart-cost",
        "cost",
        "Cost a year of this round's placements",
        "Yearly cost of the places filled, by kind of school, and of transport.",
        rows,
        [Series("£ a year", SKY)],
        value_format="gbp",
        label_width=220,
    )
    missing = int(costs.get("places_without_cost_data", 0))
    note = f" {missing} placed children are at schools with no cost given; they are not counted." if missing else ""
    transport_rate = thousands(case.policy.transport_cost_gbp)
    table = (
        '<table class="costs"><caption>Cost a year, pounds</caption>'
        f'<tr><th scope="row">places</th><td>£{thousands(costs.get("places", 0.0))}</td></tr>'
        f'<tr><th scope="row">transport (£{transport_rate} per placed child)</th>'
        f"<td>£{thousands(costs.get('transport', 0.0))}</td></tr>"
        f'<tr><th scope="row">total</th><td><strong>£{thousands(costs.get("total", 0.0))}</strong></td></tr></table>'
    )
    return (
        f"<figure>{chart}<figcaption>Place costs from schools.csv; transport at the policy's yearly rate."
        f"{esc(note)}</figcaption></figure>{table}"
    )


def unplaced_table(case: Case, allocation: Allocation) -> str:
    """Every unplaced child by pseudonymous id, with need, age, priority, district and reason."""
    rows: list[str] = []
    for child, placement in zip(case.children, allocation.placements, strict=True):
        if placement.placed:
            continue
        code = placement.reason.value if placement.reason is not None else ""
        rows.append(
            f"<tr><td>{esc(child.child_id)}</td><td>{esc(child.need.value)}</td><td>{child.age}</td>"
            f"<td>{child.priority}</td><td>{esc(child.district or '')}</td><td><code>{esc(code)}</code></td>"
            f"<td>{esc(placement.explanation)}</td></tr>"
        )
    if not rows:
        return "<p>Every child was placed.</p>"
    head = "".join(
        f'<th scope="col">{h}</th>' for h in ("child", "need", "age", "priority", "district", "reason", "explanation")
    )
    return (
        f'<table class="unplaced" id="unplaced-table"><caption>{len(rows)} children without a place</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def figure(chart: str, caption: str) -> str:
    return f"<figure>{chart}<figcaption>{esc(caption)}</figcaption></figure>"


__all__ = [
    "cost_section",
    "district_chart",
    "figure",
    "need_chart",
    "places_chart",
    "run_figures",
    "travel_charts",
    "unplaced_table",
]
