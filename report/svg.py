"""Small, deterministic SVG building blocks: escaping, number formatting and shapes.

Every number written to the page goes through `num`, so the same input always gives the
same bytes (no float noise such as 0.30000000000000004).
"""

from decimal import ROUND_HALF_UP, Decimal
from html import escape

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
GREEN = "#009E73"
PINK = "#CC79A7"
SKY = "#56B4E9"
GREY = "#9A9A9A"
LIGHT_GREY = "#D9D9D9"
INK = "#222222"
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif\""


def esc(text: object) -> str:
    """Text made safe for HTML/SVG content and attribute values."""
    return escape(str(text), quote=True)


def num(value: float, places: int = 1) -> str:
    """A number with at most `places` decimals and no trailing zeros: 12.0 -> '12'."""
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def thousands(value: float) -> str:
    """Whole number with thousands separators, halves away from zero as money is rounded in
    sites.csv: 1234567.4 -> '1,234,567', 2.5 -> '3' (Python's round() would give '2')."""
    whole = Decimal(repr(float(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{int(whole):,}"


def svg_open(chart_id: str, chart: str, width: float, height: float, title: str, description: str) -> str:
    """Opening <svg> tag with an accessible title and description, and the ids tests look for."""
    return (
        f'<svg id="{esc(chart_id)}" data-chart="{esc(chart)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {num(width)} {num(height)}" width="{num(width)}" height="{num(height)}" '
        f'role="img" aria-labelledby="{esc(chart_id)}-title {esc(chart_id)}-desc" {FONT} font-size="12">'
        f'<title id="{esc(chart_id)}-title">{esc(title)}</title>'
        f'<desc id="{esc(chart_id)}-desc">{esc(description)}</desc>'
    )


def text(
    x: float,
    y: float,
    content: str,
    anchor: str = "start",
    size: int = 12,
    weight: str = "normal",
    fill: str = INK,
    extra: str = "",
) -> str:
    return (
        f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'font-weight="{weight}" fill="{fill}"{extra}>{esc(content)}</text>'
    )


def rect(x: float, y: float, width: float, height: float, fill: str, tooltip: str = "", extra: str = "") -> str:
    inner = f"<title>{esc(tooltip)}</title>" if tooltip else ""
    return (
        f'<rect x="{num(x)}" y="{num(y)}" width="{num(max(width, 0.0))}" height="{num(max(height, 0.0))}" '
        f'fill="{fill}"{extra}>{inner}</rect>'
    )


def line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1.0, extra: str = "") -> str:
    return (
        f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{stroke}" '
        f'stroke-width="{num(width, 2)}"{extra}/>'
    )


def legend(x: float, y: float, entries: list[tuple[str, str]], gap: float = 18.0) -> str:
    """A horizontal legend of coloured squares and labels starting at (x, y)."""
    parts = ['<g class="legend">']
    cursor = x
    for label, colour in entries:
        parts.append(rect(cursor, y - 10, 12, 12, colour))
        parts.append(text(cursor + 16, y, label))
        cursor += 16 + 7.0 * len(label) + gap
    parts.append("</g>")
    return "".join(parts)


def nice_step(maximum: float, ticks: int = 5) -> int:
    """A round axis step (1, 2, 5 x 10^k) giving about `ticks` ticks up to `maximum`."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return max(1, factor * magnitude)
    return 10 * magnitude
