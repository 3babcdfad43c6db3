"""The progress line: silent for quick runs, a line per interval once a run is slow."""

import io
import time

from allocator.progress import Progress


def test_quick_run_prints_nothing() -> None:
    stream = io.StringIO()
    progress = Progress(stream, after=5.0, every=5.0)
    with progress.stage("optimising"):
        pass
    progress.close()
    assert stream.getvalue() == ""


def test_slow_run_names_its_stage() -> None:
    stream = io.StringIO()
    progress = Progress(stream, after=0.05, every=0.05)
    with progress.stage("reading the case"):
        time.sleep(0.02)
    with progress.stage("optimising"):
        time.sleep(0.3)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines, "a slow run must print progress"
    assert all(line.startswith("allocator: ") and line.endswith("s)") for line in lines)
    assert "optimising" in lines[-1]
