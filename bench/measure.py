"""Timing whole commands: wall seconds and peak memory of one child process."""

import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    cpu_seconds: float = 0.0  # user + system time of the process: less sensitive to a shared machine


def run_command(command: list[str]) -> Run:
    """Run a command to completion; wall time and its peak resident memory (wait4)."""
    return run_capturing(command)[0]


def run_capturing(command: list[str]) -> tuple[Run, str]:
    """As `run_command`, with what the command printed on stdout (kept in a temporary file, so
    that the process can be reaped by wait4 for its own peak memory)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {err.read().decode()}")
        cpu = usage.ru_utime + usage.ru_stime
        return Run(seconds, usage.ru_maxrss / 1024.0, cpu), out.read().decode()


def median_runs(commands: dict[str, list[str]], repeats: int) -> dict[str, Run]:
    """Run the commands in turn `repeats` times (interleaved, so machine noise hits each alike)."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(run_command(command))
    return {
        name: Run(
            statistics.median(r.seconds for r in found),
            max(r.peak_mb for r in found),
            statistics.median(r.cpu_seconds for r in found),
        )
        for name, found in runs.items()
    }
