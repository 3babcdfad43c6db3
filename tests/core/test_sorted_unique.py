"""data.arrays.sorted_unique is np.unique for integer arrays (it only avoids numpy's hashing)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from data.arrays import sorted_unique


@given(st.lists(st.integers(-(2**62), 2**62), max_size=60), st.booleans())
def test_sorted_unique_equals_np_unique(values: list[int], narrow: bool) -> None:
    array = np.array([v % 7 if narrow else v for v in values], dtype=np.int64)
    found = sorted_unique(array)
    assert found.dtype == np.int64
    assert found.tolist() == np.unique(array).tolist()
