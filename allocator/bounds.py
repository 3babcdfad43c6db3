"""Bounds on the contract's travel estimate that cost a few arithmetic operations, not a geodesic.

Points are taken to Earth-centred coordinates (ECEF, metres) on the WGS 84 ellipsoid, the one the
estimate's geodesics use (`data.travel`). For points P and Q on it, with s the geodesic distance:

* Lower: |P - Q| <= s. No curve from P to Q is shorter than the straight segment.
* Upper: the ellipsoid cut by the plane through P, Q and the centre is an ellipse (the "great
  ellipse") of semi-major axis a (the plane meets the equator's plane in a diameter) and semi-minor
  axis B between b and a; its shorter arc from P to Q is a curve on the surface, so s is no longer.
  In polar form in that plane, r(t) = aB / sqrt(B^2 cos^2 t + a^2 sin^2 t), and
  |r'/r| = (a^2 - B^2) |sin t cos t| / (B^2 cos^2 t + a^2 sin^2 t) <= (a^2 - b^2) / (2 b^2) = e'^2 / 2,
  so the arc over the angle T = angle(P, O, Q) <= pi is at most r_max sqrt(1 + e'^4 / 4) T.
  r_max <= a always. When P and Q are on the same side of the equator (z_P z_Q >= 0) the shorter
  arc stays on that side, where r falls from the equator to the arc's highest point and rises
  again: its largest r is at an end, so r_max = max(|P|, |Q|).

Both are widened by a margin far above float rounding (1e-9 relative and a micrometre; pyproj's
geodesics are accurate to 15 nanometres). Minutes follow the estimate's own steps,
ceil(round(km * circuity / speed * 60, 9)), each monotone, so lower <= exact <= upper in minutes
too; where the two agree, they are the exact minutes without a geodesic.
"""

import numpy as np
import numpy.typing as npt

from data.arrays import FloatArray, IntArray
from data.travel import estimate_minutes, minutes_for_metres
from models.case import TravelEstimate

A_M = 6_378_137.0  # WGS 84 semi-major axis
FLATTENING = 1 / 298.257223563
B_M = A_M * (1 - FLATTENING)
E2 = FLATTENING * (2 - FLATTENING)  # first eccentricity squared
ARC_FACTOR = float(np.sqrt(1 + ((A_M**2 - B_M**2) / B_M**2) ** 2 / 4))  # sqrt(1 + e'^4 / 4)
RELATIVE_MARGIN = 1e-9
ABSOLUTE_MARGIN_M = 1e-6
# float error of |P|^2 + |Q|^2 - 2 P.Q for points within 6,400 km of the centre is under 0.1 m^2
SQUARED_MARGIN_M2 = 1.0
BOUND_SLICE = 250_000  # pairs per slice of `estimated_minutes`


def ecef(coords: npt.NDArray[np.float64]) -> FloatArray:
    """(n, 3) Earth-centred coordinates in metres of (lat, lon) degrees on the ellipsoid."""
    lat, lon = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    prime = A_M / np.sqrt(1 - E2 * np.sin(lat) ** 2)
    return np.column_stack(
        [prime * np.cos(lat) * np.cos(lon), prime * np.cos(lat) * np.sin(lon), prime * (1 - E2) * np.sin(lat)]
    ).reshape(-1, 3)


def lower_minutes_grid(homes: FloatArray, schools: FloatArray, estimate: TravelEstimate) -> IntArray:
    """(len(homes), len(schools)) lower bounds of the estimate's minutes, from ECEF points: the
    chord through |P|^2 + |Q|^2 - 2 P.Q (one matrix product), less its float error."""
    squared = (
        np.einsum("ij,ij->i", homes, homes)[:, None]
        + np.einsum("ij,ij->i", schools, schools)[None, :]
        - 2.0 * (homes @ schools.T)
    )
    chord = np.sqrt(np.maximum(squared - SQUARED_MARGIN_M2, 0.0))
    return minutes_for_metres(_lowered(chord), estimate)


def minutes_bounds(homes: FloatArray, schools: FloatArray, estimate: TravelEstimate) -> tuple[IntArray, IntArray]:
    """Lower and upper bounds of the estimate's minutes for pairs of ECEF points (row by row)."""
    chord = np.sqrt(((homes - schools) ** 2).sum(axis=1))
    angle = np.arctan2(np.linalg.norm(np.cross(homes, schools), axis=1), (homes * schools).sum(axis=1))
    same_side = homes[:, 2] * schools[:, 2] >= 0
    radius = np.where(same_side, np.maximum(np.linalg.norm(homes, axis=1), np.linalg.norm(schools, axis=1)), A_M)
    arc = radius * ARC_FACTOR * angle
    return minutes_for_metres(_lowered(chord), estimate), minutes_for_metres(
        arc * (1 + RELATIVE_MARGIN) + ABSOLUTE_MARGIN_M, estimate
    )


def estimated_minutes(
    child_index: IntArray,
    school_index: IntArray,
    children: tuple[FloatArray, FloatArray],
    schools: tuple[FloatArray, FloatArray],
    estimate: TravelEstimate,
) -> IntArray:
    """The estimate's minutes for (child, school) pairs, exactly as `data.travel.estimate_minutes`
    gives them: the bounds' where they agree, a geodesic where they do not. `children` and
    `schools` are (lat, lon) and `ecef` coordinates. In slices, so that working arrays stay small."""
    minutes = np.zeros(child_index.size, np.int64)
    for start in range(0, child_index.size, BOUND_SLICE):
        kids, places = child_index[start : start + BOUND_SLICE], school_index[start : start + BOUND_SLICE]
        low, high = minutes_bounds(children[1][kids], schools[1][places], estimate)
        ask = np.flatnonzero(low < high)
        if ask.size:
            homes, sites = children[0][kids[ask]], schools[0][places[ask]]
            low[ask] = estimate_minutes(homes[:, 0], homes[:, 1], sites[:, 0], sites[:, 1], estimate)
        minutes[start : start + BOUND_SLICE] = low
    return minutes


def _lowered(metres: FloatArray) -> FloatArray:
    return np.maximum(metres * (1 - RELATIVE_MARGIN) - ABSOLUTE_MARGIN_M, 0.0)
