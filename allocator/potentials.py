"""Shortest-path potentials of a residual network: the one vectorised Bellman-Ford that proves
a flow optimal (explanations, alternatives and the in-turn flow stage all use it)."""

import numpy as np

from data.arrays import IntArray


def shortest_distances(tails: IntArray, heads: IntArray, costs: np.ndarray, node_count: int) -> np.ndarray | None:
    """Shortest distances from a virtual source joined to every node by arcs of cost 0, over arcs
    `tails[i] -> heads[i]` of cost `costs[i]` (Bellman-Ford, vectorised, exact: int64, or Python
    integers when `costs` holds objects). None when a pass still improves after `node_count`
    passes: a negative cycle, so the flow whose residual network this is was not optimal."""
    distance = np.zeros(node_count, dtype=object if costs.dtype == object else np.int64)
    for _ in range(node_count + 1):
        relaxed = distance.copy()
        np.minimum.at(relaxed, heads, distance[tails] + costs)
        if np.array_equal(relaxed, distance):
            return distance
        distance = relaxed
    return None


def residual_reduced_costs(
    tails: IntArray, heads: IntArray, capacities: IntArray, costs: np.ndarray, flows: IntArray, node_count: int
) -> np.ndarray | None:
    """Reduced costs `c + d(tail) - d(head)` of the arcs for potentials `d` that prove `flows`
    optimal (shortest distances in its residual network); None when there is a negative cycle."""
    forward = flows < capacities
    backward = flows > 0
    distance = shortest_distances(
        np.concatenate([tails[forward], heads[backward]]),
        np.concatenate([heads[forward], tails[backward]]),
        np.concatenate([costs[forward], -costs[backward]]),
        node_count,
    )
    return None if distance is None else costs + distance[tails] - distance[heads]
