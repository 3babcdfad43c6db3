"""The contract's default objective, in strict order, defined once.

1. for each priority tier from the highest down, as many children of that tier placed;
2. the least total preference cost (rank if ranked, else unranked_cost);
3. the least total travel minutes.
Locked children count as placed at their locked school, with that school's rank and minutes.

`levels(instance)` lists these levels; every solver (the CP-SAT model, the HiGHS facility-
location model), `evaluate`, the estates code and the summary's bounds take the level names,
the per-pair weights and the locked children's share from here.
"""

from dataclasses import dataclass
from enum import Enum

import numpy as np

from allocator.instance import Instance
from data.arrays import IntArray

PREFERENCE_LEVEL = "preference_cost"
TRAVEL_LEVEL = "travel_minutes"
PLACED_PREFIX = "placed_priority_"


def placed_level(tier: int) -> str:
    """The name of the level that counts the children of `tier` placed."""
    return f"{PLACED_PREFIX}{tier}"


class LevelKind(Enum):
    PLACED = "placed"  # maximise the children of one tier placed
    PREFERENCE = "preference"  # minimise the preference cost
    TRAVEL = "travel"  # minimise the travel minutes


@dataclass(frozen=True)
class ObjectiveLevel:
    """One level: its name, its direction, the weight of each pair and the locked children's share.

    The level's value of an assignment is `locked + sum of weights(chosen pairs)`.
    """

    name: str
    kind: LevelKind
    tier: int | None
    locked: int

    @property
    def maximise(self) -> bool:
        return self.kind is LevelKind.PLACED

    def weights(self, instance: Instance, pairs: IntArray) -> IntArray:
        """The level's weight of each of `pairs` (indices of instance pairs)."""
        if self.kind is LevelKind.PLACED:
            return (instance.child_priority[instance.pair_child[pairs]] == self.tier).astype(np.int64)
        if self.kind is LevelKind.PREFERENCE:
            return instance.pair_cost[pairs]
        return instance.pair_minutes[pairs]

    def clip(self, instance: Instance, bound: float) -> float:
        """A solver's bound on this level, never beyond what is possible: at most the tier's
        children placed, at least the locked children's share of a cost."""
        if self.kind is LevelKind.PLACED:
            return float(min(bound, int((instance.child_priority == self.tier).sum())))
        return float(max(bound, self.locked))

    def gap(self, bound: float, value: int) -> float:
        """The relative gap between a bound and an attained value, in [0, 1]."""
        return min(1.0, abs(bound - value) / max(abs(value), 1))

    def value(self, instance: Instance, chosen_pair: IntArray) -> int:
        """The level's value of an assignment (`chosen_pair[child]` = pair index, -1 unplaced)."""
        pairs = chosen_pair[chosen_pair >= 0]
        return self.locked + int(self.weights(instance, pairs).sum())


def locked_preference_cost(instance: Instance) -> int:
    """The preference cost of the locked children: their school's rank, or unranked_cost."""
    locked = instance.locked_school >= 0
    rank = instance.locked_rank[locked]
    return int(np.where(rank > 0, rank, instance.case.policy.unranked_cost).sum())


def levels(instance: Instance) -> list[ObjectiveLevel]:
    """The objective levels in the contract's strict order, each with the locked children's share."""
    locked = instance.locked_school >= 0
    placed = [
        ObjectiveLevel(
            placed_level(tier), LevelKind.PLACED, tier, int((locked & (instance.child_priority == tier)).sum())
        )
        for tier in instance.tiers()
    ]
    return [
        *placed,
        ObjectiveLevel(PREFERENCE_LEVEL, LevelKind.PREFERENCE, None, locked_preference_cost(instance)),
        ObjectiveLevel(TRAVEL_LEVEL, LevelKind.TRAVEL, None, int(instance.locked_minutes[locked].sum())),
    ]


@dataclass(frozen=True, order=True)
class ObjectiveValue:
    """Smaller is better: `order=True` compares (-placed per tier, preference, travel)."""

    negated_placed_by_tier: tuple[int, ...]
    preference_cost: int
    travel_minutes: int

    def placed_by_tier(self, tiers: list[int]) -> dict[int, int]:
        return {tier: -count for tier, count in zip(tiers, self.negated_placed_by_tier, strict=True)}

    def by_level(self, tiers: list[int]) -> dict[str, int]:
        """Level name -> value (locked children included), in the contract's order."""
        named = {placed_level(tier): count for tier, count in self.placed_by_tier(tiers).items()}
        return {**named, PREFERENCE_LEVEL: self.preference_cost, TRAVEL_LEVEL: self.travel_minutes}


def evaluate(instance: Instance, chosen_pair: IntArray) -> ObjectiveValue:
    """Objective of an assignment (`chosen_pair[child]` = pair index, -1 unplaced)."""
    values = {level.name: level.value(instance, chosen_pair) for level in levels(instance)}
    return ObjectiveValue(
        tuple(-values[placed_level(tier)] for tier in instance.tiers()),
        values[PREFERENCE_LEVEL],
        values[TRAVEL_LEVEL],
    )
