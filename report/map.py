"""The map: schools, candidate sites and home areas with flows to the schools they were placed at.

Projection: equirectangular scaled by cos(latitude) at the map's middle latitude,
x = (lon - lon_min) * cos(lat_mid) * k, y = (lat_max - lat) * k, with one scale k for both
axes so that distances look right near the county (a few hundred km across).
Only projected page pixels are written, never coordinates; homes appear only as areas.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from models.case import Case, School, SchoolKind
from models.results import Allocation
from report.areas import Area, Flow
from report.labels import cut
from report.svg import (
    BLUE,
    GREEN,
    INK,
    ORANGE,
    PINK,
    SKY,
    VERMILLION,
    esc,
    line,
    num,
    svg_open,
    text,
)

WIDTH = 760.0
MARGIN = 24.0
LEGEND_HEIGHT = 92.0
KM_PER_DEGREE = 111.2

KIND_LABELS = {
    SchoolKind.SPECIAL: "special school",
    SchoolKind.RESOURCE_BASE: "resource base",
    SchoolKind.INDEPENDENT: "independent provider",
    SchoolKind.CANDIDATE: "candidate site",
}


@dataclass(frozen=True)
class Projection:
    lat_max: float
    lon_min: float
    cos_mid: float
    scale: float  # pixels per degree of latitude

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        x = MARGIN + (lon - self.lon_min) * self.cos_mid * self.scale
        y = MARGIN + (self.lat_max - lat) * self.scale
        return x, y

    @classmethod
    def fit(cls, points: Sequence[tuple[float, float]], width: float) -> tuple["Projection", float]:
        """The projection fitting all (lat, lon) points into `width`; returns it and the plot height."""
        lats = [p[0] for p in points] or [0.0]
        lons = [p[1] for p in points] or [0.0]
        pad = 0.02
        lat_min, lat_max = min(lats) - pad, max(lats) + pad
        lon_min, lon_max = min(lons) - pad, max(lons) + pad
        cos_mid = math.cos(math.radians((lat_min + lat_max) / 2))
        scale = (width - 2 * MARGIN) / max((lon_max - lon_min) * cos_mid, (lat_max - lat_min) * 0.6, 1e-6)
        height = (lat_max - lat_min) * scale + 2 * MARGIN
        return cls(lat_max, lon_min, cos_mid, scale), height


def placement_map(case: Case, allocation: Allocation, areas: Sequence[Area], flows: Sequence[Flow]) -> str:
    """The whole map as one <svg id="map" data-chart="map">."""
    opened = set(allocation.summary.opened_sites)
    used = Counter(p.school_id for p in allocation.placements if p.school_id is not None)
    places: Counter[str] = Counter()
    for offer in case.places:
        places[offer.school_id] += offer.places
    points = [(s.lat, s.lon) for s in case.schools] + [(a.lat, a.lon) for a in areas]
    projection, plot_height = Projection.fit(points, WIDTH)
    height = plot_height + LEGEND_HEIGHT
    schools = case.school_by_id()
    description = (
        f"{len(case.schools)} schools and sites; children's homes grouped into {len(areas)} areas; "
        f"lines join each area to the schools its children were placed at, thicker for more children."
    )
    parts = [svg_open("map", "map", WIDTH, height, "Where children were placed", description)]
    parts.append(f'<rect x="0" y="0" width="{num(WIDTH)}" height="{num(plot_height)}" fill="#F7F9FB"/>')
    parts.append(_district_labels(areas, projection))
    parts.append('<g class="flows">')
    for flow in flows:
        area = areas[flow.area]
        school = schools[flow.school_id]
        x1, y1 = projection.xy(area.lat, area.lon)
        x2, y2 = projection.xy(school.lat, school.lon)
        parts.append(
            line(x1, y1, x2, y2, BLUE, 0.5 + 0.45 * flow.children, ' stroke-opacity="0.3" stroke-linecap="round"')
        )
    parts.append('</g><g class="areas">')
    for area in areas:
        x, y = projection.xy(area.lat, area.lon)
        radius = 2.0 + 1.6 * math.sqrt(area.children)
        fill = VERMILLION if area.unplaced else SKY
        where = f"{area.name} ({area.district})" if area.district else area.name
        children = "1 child" if area.children == 1 else f"{area.children} children"
        tooltip = f"{where}: {children}, {area.placed} placed, {area.unplaced} unplaced"
        parts.append(
            f'<circle class="home-area" cx="{num(x)}" cy="{num(y)}" r="{num(radius)}" fill="{fill}" '
            f'fill-opacity="0.75" stroke="#ffffff" stroke-width="0.8"><title>{esc(tooltip)}</title></circle>'
        )
    parts.append('</g><g class="schools">')
    order = sorted(case.schools, key=lambda s: (s.kind == SchoolKind.CANDIDATE, s.school_id in opened))
    for school in order:
        x, y = projection.xy(school.lat, school.lon)
        is_open = school.school_id in opened
        status = _school_status(school, is_open, used[school.school_id], places[school.school_id])
        parts.append(
            f'<g class="school" data-kind="{school.kind.value}" data-opened="{str(is_open).lower()}">'
            f"<title>{esc(school.name)}: {esc(status)}</title>{_marker(school.kind, is_open, x, y)}</g>"
        )
        if is_open:
            parts.append(_opened_label(school, x, y))
    parts.append("</g>")
    parts.append(scale_bar(projection, plot_height))
    parts.append(_legend(plot_height + 8))
    parts.append("</svg>")
    return "".join(parts)


def _opened_label(school: School, x: float, y: float) -> str:
    """Two lines beside an opened site: what it is with its school_id, and its name (cut to fit the
    map; the id keeps two opened sites whose names begin alike apart)."""
    left_side = x > WIDTH * 0.55
    anchor, dx = ("end", -12.0) if left_side else ("start", 12.0)
    halo = ' paint-order="stroke" stroke="#ffffff" stroke-width="3"'
    heading = f"new site opened: {school.school_id}"
    return text(x + dx, y - 4, heading, anchor=anchor, size=12, weight="bold", extra=halo) + text(
        x + dx, y + 11, cut(school.name, 44), anchor=anchor, size=11, extra=halo
    )


def _school_status(school: School, is_open: bool, used: int, places: int) -> str:
    label = KIND_LABELS[school.kind]
    if school.kind == SchoolKind.CANDIDATE and not is_open:
        return f"{label}, not opened in this run ({places} places proposed)"
    if school.kind == SchoolKind.CANDIDATE:
        label = "candidate site opened in this run"
    return f"{label}, {used} of {places} places used"


def _marker(kind: SchoolKind, is_open: bool, x: float, y: float) -> str:
    if kind == SchoolKind.SPECIAL:
        return f'<circle cx="{num(x)}" cy="{num(y)}" r="5.5" fill="{BLUE}" stroke="#ffffff" stroke-width="1.2"/>'
    if kind == SchoolKind.RESOURCE_BASE:
        return (
            f'<rect x="{num(x - 4.5)}" y="{num(y - 4.5)}" width="9" height="9" fill="{GREEN}" '
            f'stroke="#ffffff" stroke-width="1.2"/>'
        )
    if kind == SchoolKind.INDEPENDENT:
        return (
            f'<path d="M{num(x)} {num(y - 6.5)}L{num(x + 6.5)} {num(y)}L{num(x)} {num(y + 6.5)}'
            f'L{num(x - 6.5)} {num(y)}Z" fill="{ORANGE}" stroke="#ffffff" stroke-width="1.2"/>'
        )
    size = 9.0 if is_open else 7.0
    triangle = (
        f"M{num(x)} {num(y - size)}L{num(x + size * 0.95)} {num(y + size * 0.6)}"
        f"L{num(x - size * 0.95)} {num(y + size * 0.6)}Z"
    )
    if is_open:
        return f'<path d="{triangle}" fill="{PINK}" stroke="{INK}" stroke-width="2"/>'
    return f'<path d="{triangle}" fill="#ffffff" stroke="{PINK}" stroke-width="2" stroke-dasharray="3 2"/>'


def _district_labels(areas: Sequence[Area], projection: Projection) -> str:
    """Each district's name at the middle of its home areas."""
    spots: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for area in areas:
        if area.district:
            spots[area.district].append(projection.xy(area.lat, area.lon))
    parts = ['<g class="districts">']
    for district in sorted(spots):
        xs = [p[0] for p in spots[district]]
        ys = [p[1] for p in spots[district]]
        parts.append(
            text(
                sum(xs) / len(xs),
                sum(ys) / len(ys) - 10,
                district.upper(),
                anchor="middle",
                size=11,
                weight="bold",
                fill="#8A8A8A",
                extra=' letter-spacing="1"',
            )
        )
    parts.append("</g>")
    return "".join(parts)


