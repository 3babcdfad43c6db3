"""Bar charts and histograms as inline SVG, with labels written on the chart.

`stacked_bars` draws one horizontal bar per row, split into series (e.g. placed / unplaced);
`histogram` draws counts per bin of travel minutes with the phase limit marked.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from report.labels import cut
from report.svg import GREY, INK, LIGHT_GREY, legend, line, nice_step, num, rect, svg_open, text, thousands

WIDTH = 760.0
LABEL_CHAR_PX = 7.0  # the width allowed per character of a 12 px label


@dataclass(frozen=True)
class Series:
    name: str
    colour: str


@dataclass(frozen=True)
class BarRow:
    label: str
    values: tuple[float, ...]  # one per series
    note: str = ""  # written after the bar, e.g. "not opened"
    title: str = ""  # the full name for the bar's tooltips, when the label is shortened (default: the label)


def stacked_bars(
    chart_id: str,
    chart: str,
    title: str,
    description: str,
    rows: Sequence[BarRow],
    series: Sequence[Series],
    value_format: str = "count",
    label_width: float = 200.0,
) -> str:
    """Horizontal stacked bars; each segment labelled with its value when it fits."""
    bar_height, gap, top, bottom = 16.0, 6.0, 34.0, 30.0
    height = top + len(rows) * (bar_height + gap) + bottom
    largest = max((sum(row.values) for row in rows), default=0.0)
    longest_suffix = max((len(_suffix(row, value_format)) for row in rows), default=0)
    plot_left, plot_right = label_width + 8, WIDTH - 8 - 6.2 * longest_suffix
    scale = (plot_right - plot_left) / largest if largest > 0 else 0.0
    parts = [svg_open(chart_id, chart, WIDTH, height, title, description)]
    parts.append(legend(plot_left, 16, [(s.name, s.colour) for s in series]))
    for index, row in enumerate(rows):
        y = top + index * (bar_height + gap)
        parts.append(text(label_width, y + 12, _clip(row.label, label_width), anchor="end"))
        x = plot_left
        for value, one in zip(row.values, series, strict=True):
            width = value * scale
            tooltip = f"{row.title or row.label}: {one.name} {_format(value, value_format)}"
            parts.append(rect(x, y, width, bar_height, one.colour, tooltip))
            if value > 0 and width >= 7.5 * len(_format(value, value_format)) + 4:
                parts.append(
                    text(
                        x + width / 2,
                        y + 12,
                        _format(value, value_format),
                        anchor="middle",
                        fill="#ffffff" if one.colour != LIGHT_GREY else INK,
                        size=11,
                    )
                )
            x += width
        parts.append(text(x + 4, y + 12, _suffix(row, value_format), size=11, fill=GREY if row.note else INK))
    axis_y = top + len(rows) * (bar_height + gap) + 2
    parts.append(line(plot_left, axis_y, plot_right, axis_y, GREY))
    if largest > 0:
        step = nice_step(largest)
        tick = 0
        while tick <= largest:
            x = plot_left + tick * scale
            parts.append(line(x, axis_y, x, axis_y + 4, GREY))
            parts.append(text(x, axis_y + 16, _format(tick, value_format, short=True), anchor="middle", size=10))
            tick += step
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    chart_id: str,
    chart: str,
    title: str,
    description: str,
    minutes: Sequence[int],
    limit: int,
    colour: str,
    bin_width: int = 5,
) -> str:
    """Children per `bin_width`-minute bin of travel time, with the phase limit as a dashed line.

    Bin k holds minutes in [k * bin_width, (k + 1) * bin_width). Bars past the limit are children
    whose family ranked a school further away (rule 3 of CONTRACT.md) or who were locked there.
    """
    height, top, bottom, left, right = 240.0, 30.0, 40.0, 46.0, WIDTH - 20
    last = max([*minutes, limit]) // bin_width + 1
    counts = [0] * last
    for value in minutes:
        counts[value // bin_width] += 1
    peak = max(counts, default=0)
    y_step = nice_step(max(peak, 1), 4)
    y_top = max(y_step, -(-max(peak, 1) // y_step) * y_step)
    plot_height = height - top - bottom
    bar_width = (right - left) / last
    over = sum(1 for value in minutes if value > limit)
    parts = [svg_open(chart_id, chart, WIDTH, height, title, description)]
    parts.append(
        text(left, 16, f"{len(minutes)} children placed; {over} travel beyond the {limit}-minute limit", size=12)
    )
    for tick in range(0, y_top + 1, y_step):
        y = top + plot_height - tick / y_top * plot_height
        parts.append(line(left, y, right, y, LIGHT_GREY, 0.5))
        parts.append(text(left - 6, y + 4, str(tick), anchor="end", size=10))
    for index, count in enumerate(counts):
        if not count:
            continue
        low = index * bin_width
        bar = count / y_top * plot_height
        fill = colour if low + bin_width - 1 <= limit else GREY
        parts.append(
            rect(
                left + index * bar_width + 0.5,
                top + plot_height - bar,
                bar_width - 1,
                bar,
                fill,
                f"{low}-{low + bin_width - 1} minutes: {count} children",
            )
        )
    x_step = 15 if last * bin_width <= 120 else 30
    for tick in range(0, last * bin_width + 1, x_step):
        x = left + tick / bin_width * bar_width
        parts.append(line(x, top + plot_height, x, top + plot_height + 4, GREY))
        parts.append(text(x, top + plot_height + 16, str(tick), anchor="middle", size=10))
    parts.append(text((left + right) / 2, height - 6, "door-to-door minutes, one way", anchor="middle", size=11))
    limit_x = left + limit / bin_width * bar_width
    parts.append(line(limit_x, top - 4, limit_x, top + plot_height, INK, 1.5, ' stroke-dasharray="5 3"'))
    parts.append(text(limit_x + 4, top + 8, f"limit {limit} min", size=11, weight="bold"))
    parts.append("</svg>")
    return "".join(parts)


def _format(value: float, value_format: str, short: bool = False) -> str:
    if value_format == "gbp":
        if short and value >= 1_000_000:
            return f"£{num(value / 1_000_000, 1)}m"
        return f"£{thousands(value)}"
    return num(value)


def _suffix(row: BarRow, value_format: str) -> str:
    """Written after a bar: its total, then its note."""
    total = _format(sum(row.values), value_format)
    return f"{total}  {row.note}" if row.note else total


def label_chars(width: float) -> int:
    """How many characters of a row label fit in `width` pixels."""
    return int(width / LABEL_CHAR_PX)


def label_width(labels: Sequence[str], least: float) -> float:
    """The label column wide enough for every one of `labels`, and at least `least` pixels."""
    return max([least, *(LABEL_CHAR_PX * len(label) for label in labels)])


def _clip(label: str, width: float) -> str:
    return cut(label, label_chars(width))
