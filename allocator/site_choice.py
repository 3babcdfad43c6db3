"""Which candidate sites a run may open: computed once, for solve, sites and plan-places.

* forced: candidate sites that a panel lock already opens (a lock at a site opens it);
* choosable: the other candidate sites with places of some need;
* to_open: how many of the choosable sites a run opens, open_sites less the forced ones.
Opening a site only adds options (no objective level gets worse), so only sets of exactly
`to_open` choosable sites need trying: `site_sets()` enumerates them, in a fixed order.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

from allocator.instance import Instance
from data.arrays import BoolArray, IntArray


@dataclass(frozen=True)
class SiteChoice:
    forced: BoolArray  # per school: candidate sites opened by locks
    choosable: IntArray  # school indices of the candidate sites the run may open
    to_open: int
    open_limit: int  # open_sites of the policy

    @property
    def set_count(self) -> int:
        """How many sets of sites `site_sets` yields."""
        return comb(int(self.choosable.size), self.to_open)

    def site_sets(self) -> Iterator[BoolArray]:
        """Every set of `to_open` choosable sites with the forced ones, as open-site masks."""
        for chosen in combinations(self.choosable.tolist(), self.to_open):
            open_sites = self.forced.copy()
            open_sites[list(chosen)] = True
            yield open_sites

    def with_open(self, sites: IntArray) -> BoolArray:
        """The forced sites and `sites` open."""
        open_sites = self.forced.copy()
        open_sites[sites] = True
        return open_sites


def site_choice(instance: Instance) -> SiteChoice:
    """The run's choice of candidate sites (see the module docstring)."""
    forced = np.zeros(instance.school_count, bool)
    forced[instance.locked_school[instance.locked_school >= 0]] = True
    forced &= instance.is_candidate
    has_places = np.zeros(instance.school_count, bool)
    has_places[instance.bucket_school] = True  # every bucket has places (or new places may be added)
    choosable = np.flatnonzero(instance.is_candidate & has_places & ~forced)
    open_limit = instance.case.policy.open_sites
    to_open = max(0, min(open_limit - int(forced.sum()), choosable.size))
    return SiteChoice(forced, choosable, to_open, open_limit)
