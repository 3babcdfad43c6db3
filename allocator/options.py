"""Solver settings, applied in one place."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SolveOptions:
    """time_limit bounds the CP-SAT stages (seconds, shared by all stages); the
    min-cost-flow path is exact and needs none. workers and seed make CP-SAT repeatable:
    one worker with a fixed seed gives the same answer on every run."""

    time_limit: float = 60.0
    workers: int = 1
    seed: int = 20250101
    enumerate_site_sets_up_to: int = 64
    force_cp_sat: bool = False
