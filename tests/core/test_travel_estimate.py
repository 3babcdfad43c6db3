"""The vectorised travel estimate (pyproj) equals the contract's formula computed per pair
with geopy: ceil(geodesic_km * circuity / speed_kmh * 60), exact whole minutes."""

import math

import numpy as np
import pytest
from geopy.distance import geodesic

from data.travel import estimate_minutes
from models.case import TravelEstimate


def geopy_minutes(a: tuple[float, float], b: tuple[float, float], estimate: TravelEstimate) -> int:
    km = geodesic(a, b, ellipsoid="WGS-84").km
    return math.ceil(km * estimate.circuity / estimate.speed_kmh * 60)


@pytest.mark.parametrize(
    ("seed", "box", "estimate"),
    [
        (1, (53.5, 54.2, -3.1, -2.0), TravelEstimate()),
        (2, (49.9, 58.6, -6.4, 1.8), TravelEstimate(speed_kmh=48, circuity=1.2)),
        (3, (-89.0, 89.0, -180.0, 180.0), TravelEstimate(speed_kmh=17.5, circuity=1.45)),
    ],
    ids=["lancashire", "england", "globe"],
)
def test_vectorised_estimate_equals_geopy(
    seed: int, box: tuple[float, float, float, float], estimate: TravelEstimate
) -> None:
    rng = np.random.default_rng(seed)
    n = 1500
    lat1, lat2 = rng.uniform(box[0], box[1], n), rng.uniform(box[0], box[1], n)
    lon1, lon2 = rng.uniform(box[2], box[3], n), rng.uniform(box[2], box[3], n)
    lat1, lon1 = np.round(lat1, 5), np.round(lon1, 5)  # postcode-centroid precision
    vectorised = estimate_minutes(lat1, lon1, lat2, lon2, estimate)
    expected = [geopy_minutes((a, b), (c, d), estimate) for a, b, c, d in zip(lat1, lon1, lat2, lon2, strict=True)]
    assert vectorised.dtype == np.int64
    assert vectorised.tolist() == expected


def test_same_point_is_zero_minutes_and_empty_input_is_empty() -> None:
    point = np.array([53.8]), np.array([-2.4])
    assert estimate_minutes(point[0], point[1], point[0], point[1], TravelEstimate()).tolist() == [0]
    empty = np.zeros(0)
    assert estimate_minutes(empty, empty, empty, empty, TravelEstimate()).size == 0


def test_known_distance() -> None:
    """Preston to Blackburn centre, about 15.2 km geodesic: 15.2 * 1.3 / 30 * 60 = 39.6 -> 40."""
    preston, blackburn = (53.7632, -2.7031), (53.7486, -2.4875)
    minutes = estimate_minutes(
        np.array([preston[0]]),
        np.array([preston[1]]),
        np.array([blackburn[0]]),
        np.array([blackburn[1]]),
        TravelEstimate(),
    )
    assert minutes.tolist() == [geopy_minutes(preston, blackburn, TravelEstimate())]
    assert 35 <= int(minutes[0]) <= 45


def test_pairs_priced_in_slices_equal_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """pair_minutes prices the pairs without a given figure in slices (memory at national
    scale): the minutes, given figures kept, are those of one call over every pair."""
    import data.travel

    rng = np.random.default_rng(5)
    child_coords = np.column_stack([rng.uniform(53.5, 54.2, 30), rng.uniform(-3.1, -2.0, 30)])
    school_coords = np.column_stack([rng.uniform(53.5, 54.2, 7), rng.uniform(-3.1, -2.0, 7)])
    child = np.repeat(np.arange(30), 7)
    school = np.tile(np.arange(7), 30)
    given_keys = np.array([3, 50, 51, 200], np.int64)  # child * 7 + school
    table = data.travel.TravelTable(given_keys, np.array([1, 2, 3, 4], np.int64), 7)
    estimate = TravelEstimate()
    whole = estimate_minutes(
        child_coords[child, 0], child_coords[child, 1], school_coords[school, 0], school_coords[school, 1], estimate
    )
    whole[given_keys] = [1, 2, 3, 4]
    monkeypatch.setattr(data.travel, "GEODESIC_SLICE", 4)
    sliced, given = data.travel.pair_minutes(table, child, school, child_coords, school_coords, estimate)
    assert np.array_equal(sliced, whole)
    assert np.flatnonzero(given).tolist() == given_keys.tolist()
