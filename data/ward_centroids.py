"""Ward centroids: the reference points approximate district outlines are drawn around when no
boundary file is given. The bundled file is the ONS ward centroids of Lancashire's twelve
districts (data/lancashire/sources, see data/lancashire/README.md): public reference data,
nothing about any child."""

import csv
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BUNDLED_WARD_CENTROIDS = (
    Path(__file__).resolve().parent / "lancashire" / "sources" / "lancashire_ward_centroids_current.csv"
)


@dataclass(frozen=True)
class WardCentroid:
    district: str
    ward: str
    lat: float
    lon: float


def parse_ward_centroids(text: str) -> tuple[WardCentroid, ...]:
    """Rows `district, ward_name, centroid_lat, centroid_lon` (other columns ignored), file order."""
    return tuple(
        WardCentroid(
            row["district"].strip(), row["ward_name"].strip(), float(row["centroid_lat"]), float(row["centroid_lon"])
        )
        for row in csv.DictReader(io.StringIO(text, newline=""))
    )


@cache
def bundled_ward_centroids() -> tuple[WardCentroid, ...]:
    return parse_ward_centroids(BUNDLED_WARD_CENTROIDS.read_text(encoding="utf-8"))
