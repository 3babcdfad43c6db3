"""Stability: which children have justified envy, and the child-optimal stable allocation.

Justified envy (issue 9, item 4). Child c, not locked, *prefers* school-and-need bucket b when b is
usable for c (rules 1-4 at the run's open sites) and either c is unplaced, or c's family ranked b's
school above the school c got (a smaller rank, or any rank when c got a school they did not rank).
c has justified envy when c prefers some b at which the run placed a child of c's need with a
strictly lower (less urgent) priority tier than c's. c *prefers a free place* when c prefers some b
that still has a free place after the run. Locked children are the panel's decisions: they are
never counted as envious, and a locked place is never one another child envies.

Deferred acceptance (`objective = "stable"`): child-proposing, with
* each child's list: the usable buckets of the child's ranked schools in rank order, then the other
  usable buckets by travel minutes, then school_id;
* each bucket's order: priority tier (most urgent first), then fewer travel minutes, then the
  lottery number sha256(input_sha256 followed by child_id), smallest first;
* capacities: the bucket's places left after the locked children (who hold their places first).
The result is the child-optimal stable matching (Gale and Shapley 1962; for capacities, Roth 1984):
independent of the order in which children propose. Candidate sites: deferred acceptance runs over the sites
the optimal allocation opens and uses (`sites_in_use`); the stable allocation may leave one of them
empty, and then summary.json lists only the sites it uses.
"""

import hashlib
import heapq
from dataclasses import dataclass

import numpy as np

from allocator.instance import Instance
from allocator.objective import evaluate
from allocator.solution import Solution
from data.arrays import BoolArray, IntArray
from models.results import PriceOfStability, Stability

STABLE_SOLVER = "deferred_acceptance"

_NOT_RANKED = np.iinfo(np.int64).max


@dataclass(frozen=True)
class StabilityFigures:
    """Children (indices, children.csv order) with justified envy, and who prefer a free place."""

    justified_envy: IntArray
    prefers_free_place: IntArray


def stability_figures(instance: Instance, chosen_pair: IntArray, open_sites: BoolArray) -> StabilityFigures:
    """The children with justified envy and those preferring a free place (module docstring)."""
    pairs = instance.usable_pairs(open_sites)
    placed_pairs = chosen_pair[chosen_pair >= 0]
    bucket_count = instance.bucket_school.size
    load = np.bincount(instance.pair_bucket[placed_pairs], minlength=bucket_count)
    has_free_place = load < instance.bucket_free
    lowest_tier = np.full(bucket_count, _NOT_RANKED, np.int64)
    np.minimum.at(
        lowest_tier, instance.pair_bucket[placed_pairs], instance.child_priority[instance.pair_child[placed_pairs]]
    )

    children = instance.pair_child[pairs]
    chosen = chosen_pair[children]
    unplaced = chosen < 0
    outcome_rank = np.where(unplaced, 0, instance.pair_rank[np.maximum(chosen, 0)])
    rank = instance.pair_rank[pairs]
    ranked_above = (rank > 0) & ((outcome_rank == 0) | (rank < outcome_rank))
    prefers = unplaced | ranked_above
    buckets = instance.pair_bucket[pairs]
    envy = prefers & (lowest_tier[buckets] < instance.child_priority[children])
    free = prefers & has_free_place[buckets]
    return StabilityFigures(np.unique(children[envy]), np.unique(children[free]))


def sites_in_use(instance: Instance, solution: Solution) -> BoolArray:
    """The open sites summary.json reports: candidate sites opened with a child placed or locked
    there (a site a solver opened but left empty is not open for anyone)."""
    chosen = solution.chosen_pair
    used = np.zeros(instance.school_count, bool)
    used[instance.pair_school[chosen[chosen >= 0]]] = True
    used[instance.locked_school[instance.locked_school >= 0]] = True
    return solution.open_sites & used


def stability_summary(instance: Instance, solution: Solution) -> Stability:
    """summary.json `stability` of a run, over the sites the run reports open."""
    figures = stability_figures(instance, solution.chosen_pair, sites_in_use(instance, solution))
    children = instance.case.children
    envy = [children[int(child)].child_id for child in figures.justified_envy]
    free = [children[int(child)].child_id for child in figures.prefers_free_place]
    return Stability(
        justified_envy=len(envy),
        justified_envy_child_ids=envy,
        prefers_free_place=len(free),
        prefers_free_place_child_ids=free,
    )


def stable_solution(instance: Instance, optimal: Solution, input_sha256: str) -> Solution:
    """The child-optimal stable allocation over the sites the optimal allocation opens (and uses)."""
    open_sites = sites_in_use(instance, optimal)
    chosen = deferred_acceptance(instance, open_sites, input_sha256)
    return Solution(chosen, open_sites, optimal.status, STABLE_SOLVER, stopped_at_limit=optimal.stopped_at_limit)


