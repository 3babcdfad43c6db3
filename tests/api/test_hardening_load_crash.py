"""The quick versions of the issue 10 measuring scripts for the run queue (`make test` runs them;
`make check-hardening` runs the full ones): `python -m bench.hardening.load --quick` and
`python -m bench.hardening.crash --quick` against a real `allocator serve` on 127.0.0.1.
Each script checks its own targets and exits 1 naming any it missed."""

import subprocess
import sys

import pytest

from tests.conftest import REPO


def run_script(name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.hardening.{name}", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, f"{name} missed a target:\n{done.stdout}\n{done.stderr[-2000:]}"
    assert "MISSED" not in done.stdout and "Traceback" not in done.stderr
    return done.stdout


@pytest.mark.slow
def test_bounded_load_quick() -> None:
    """Mixed reads and solves: no error, reads fast while solves run, 429s with Retry-After."""
    printed = run_script("load")
    assert "phase 1, mixed load" in printed and "phase 2, queue full" in printed


@pytest.mark.slow
def test_kill_9_quick() -> None:
    """No orphan process, no lost record, every interrupted run failed and audited."""
    printed = run_script("crash")
    assert "orphan processes 2 s after the kill: 0" in printed and "records lost 0" in printed
