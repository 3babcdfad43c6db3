"""Solver settings, applied in one place."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SolveOptions:
    """Settings for one run.

    time_limit bounds the searches over site sets (seconds, for all levels together; each method
    turns it into a deterministic budget: flows, CP-SAT's deterministic time, HiGHS's nodes);
    the min-cost-flow path is exact and needs none. workers is CP-SAT's number of search
    workers: one, so that a run stopped at its limit is repeatable (see `allocator.cpsat`).
    Site sets are enumerated with flows when there are at most `enumerate_site_sets_up_to` of
    them; beyond that, where places can run out, the branch and bound chooses (same answer,
    never more flows); `enumeration_work_limit` (a count of work: sets x usable pairs, never
    seconds, so that the method, and with it the tie-break, never depends on the machine's
    load) still decides between enumeration and the other methods when no place can run out,
    with a pool of new places, and when the branch and bound's encoding overflows.
    """

    time_limit: float = 60.0
    workers: int = 1
    seed: int = 20250101
    enumerate_site_sets_up_to: int = 64
    enumeration_work_limit: int = 30_000_000
    force_cp_sat: bool = False