def price_of_stability(instance: Instance, optimal: Solution, stable: Solution) -> PriceOfStability:
    """The optimal allocation's figures and the stable one's minus them."""
    tiers = instance.tiers()
    best, found = evaluate(instance, optimal.chosen_pair), evaluate(instance, stable.chosen_pair)
    best_placed, found_placed = best.placed_by_tier(tiers), found.placed_by_tier(tiers)
    return PriceOfStability(
        optimal_placed_by_priority={str(tier): best_placed[tier] for tier in tiers},
        optimal_preference_cost=best.preference_cost,
        optimal_travel_minutes=best.travel_minutes,
        placed_by_priority={str(tier): found_placed[tier] - best_placed[tier] for tier in tiers},
        preference_cost=found.preference_cost - best.preference_cost,
        travel_minutes=found.travel_minutes - best.travel_minutes,
    )


def lottery_numbers(instance: Instance, input_sha256: str) -> IntArray:
    """Each child's position in the lottery: sha256 of input_sha256 followed by child_id, smallest first."""
    digests = [
        hashlib.sha256((input_sha256 + child.child_id).encode("utf-8")).hexdigest() for child in instance.case.children
    ]
    # Hex digests of equal length sort as the numbers they write; ids are unique, so no ties.
    order = sorted(range(len(digests)), key=digests.__getitem__)
    position = np.empty(len(digests), np.int64)
    position[np.array(order, np.int64)] = np.arange(len(digests))
    return position


def deferred_acceptance(instance: Instance, open_sites: BoolArray, input_sha256: str) -> IntArray:
    """The child-optimal stable allocation as `chosen_pair` per child (-1 unplaced or locked)."""
    pairs = instance.usable_pairs(open_sites)
    chosen = np.full(instance.child_count, -1, np.int64)
    if pairs.size == 0:
        return chosen
    children = instance.pair_child[pairs]
    rank = instance.pair_rank[pairs]
    minutes = instance.pair_minutes[pairs]
    school_ids = [school.school_id for school in instance.case.schools]
    id_order = np.empty(len(school_ids), np.int64)
    id_order[np.array(sorted(range(len(school_ids)), key=school_ids.__getitem__), np.int64)] = np.arange(
        len(school_ids)
    )
    # The children's lists, one after another: ranked first by rank, then by minutes, then school_id.
    listed = pairs[
        np.lexsort((id_order[instance.pair_school[pairs]], minutes, np.where(rank > 0, rank, _NOT_RANKED), children))
    ]
    list_children = instance.pair_child[listed]
    starts = np.searchsorted(list_children, np.arange(instance.child_count), side="left")
    ends = np.searchsorted(list_children, np.arange(instance.child_count), side="right")

    # A bucket's order as one number per pair: its position when sorted by bucket, then tier
    # (most urgent first), minutes and lottery. Only pairs of the same bucket are ever compared.
    lottery = lottery_numbers(instance, input_sha256)
    by_bucket = np.lexsort(
        (lottery[children], minutes, -instance.child_priority[children], instance.pair_bucket[pairs])
    )
    standing = np.empty(instance.pair_child.size, np.int64)
    standing[pairs[by_bucket]] = np.arange(pairs.size)

    proposals = _propose(
        listed.tolist(),
        starts.tolist(),
        ends.tolist(),
        instance.pair_child.tolist(),
        instance.pair_bucket.tolist(),
        standing.tolist(),
        instance.bucket_free.tolist(),
        np.unique(children).tolist(),
    )
    for pair in proposals:
        chosen[instance.pair_child[pair]] = pair
    return chosen


def _propose(
    listed: list[int],
    starts: list[int],
    ends: list[int],
    pair_child: list[int],
    pair_bucket: list[int],
    standing: list[int],
    capacity: list[int],
    proposers: list[int],
) -> list[int]:
    """Child-proposing deferred acceptance; the pairs held at the end. Each bucket keeps a heap of
    the children it holds, the one it likes least on top (largest standing)."""
    held: list[list[tuple[int, int]]] = [[] for _ in capacity]
    position = list(starts)
    waiting = proposers[::-1]
    while waiting:
        child = waiting.pop()
        while position[child] < ends[child]:
            pair = listed[position[child]]
            position[child] += 1
            bucket = pair_bucket[pair]
            places = capacity[bucket]
            if places == 0:
                continue
            heap = held[bucket]
            if len(heap) < places:
                heapq.heappush(heap, (-standing[pair], pair))
                break
            if -heap[0][0] > standing[pair]:
                _, rejected = heapq.heapreplace(heap, (-standing[pair], pair))
                waiting.append(pair_child[rejected])
                break
    return [pair for heap in held for _, pair in heap]
