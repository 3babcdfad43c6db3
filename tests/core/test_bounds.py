"""The chord and great-ellipse bounds bracket the estimate's geodesic minutes everywhere on
the Earth (allocator.bounds), and across England they mostly agree, so that most options beyond
the travel limit are priced without a geodesic."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.bounds import ecef, estimated_minutes, lower_minutes_grid, minutes_bounds
from data.travel import estimate_minutes
from models.case import TravelEstimate

latitudes = st.floats(min_value=-90.0, max_value=90.0, allow_nan=False)
longitudes = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)
estimates = st.builds(TravelEstimate, speed_kmh=st.floats(1.0, 200.0), circuity=st.floats(1.0, 10.0))


def _exact(homes: np.ndarray, schools: np.ndarray, estimate: TravelEstimate) -> np.ndarray:
    return estimate_minutes(homes[:, 0], homes[:, 1], schools[:, 0], schools[:, 1], estimate)


def _check(homes: np.ndarray, schools: np.ndarray, estimate: TravelEstimate) -> None:
    exact = _exact(homes, schools, estimate)
    low, high = minutes_bounds(ecef(homes), ecef(schools), estimate)
    assert np.all(low <= exact), (homes, schools, low, exact)
    assert np.all(exact <= high), (homes, schools, exact, high)
    grid = lower_minutes_grid(ecef(homes), ecef(schools), estimate)
    assert np.all(np.diag(grid) <= exact)


@settings(max_examples=400, deadline=None)
@given(latitudes, longitudes, latitudes, longitudes, estimates)
def test_bounds_bracket_the_estimate_anywhere(
    lat1: float, lon1: float, lat2: float, lon2: float, estimate: TravelEstimate
) -> None:
    _check(np.array([[lat1, lon1]]), np.array([[lat2, lon2]]), estimate)


@settings(max_examples=200, deadline=None)
@given(latitudes, longitudes, st.floats(-1e-3, 1e-3), st.floats(-1e-3, 1e-3), estimates)
def test_bounds_bracket_the_estimate_for_near_points(
    lat: float, lon: float, dlat: float, dlon: float, estimate: TravelEstimate
) -> None:
    """Within about 100 m (a home next to its school), where float error matters most."""
    other = [min(90.0, max(-90.0, lat + dlat)), lon + dlon]
    _check(np.array([[lat, lon]]), np.array([other]), estimate)


def test_bounds_bracket_the_estimate_at_awkward_points() -> None:
    """Identical points, poles, antipodes (on the equator, over a pole), the antimeridian,
    points either side of the equator."""
    pairs = [
        ((53.8, -2.4), (53.8, -2.4)),
        ((90.0, 0.0), (-90.0, 0.0)),
        ((0.0, 0.0), (0.0, 180.0)),
        ((45.0, 10.0), (-45.0, -170.0)),
        ((10.0, 179.9), (10.0, -179.9)),
        ((1.0, 30.0), (-1.0, 31.0)),
        ((0.0, 0.0), (0.0, 0.0)),
        ((89.999, 0.0), (89.999, 180.0)),
    ]
    homes = np.array([home for home, _ in pairs])
    schools = np.array([school for _, school in pairs])
    for estimate in (TravelEstimate(), TravelEstimate(speed_kmh=1.0, circuity=10.0)):
        _check(homes, schools, estimate)


def test_grid_bound_on_many_pairs() -> None:
    rng = np.random.default_rng(5)
    homes = np.column_stack([rng.uniform(-90, 90, 300), rng.uniform(-180, 180, 300)])
    schools = np.column_stack([rng.uniform(-90, 90, 200), rng.uniform(-180, 180, 200)])
    estimate = TravelEstimate()
    grid = lower_minutes_grid(ecef(homes), ecef(schools), estimate)
    exact = _exact(np.repeat(homes, 200, axis=0), np.tile(schools, (300, 1)), estimate).reshape(300, 200)
    assert np.all(grid <= exact)


def test_bounds_mostly_agree_across_england() -> None:
    """Across England (journeys up to about 1,500 minutes) the two bounds give the same minutes
    for about four options in five, and are never more than 2 minutes apart."""
    rng = np.random.default_rng(7)
    homes = np.column_stack([rng.uniform(50.0, 55.8, 20_000), rng.uniform(-5.7, 1.7, 20_000)])
    schools = np.column_stack([rng.uniform(50.0, 55.8, 20_000), rng.uniform(-5.7, 1.7, 20_000)])
    low, high = minutes_bounds(ecef(homes), ecef(schools), TravelEstimate())
    assert (low == high).mean() > 0.75
    assert (high - low).max() <= 2


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), estimates)
def test_estimated_minutes_are_the_geodesic_minutes(seed: int, estimate: TravelEstimate) -> None:
    """The bounds where they agree, a geodesic where not: the minutes of `estimate_minutes`,
    worldwide and across England (most pairs decided by the bounds there)."""
    rng = np.random.default_rng(seed)
    boxes: tuple[tuple[float, float, float, float], ...] = ((-90, 90, -180, 180), (50.0, 55.8, -5.7, 1.7))
    for south, north, west, east in boxes:
        homes = np.column_stack([rng.uniform(south, north, 400), rng.uniform(west, east, 400)])
        schools = np.column_stack([rng.uniform(south, north, 30), rng.uniform(west, east, 30)])
        child, school = rng.integers(0, 400, 3_000), rng.integers(0, 30, 3_000)
        found = estimated_minutes(child, school, (homes, ecef(homes)), (schools, ecef(schools)), estimate)
        assert np.array_equal(found, _exact(homes[child], schools[school], estimate))
