"""The exact value of one more place at each school and need.

For every bucket (school, need) that at least one child could use with the run's open sites
and whose places are all taken, the optimal allocation with that bucket's places raised by one
is found exactly (one shortest-path pass for all buckets, `allocator.estates.residual`; a full
re-solve with `allocator.flow.solve_flow` where a path cannot be traced) and compared with the
run without it:
    placed_gain = placed(+1) - placed;  preference_cost_saved = pref - pref(+1);
    travel_saved_minutes = minutes - minutes(+1).
Rows are ordered best first by the contract's objective of the +1 run, then school and need.
"""

from dataclasses import dataclass, replace

import numpy as np

from allocator.estates.residual import allocations_with_one_more_place
from allocator.flow import solve_flow
from allocator.instance import NEEDS, Instance
from allocator.objective import ObjectiveValue, evaluate
from data.arrays import BoolArray, IntArray


@dataclass(frozen=True)
class MarginalPlace:
    school_id: str
    name: str  # the school's name, from schools.csv
    need: str
    places: int
    placed_gain: int
    placed_gain_by_priority: dict[str, int]
    preference_cost_saved: int
    travel_saved_minutes: int
    value: ObjectiveValue

    def row(self) -> dict[str, object]:
        return {
            "school_id": self.school_id,
            "name": self.name,
            "need": self.need,
            "places": self.places,
            "placed_gain": self.placed_gain,
            "preference_cost_saved": self.preference_cost_saved,
            "travel_saved_minutes": self.travel_saved_minutes,
        }


def marginal_places(
    instance: Instance, open_sites: BoolArray, chosen_pair: IntArray, baseline: ObjectiveValue
) -> list[MarginalPlace]:
    """One exact re-solve per usable bucket whose places are all taken; see the module docstring.

    A bucket with a place left over gains nothing from one more: the optimal flow stays
    optimal, since raising the capacity of an arc that is not saturated adds no residual arc.
    """
    usable = instance.usable_pairs(open_sites)
    buckets = np.unique(instance.pair_bucket[usable])
    load = np.bincount(instance.pair_bucket[chosen_pair[chosen_pair >= 0]], minlength=instance.bucket_school.size)
    tiers = instance.tiers()
    schools = instance.case.schools
    results: list[MarginalPlace] = []
    full = buckets[load[buckets] >= instance.bucket_free[buckets]]
    moved = allocations_with_one_more_place(instance, open_sites, chosen_pair, full)
    for bucket in buckets.tolist():
        free = instance.bucket_free.copy()
        free[bucket] += 1
        grown = replace(instance, bucket_free=free)
        if load[bucket] < instance.bucket_free[bucket]:
            value = baseline
        elif bucket in moved and _fits(grown, moved[bucket]):
            value = evaluate(grown, moved[bucket])
        else:
            value = evaluate(grown, solve_flow(grown, open_sites))
        by_tier = {
            str(tier): value.placed_by_tier(tiers)[tier] - baseline.placed_by_tier(tiers)[tier] for tier in tiers
        }
        results.append(
            MarginalPlace(
                school_id=schools[int(instance.bucket_school[bucket])].school_id,
                name=schools[int(instance.bucket_school[bucket])].name,
                need=NEEDS[int(instance.bucket_need[bucket])].value,
                places=int(instance.bucket_places[bucket]),
                placed_gain=sum(by_tier.values()),
                placed_gain_by_priority=by_tier,
                preference_cost_saved=baseline.preference_cost - value.preference_cost,
                travel_saved_minutes=baseline.travel_minutes - value.travel_minutes,
                value=value,
            )
        )
    results.sort(key=lambda m: (m.value, m.school_id, m.need))
    return results


def _fits(instance: Instance, chosen_pair: IntArray) -> bool:
    """Each child at most once (by construction) and no bucket over its places."""
    load = np.bincount(instance.pair_bucket[chosen_pair[chosen_pair >= 0]], minlength=instance.bucket_school.size)
    return bool((load <= instance.bucket_free).all())
