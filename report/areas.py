"""Children aggregated to home areas, so that no map or table shows an individual home.

An area is the child's ward when the case gives one (children.csv `ward` column), else a
grid cell of about `GRID_KM` km. An area's position is the mean of its children's homes
snapped to the same grid (so a ward of one child is shown at its ~2 km cell, not the home);
positions are only ever used projected to page pixels, never written as coordinates.

A flow is (area, school, children placed there from that area).
"""

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from models.case import Case
from models.results import Allocation

GRID_KM = 2.0
KM_PER_DEGREE_LAT = 111.2


@dataclass(frozen=True)
class Area:
    name: str
    district: str
    lat: float
    lon: float
    children: int
    placed: int

    @property
    def unplaced(self) -> int:
        return self.children - self.placed


@dataclass(frozen=True)
class Flow:
    area: int  # index into the area list
    school_id: str
    children: int


def _steps(lat: float) -> tuple[float, float]:
    """Grid steps in degrees at a latitude: GRID_KM north-south, about GRID_KM east-west."""
    lat_step = GRID_KM / KM_PER_DEGREE_LAT
    return lat_step, lat_step / max(math.cos(math.radians(round(lat))), 0.1)


def cell_index(lat: float, lon: float) -> tuple[int, int]:
    """(row, column) of the grid cell holding (lat, lon)."""
    lat_step, lon_step = _steps(lat)
    return math.floor(lat / lat_step), math.floor(lon / lon_step)


def snap(lat: float, lon: float) -> tuple[float, float]:
    """Centre of the grid cell holding (lat, lon)."""
    lat_step, lon_step = _steps(lat)
    row, column = cell_index(lat, lon)
    return (row + 0.5) * lat_step, (column + 0.5) * lon_step


def home_areas(
    case: Case, allocation: Allocation, wards: Mapping[str, str] | None = None
) -> tuple[list[Area], list[Flow]]:
    """Areas (sorted by district then name) and flows (sorted by area then school)."""
    keys: list[tuple[str, str]] = []
    for child in case.children:
        district = child.district or ""
        ward = (wards or {}).get(child.child_id, "")
        if ward:
            keys.append((district, ward))
        else:
            row, column = cell_index(child.lat, child.lon)
            keys.append((district, f"grid cell R{row}C{column}"))
    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        members[key].append(index)
    areas: list[Area] = []
    flows: list[Flow] = []
    for key in sorted(members):
        indices = members[key]
        lat = sum(case.children[i].lat for i in indices) / len(indices)
        lon = sum(case.children[i].lon for i in indices) / len(indices)
        cell_lat, cell_lon = snap(lat, lon)
        placed_at: Counter[str] = Counter()
        for i in indices:
            school_id = allocation.placements[i].school_id
            if school_id is not None:
                placed_at[school_id] += 1
        area_index = len(areas)
        areas.append(Area(key[1], key[0], cell_lat, cell_lon, len(indices), sum(placed_at.values())))
        flows.extend(Flow(area_index, school_id, count) for school_id, count in sorted(placed_at.items()))
    return areas, flows
