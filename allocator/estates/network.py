"""The case with room for new places: every listed (school, need) grown by its `max_extra`.

`plan-places` solves this instance with a pool of N new places (`allocator.flow.NewPlaces`):
the one network builder of `allocator.flow` (the proof that the plan and the allocation are
jointly optimal, and use the fewest new places on ties, is in its docstring), or the CP-SAT
model with the same pool when the flow's weights would overflow.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from allocator.flow import NewPlaces
from allocator.instance import NEEDS, Instance, build_instance
from data.arrays import IntArray
from data.travel import TravelTable
from models.case import Case, PlaceOffer
from models.need import Need


@dataclass(frozen=True)
class GrowableInstance:
    """An instance whose buckets include every place that may be added.

    `instance` is built on the case with each listed (school, need) grown by its max_extra, so
    that every pair the new places could serve exists; `base_free[b]` is the bucket's places
    left after locks before any new place and `max_extra[b]` how many may be added.
    """

    instance: Instance
    base_free: IntArray
    max_extra: IntArray

    def pool(self, budget: int) -> NewPlaces:
        """The pool of at most `budget` new places over the listed buckets."""
        return NewPlaces(self.base_free, self.max_extra, budget)

    def with_places(self, extra: IntArray) -> Instance:
        """The instance with `extra[b]` new places added to each bucket (and no other growth)."""
        free = self.base_free + extra
        return replace(
            self.instance, bucket_free=free, bucket_places=self.instance.bucket_places - self.max_extra + extra
        )


def grow_case(case: Case, extra: Mapping[tuple[str, Need], int]) -> Case:
    """The case with `extra[(school_id, need)]` places added (new place rows where none were)."""
    offers = []
    seen: set[tuple[str, Need]] = set()
    for offer in case.places:
        key = (offer.school_id, offer.need)
        seen.add(key)
        offers.append(offer.model_copy(update={"places": offer.places + extra.get(key, 0)}))
    for (school_id, need), count in sorted(extra.items(), key=lambda item: (item[0][0], item[0][1].value)):
        if (school_id, need) not in seen and count > 0:
            offers.append(PlaceOffer(school_id=school_id, need=need, places=count))
    return case.model_copy(update={"places": tuple(offers)})


def growable_instance(case: Case, travel: TravelTable, extra: Mapping[tuple[str, Need], int]) -> GrowableInstance:
    instance = build_instance(grow_case(case, extra), travel)
    school_ids = [school.school_id for school in case.schools]
    max_extra = np.array(
        [
            extra.get((school_ids[int(s)], NEEDS[int(n)]), 0)
            for s, n in zip(instance.bucket_school, instance.bucket_need, strict=True)
        ],
        dtype=np.int64,
    ).reshape(-1)
    return GrowableInstance(instance, instance.bucket_free - max_extra, max_extra)
