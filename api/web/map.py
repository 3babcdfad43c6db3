"""The JSON the pages' maps draw (`static/map.js`, through `templates/partials/map.html`).

`map_data_for_run` shows a run's schools (places and children placed there) and candidate
sites (opened or not); `map_data_for_sites` the candidate sites of a sites run, ranked. Both add
the district outlines and the tile layer (only when `ALLOCATOR_TILE_URL` is set; without it the
map has a plain background and needs nothing from the network).

District outlines are approximate: with no boundary file, each district's outline is the convex
hull of its ward centroids (the bundled ONS ward centroids, `data.ward_centroids`) and of the
case's schools in that district, each point first widened to a ring of `RING_POINTS` points
`BUFFER_KM` km around it, so a district of one or two points still has an area. Only districts
named in the case (children.csv or schools.csv `district`) with ward centroids get an outline.
Nothing about a child is in the map data: no home, no id.

Coordinates are rounded to `PLACES` decimals (about 1 m) so the JSON is the same byte for byte
for the same input.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import ConvexHull

from data.ward_centroids import WardCentroid, bundled_ward_centroids
from models.case import Case, School, SchoolKind

BUFFER_KM = 1.5
RING_POINTS = 12
PLACES = 5
KM_PER_DEGREE_LAT = 111.2
KIND_NAMES = {
    SchoolKind.SPECIAL: "special school",
    SchoolKind.RESOURCE_BASE: "resource base in a mainstream school",
    SchoolKind.INDEPENDENT: "independent special school",
    SchoolKind.CANDIDATE: "candidate site",
}


def map_data_for_run(
    case: Case, placed_at: Mapping[str, int], opened_sites: Iterable[str], tiles: "TileLayer | None" = None
) -> dict[str, Any]:
    """`placed_at`: school_id -> children the run placed there; `opened_sites`: the run's."""
    opened = set(opened_sites)
    places = _places(case)
    schools = [
        {**_point(school), "places": places.get(school.school_id, 0), "placed": placed_at.get(school.school_id, 0)}
        for school in case.schools
        if school.kind is not SchoolKind.CANDIDATE
    ]
    sites = [
        {**_point(school), "opened": school.school_id in opened, "rank": None}
        for school in case.schools
        if school.kind is SchoolKind.CANDIDATE
    ]
    return _map(case, schools, sites, tiles)


def map_data_for_sites(case: Case, ranking: Sequence[str], tiles: "TileLayer | None" = None) -> dict[str, Any]:
    """`ranking`: the candidate sites' ids, best first (a sites run's `sites_ranked`)."""
    rank = {site_id: position for position, site_id in enumerate(ranking, start=1)}
    places = _places(case)
    schools = [
        {**_point(school), "places": places.get(school.school_id, 0), "placed": None}
        for school in case.schools
        if school.kind is not SchoolKind.CANDIDATE
    ]
    sites = [
        {**_point(school), "opened": False, "rank": rank.get(school.school_id)}
        for school in case.schools
        if school.kind is SchoolKind.CANDIDATE
    ]
    sites.sort(key=lambda site: (site["rank"] is None, site["rank"] or 0))
    return _map(case, schools, sites, tiles)


def _map(
    case: Case, schools: list[dict[str, Any]], sites: list[dict[str, Any]], tiles: "TileLayer | None"
) -> dict[str, Any]:
    named = {child.district for child in case.children} | {school.district for school in case.schools}
    wards = [ward for ward in bundled_ward_centroids() if ward.district in named]
    districts = district_outlines(case.schools, wards)
    points = [(s["lat"], s["lon"]) for s in schools + sites] + [
        (lat, lon) for d in districts for lat, lon in d["outline"]
    ]
    return {
        "tiles": None if tiles is None else {"url": tiles.url, "attribution": tiles.attribution},
        "bounds": _bounds(points),
        "schools": schools,
        "sites": sites,
        "districts": districts,
    }


@dataclass(frozen=True)
class TileLayer:
    """A tile server (ALLOCATOR_TILE_URL, e.g. `https://tile.example/{z}/{x}/{y}.png`) and the
    attribution its terms ask for (ALLOCATOR_TILE_ATTRIBUTION)."""

    url: str
    attribution: str = ""


def tile_layer(url: str | None, attribution: str = "") -> TileLayer | None:
    """The configured tile layer, or None (a plain background) when no URL is set."""
    return TileLayer(url, attribution) if url else None


def _point(school: School) -> dict[str, Any]:
    return {
        "id": school.school_id,
        "name": school.name,
        "kind": KIND_NAMES[school.kind],
        "district": school.district,
        "lat": round(school.lat, PLACES),
        "lon": round(school.lon, PLACES),
    }


def _places(case: Case) -> dict[str, int]:
    found: dict[str, int] = {}
    for offer in case.places:
        found[offer.school_id] = found.get(offer.school_id, 0) + offer.places
    return found


def district_outlines(schools: Sequence[School], wards: Sequence[WardCentroid]) -> list[dict[str, Any]]:
    """One approximate outline per district that has ward centroids, by district name: the
    buffered convex hull of its ward centroids and schools (module docstring), counter-clockwise
    from the westernmost point, and a label position (the mean of the ward centroids)."""
    members: dict[str, list[tuple[float, float]]] = {}
    for ward in wards:
        members.setdefault(ward.district, []).append((ward.lat, ward.lon))
    anchors = {name: list(points) for name, points in members.items()}
    for school in schools:
        if school.district in members:
            members[school.district].append((school.lat, school.lon))
    outlines = []
    for name in sorted(members):
        at = np.mean(np.array(anchors[name]), axis=0)
        outlines.append(
            {
                "name": name,
                "label": f"{name} (approximate outline)",
                "outline": buffered_hull(members[name]),
                "at": [round(float(at[0]), PLACES), round(float(at[1]), PLACES)],
            }
        )
    return outlines


def buffered_hull(points: Sequence[tuple[float, float]]) -> list[list[float]]:
    """The convex hull of rings of `BUFFER_KM` km around each (lat, lon), as [lat, lon] vertices."""
    mean_lat = math.radians(sum(lat for lat, _ in points) / len(points))
    lat_step = BUFFER_KM / KM_PER_DEGREE_LAT
    lon_step = lat_step / max(math.cos(mean_lat), 0.1)
    angles = np.arange(RING_POINTS) * (2 * math.pi / RING_POINTS)
    centres = np.array(points, dtype=np.float64)
    ring = np.stack([np.sin(angles) * lat_step, np.cos(angles) * lon_step], axis=1)
    cloud = (centres[:, None, :] + ring[None, :, :]).reshape(-1, 2)
    # Hull in (x = lon scaled to km, y = lat): a plane where distances are about right.
    plane = np.stack([cloud[:, 1] * math.cos(mean_lat), cloud[:, 0]], axis=1)
    vertices = ConvexHull(plane).vertices  # counter-clockwise in (x, y)
    start = int(np.argmin(plane[vertices, 0]))
    ordered = np.roll(vertices, -start)
    return [[round(float(cloud[i, 0]), PLACES), round(float(cloud[i, 1]), PLACES)] for i in ordered]


def _bounds(points: Sequence[tuple[float, float]]) -> list[list[float]] | None:
    if not points:
        return None
    lats = [lat for lat, _ in points]
    lons = [lon for _, lon in points]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]
