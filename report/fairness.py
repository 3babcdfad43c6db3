"""The report's "Fairness between districts" section (issue 9 item 6), from summary.json
`fairness` and `price_of_fairness` alone: two inline SVG charts (placed share by district;
average and Kolm-Pollak journey by district), each with a title, a description and every value
written as text, and a few plain sentences. No script.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.results import Allocation
from report.charts import WIDTH, label_width
from report.labels import cut
from report.svg import BLUE, GREY, INK, ORANGE, esc, legend, line, num, rect, svg_open, text


@dataclass(frozen=True)
class _Bars:
    label: str
    values: tuple[float | None, ...]  # one per series; None: no figure (no child placed)


def grouped_bars(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[_Bars],
    series: Sequence[tuple[str, str]],
    unit: str,
    scale_to: float | None = None,
    marker: tuple[float, str] | None = None,
) -> str:
    """One group of horizontal bars per row, one bar per series, each with its value written
    after it (or "no child placed"); `marker` draws a dashed line at a value with its label."""
    bar, inner, gap, top, bottom = 13.0, 2.0, 10.0, 40.0, 16.0
    group = len(series) * (bar + inner)
    height = top + len(rows) * (group + gap) + bottom
    left = label_width([row.label for row in rows], 140.0) + 8
    right = WIDTH - 150
    largest = scale_to or max((v for row in rows for v in row.values if v is not None), default=0.0)
    scale = (right - left) / largest if largest > 0 else 0.0
    parts = [svg_open(chart_id, chart_id.removeprefix("chart-"), WIDTH, height, title, description)]
    parts.append(legend(left, 16, list(series)))
    for index, row in enumerate(rows):
        y = top + index * (group + gap)
        parts.append(text(left - 8, y + group / 2 + 4, cut(row.label, 40), anchor="end"))
        for position, (value, (name, colour)) in enumerate(zip(row.values, series, strict=True)):
            bar_y = y + position * (bar + inner)
            if value is None:
                parts.append(text(left + 4, bar_y + 10, f"{name}: no child placed", size=11, fill=GREY))
                continue
            shown = f"{num(value)}{unit}"
            parts.append(rect(left, bar_y, value * scale, bar, colour, f"{row.label}: {name} {shown}"))
            parts.append(text(left + value * scale + 4, bar_y + 10, shown, size=11))
    if marker is not None and scale:
        value, label = marker
        x = left + value * scale
        parts.append(line(x, top - 6, x, height - bottom, INK, 1.2, ' stroke-dasharray="4 3"'))
        parts.append(text(x, height - 4, label, anchor="middle", size=10))
    parts.append("</svg>")
    return "".join(parts)


def fairness_section(allocation: Allocation) -> str:
    """The section's HTML: sentences, then the two charts."""
    figures: dict[str, Any] = allocation.summary.fairness
    districts: dict[str, dict[str, Any]] = figures["by_district"]
    overall = figures["overall"]
    share_rows = [_Bars(name, (100 * d["placed_share"],)) for name, d in districts.items()]
    travel_rows = [
        _Bars(name, (d["mean_travel_minutes"], d["kolm_pollak_ede_minutes"])) for name, d in districts.items()
    ]
    shares = grouped_bars(
        "chart-fairness-share",
        "Share of children placed, by home district",
        "One bar per district: the percentage of its children given a place. The dashed line is the whole round.",
        share_rows,
        [("placed", BLUE)],
        "%",
        scale_to=100.0,
        marker=(100 * overall["placed_share"], f"all districts {num(100 * overall['placed_share'])}%"),
    )
    travel = grouped_bars(
        "chart-fairness-travel",
        "Journeys of placed children, by home district",
        "Two bars per district: the average journey in minutes, and the Kolm-Pollak equivalent journey, "
        "which counts long journeys more heavily.",
        travel_rows,
        [("average minutes", BLUE), ("equivalent minutes (long journeys weigh more)", ORANGE)],
        " min",
    )
    return (
        "".join(f"<p>{esc(sentence)}</p>" for sentence in _sentences(figures, allocation.summary.price_of_fairness))
        + f"<figure>{shares}<figcaption>District of the child's home (children.csv district).</figcaption></figure>"
        + f"<figure>{travel}<figcaption>The equivalent journey is the one journey that, made by every placed "
        "child, would be judged as fair as the journeys they actually make (Kolm-Pollak, aversion -1)."
        "</figcaption></figure>"
    )


def _sentences(figures: dict[str, Any], price: dict[str, Any] | None) -> list[str]:
    gap = figures["largest_placed_share_gap"]
    sentences = []
    if gap["highest"] is not None and gap["value"] > 0:
        sentences.append(
            f"The widest difference between districts is {num(100 * gap['value'])} percentage points: "
            f"{gap['highest']} has the highest share of children placed and {gap['lowest']} the lowest."
        )
    else:
        sentences.append("Every district has the same share of children placed.")
    if price is not None:
        rule = price["rule"]
        aims = []
        if rule["balance"] == "districts":
            aims.append("evened out the share of children left without a place in each district")
        if rule["travel"] == "kolm_pollak":
            aims.append("counted long journeys more heavily")
        before = price["without_rule"]
        sentences.append(
            f"This round {' and '.join(aims)}, without placing fewer children of any priority. "
            f"Compared with the same round without that rule, the preference cost changed by "
            f"{_signed(price['preference_cost'])}, total travel by {_signed(price['travel_minutes'])} minutes, "
            f"and the widest difference between districts by {_signed(100 * price['largest_placed_share_gap'])} "
            f"percentage points (from {num(100 * before['largest_placed_share_gap'])})."
        )
    return sentences


def _signed(value: float) -> str:
    return f"+{num(value)}" if value > 0 else num(value)