def scale_bar(projection: Projection, plot_height: float) -> str:
    """A 10 km bar in the plot's lower right corner (also used by the candidate-sites map)."""
    pixels = 10.0 / KM_PER_DEGREE * projection.scale
    x, y = WIDTH - MARGIN - pixels, plot_height - 12
    return (
        line(x, y, x + pixels, y, INK, 2)
        + line(x, y - 4, x, y + 1, INK, 2)
        + line(x + pixels, y - 4, x + pixels, y + 1, INK, 2)
        + text(x + pixels / 2, y - 6, "10 km", anchor="middle", size=11)
    )


def _legend(top: float) -> str:
    rows = [
        (_marker(SchoolKind.SPECIAL, False, 0, 0), "special school"),
        (_marker(SchoolKind.RESOURCE_BASE, False, 0, 0), "resource base"),
        (_marker(SchoolKind.INDEPENDENT, False, 0, 0), "independent provider"),
        (_marker(SchoolKind.CANDIDATE, True, 0, 0), "candidate site, opened"),
        (_marker(SchoolKind.CANDIDATE, False, 0, 0), "candidate site, not opened"),
        (f'<circle r="6" fill="{SKY}" fill-opacity="0.75"/>', "home area, all placed (size: children)"),
        (f'<circle r="6" fill="{VERMILLION}" fill-opacity="0.75"/>', "home area with children unplaced"),
        (line(-8, 0, 8, 0, BLUE, 3, ' stroke-opacity="0.5"'), "placements from an area to a school"),
    ]
    parts = ['<g class="legend">']
    for index, (marker, label) in enumerate(rows):
        column, row = divmod(index, 4)
        x = MARGIN + 10 + column * 360
        y = top + 12 + row * 20
        parts.append(f'<g transform="translate({num(x)} {num(y)})">{marker}</g>')
        parts.append(text(x + 16, y + 4, label))
    parts.append("</g>")
    return "".join(parts)
