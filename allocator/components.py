"""Independent parts of a fixed-site round: the connected components of the graph whose nodes
are the unlocked children and the buckets (one school's places for one need), with an edge for
every usable pair. Each part is solved by its own flow (`allocator.flow.assign`) and the parts'
answers are combined.

Why the combination is the contract's optimum. Let the components be C_1..C_m, grouped into
parts P_1..P_q (each part a union of whole components). An allocation is a set of usable pairs,
at most one a child and at most `free[b]` a bucket; every pair joins a child and a bucket of the
same component, and no child or bucket lies in two. So the allocations of the whole round are
exactly the unions x = x_1 + ... + x_q of one allocation x_i of each part, chosen independently.
Every level of the contract's objective (children of a tier placed, preference cost, travel
minutes; locked children are fixed and add the same constant to every allocation) is a sum over
pairs, so the vector of levels of x is the sum of the parts' vectors: v(x) = v(x_1) + ... +
v(x_q). The contract's strict order compares these vectors lexicographically, an order that is
total and kept by adding the same vector to both sides (a <= b implies a + c <= b + c). If each
x_i* is optimal for its part and y = y_1 + ... + y_q is any allocation, then v(x_i*) <= v(y_i)
for every i, hence, adding one part at a time, v(x*) <= v(y): the union of the parts' optima is
an optimum of the round. Children with no usable pair belong to no part: every allocation
leaves them unplaced. Buckets with no usable pair take nobody.

Each part's flow weights grow with that part's size, not the round's, so they fit the flow
solver's 64-bit range far more often and its arrays are smaller. With a pool of new places
(`plan-places`) the pool joins every bucket that may grow, so the round is one part.

Determinism: components are labelled by scipy in order of their lowest node (children first,
by index), parts gather consecutive components in that order, and each part keeps its pairs,
children and buckets in ascending order: the same case always gives the same parts.
"""

from dataclasses import dataclass

import numpy as np

from allocator.instance import Instance
from data.arrays import IntArray, sorted_unique

# Components are gathered into parts of about this many nodes: one flow per tiny component
# would cost more in set-up than it saves (a part's weights still fit int64 at this size on
# any case with ordinary minutes: BIG is about nodes^2 x 1,000 x 60 there).
PART_NODES = 4_000


@dataclass(frozen=True)
class Part:
    """One independent part: instance pair indices, unlocked children and buckets, ascending."""

    pairs: IntArray
    children: IntArray
    buckets: IntArray


def parts(instance: Instance, pairs: IntArray, whole: bool = False) -> list[Part]:
    """The usable `pairs` (ascending, unlocked children only) split into independent parts;
    `whole` keeps them as one part (a pool of new places links every bucket)."""
    child, bucket = instance.pair_child[pairs], instance.pair_bucket[pairs]
    children, buckets = sorted_unique(child), sorted_unique(bucket)
    if whole or children.size + buckets.size <= PART_NODES:  # one part either way
        return [Part(pairs, children, buckets)]
    # scipy.sparse loads in about 0.2 s: only for rounds large enough to split
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n, bucket_count = instance.child_count, instance.bucket_school.size
    graph = coo_matrix((np.ones(pairs.size, np.int8), (child, n + bucket)), shape=(n + bucket_count, n + bucket_count))
    _, labels = connected_components(graph, directed=False)
    used = np.zeros(n + bucket_count, bool)
    used[child] = True
    used[n + bucket] = True
    sizes = np.bincount(labels[used], minlength=int(labels.max()) + 1)
    # consecutive components (in label order) form a part until it reaches `part_nodes`
    part_of_label = np.zeros(sizes.size, np.int64)
    filled, current = 0, 0
    for label in np.flatnonzero(sizes).tolist():
        if filled >= PART_NODES:
            current, filled = current + 1, 0
        part_of_label[label] = current
        filled += int(sizes[label])
    part_of_pair = part_of_label[labels[child]]
    order = np.argsort(part_of_pair, kind="stable")
    bounds = np.searchsorted(part_of_pair[order], np.arange(current + 2))
    result = []
    for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if stop > start:
            chosen = pairs[order[start:stop]]
            result.append(
                Part(chosen, sorted_unique(instance.pair_child[chosen]), sorted_unique(instance.pair_bucket[chosen]))
            )
    return result
