"""The numpy array types the data and allocator layers pass around."""

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def sorted_unique(values: npt.NDArray[np.int64]) -> IntArray:
    """np.unique of an integer array (ascending, each value once) by one sort: numpy 2.4's
    np.unique hashes first and is about 20 times slower on millions of keys."""
    ordered = np.sort(values.astype(np.int64, copy=False))
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def joined(parts: list[IntArray]) -> IntArray:
    """The parts end to end as one int64 array (empty when there are none)."""
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def ranges(first: IntArray, last: IntArray) -> IntArray:
    """The concatenation of arange(first[i], last[i]) for every i."""
    lengths = last - first
    ends = np.cumsum(lengths)
    return (np.arange(int(ends[-1]) if ends.size else 0) + np.repeat(first - (ends - lengths), lengths)).astype(
        np.int64
    )
