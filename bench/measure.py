"""Timing whole commands: wall seconds and peak memory of one child process."""

import os
import statistics
import subprocess
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float


def run_command(command: list[str]) -> Run:
    """Run a command to completion; wall time and its peak resident memory (wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise RuntimeError(f"{' '.join(command)} failed: {error}")
    return Run(seconds, usage.ru_maxrss / 1024.0)


def median_runs(commands: dict[str, list[str]], repeats: int) -> dict[str, Run]:
    """Run the commands in turn `repeats` times (interleaved, so machine noise hits each alike)."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(run_command(command))
    return {
        name: Run(statistics.median(r.seconds for r in found), max(r.peak_mb for r in found))
        for name, found in runs.items()
    }
