"""The bound that prunes far pairs before exact geodesics never exceeds the estimate itself,
so no pair within the travel limit is ever dropped."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.instance import _minutes_lower_bound
from data.travel import estimate_minutes
from models.case import Policy, TravelEstimate

latitudes = st.floats(min_value=-89.0, max_value=89.0, allow_nan=False)
longitudes = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(latitudes, longitudes, latitudes, longitudes, st.floats(1.0, 3.0), st.floats(5.0, 120.0))
def test_bound_never_above_estimate(
    lat1: float, lon1: float, lat2: float, lon2: float, circuity: float, speed: float
) -> None:
    policy = Policy(travel_estimate=TravelEstimate(speed_kmh=speed, circuity=circuity))
    homes = np.array([[lat1, lon1]])
    schools = np.array([[lat2, lon2]])
    bound = _minutes_lower_bound(homes, schools, policy)
    exact = estimate_minutes(homes[:, 0], homes[:, 1], schools[:, 0], schools[:, 1], policy.travel_estimate)
    assert bound[0] <= exact[0]


def test_bound_is_tight_enough_to_prune() -> None:
    """Across Lancashire the bound is within 3% of the estimate, so it prunes what it should."""
    rng = np.random.default_rng(3)
    homes = np.column_stack([rng.uniform(53.5, 54.2, 2000), rng.uniform(-3.1, -2.0, 2000)])
    schools = np.column_stack([rng.uniform(53.5, 54.2, 2000), rng.uniform(-3.1, -2.0, 2000)])
    policy = Policy()
    bound = _minutes_lower_bound(homes, schools, policy)
    exact = estimate_minutes(homes[:, 0], homes[:, 1], schools[:, 0], schools[:, 1], policy.travel_estimate)
    assert np.all(bound <= exact)
    far = exact > 20
    assert np.all(bound[far] >= 0.97 * exact[far] - 1)  # 1 minute for the two ceilings
