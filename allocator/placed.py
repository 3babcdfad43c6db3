"""Where each child of a solution goes, as arrays: the one reading of `chosen_pair` and the
locked places that the summary, the placements and the explanations share."""

from dataclasses import dataclass

import numpy as np

from allocator.instance import Instance
from data.arrays import BoolArray, IntArray


@dataclass(frozen=True)
class PlacedChildren:
    """Per child (children.csv order): `school` its school index (-1 when unplaced), `minutes`
    its journey and `rank` the family's rank of that school (both 0 when unplaced; rank 0 when
    not ranked), and `locked` whether the panel had already decided the place (a locked child
    is at its locked school whatever `chosen_pair` says)."""

    school: IntArray
    minutes: IntArray
    rank: IntArray
    locked: BoolArray

    @property
    def placed(self) -> BoolArray:
        return self.school >= 0


def placed_children(instance: Instance, chosen_pair: IntArray) -> PlacedChildren:
    locked = instance.locked_school >= 0
    school = np.where(locked, instance.locked_school, -1)
    minutes = np.where(locked, instance.locked_minutes, 0)
    rank = np.where(locked, instance.locked_rank, 0)
    by_pair = ~locked & (chosen_pair >= 0)
    pairs = chosen_pair[by_pair]
    school[by_pair] = instance.pair_school[pairs]
    minutes[by_pair] = instance.pair_minutes[pairs]
    rank[by_pair] = instance.pair_rank[pairs]
    return PlacedChildren(school.astype(np.int64), minutes.astype(np.int64), rank.astype(np.int64), locked)
