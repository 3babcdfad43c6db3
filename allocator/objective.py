"""The contract's default objective, in strict order, as a comparable key.

1. for each priority tier from the highest down, as many children of that tier placed;
2. the least total preference cost (rank if ranked, else unranked_cost);
3. the least total travel minutes.
Locked children count as placed at their locked school.
"""

from dataclasses import dataclass

import numpy as np

from allocator.instance import Instance
from data.arrays import IntArray


@dataclass(frozen=True, order=True)
class ObjectiveValue:
    """Smaller is better: `order=True` compares (-placed per tier, preference, travel)."""

    negated_placed_by_tier: tuple[int, ...]
    preference_cost: int
    travel_minutes: int

    def placed_by_tier(self, tiers: list[int]) -> dict[int, int]:
        return {tier: -count for tier, count in zip(tiers, self.negated_placed_by_tier, strict=True)}


def evaluate(instance: Instance, chosen_pair: IntArray) -> ObjectiveValue:
    """Objective of an assignment (`chosen_pair[child]` = pair index, -1 unplaced)."""
    locked = instance.locked_school >= 0
    placed = locked | (chosen_pair >= 0)
    pairs = chosen_pair[chosen_pair >= 0]
    preference = int(instance.pair_cost[pairs].sum())
    travel = int(instance.pair_minutes[pairs].sum())
    locked_rank = instance.locked_rank[locked]
    unranked = instance.case.policy.unranked_cost
    preference += int(np.where(locked_rank > 0, locked_rank, unranked).sum())
    travel += int(instance.locked_minutes[locked].sum())
    counts = tuple(-int((placed & (instance.child_priority == tier)).sum()) for tier in instance.tiers())
    return ObjectiveValue(counts, preference, travel)
