"""Solver settings, applied in one place."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SolveOptions:
    """Settings for one run.

    time_limit bounds the CP-SAT levels (seconds, shared by all levels); the min-cost-flow path
    is exact and needs none. workers is CP-SAT's portfolio size (more diverse workers prove
    faster even on 2 cores). Site sets are enumerated with flows when there are at most
    `enumerate_site_sets_up_to` of them; beyond that, where places can run out, the branch and
    bound chooses (same answer, never more flows); `enumeration_work_limit` (sets x usable
    pairs) still decides between enumeration and the other methods when no place can run out,
    with a pool of new places, and when the branch and bound's encoding overflows.
    """

    time_limit: float = 60.0
    workers: int = 8
    seed: int = 20250101
    enumerate_site_sets_up_to: int = 64
    enumeration_work_limit: int = 30_000_000
    force_cp_sat: bool = False
