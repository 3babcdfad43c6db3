"""Shared fixtures: the sample case, a small valid case folder to break, and the CLI runner.

Hypothesis runs derandomized with no deadline, so the suite is the same on every machine.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests import outside_reads

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CASE = REPO / "data" / "sample"
ALLOCATOR = Path(sys.executable).parent / "allocator"

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
outside_reads.install()

# A small valid case: three schools (one a candidate site), three children (one locked).
VALID_CASE: dict[str, str] = {
    "schools.csv": (
        "school_id,name,lat,lon,age_min,age_max,kind\n"
        "S1,Alpha School,53.8,-2.4,4,11,special\n"
        "S2,Beta School,53.7,-2.5,11,18,special\n"
        "C1,Gamma Site,53.75,-2.45,4,18,candidate\n"
    ),
    "places.csv": "school_id,need,places\nS1,ASD,2\nS2,SEMH,1\nC1,ASD,1\n",
    "children.csv": (
        "child_id,need,age,lat,lon,priority,locked_school_id\n"
        "K1,ASD,7,53.8,-2.41,0,\n"
        "K2,SEMH,12,53.71,-2.5,1,S2\n"
        "K3,ASD,9,53.76,-2.44,2,\n"
    ),
    "preferences.csv": "child_id,school_id,rank\nK1,S1,1\nK3,C1,1\nK3,S1,2\n",
    "travel_times.csv": "child_id,school_id,minutes\nK1,S1,5\n",
    "policy.toml": "open_sites = 1\nunranked_cost = 10\n\n[max_travel_minutes]\nprimary = 45\nsecondary = 75\n",
}

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True)
def _nothing_read_beside_the_repository() -> Iterator[None]:
    """Fail a test that opened a file in a team folder beside the repository (tests/outside_reads.py):
    a fresh clone does not have it. Opened before the test (collection, other fixtures): the
    first test after it fails and says so."""
    before = outside_reads.take()
    if before:
        pytest.fail(f"read outside the repository before this test (collection or a fixture): {sorted(set(before))}")
    yield
    reached = outside_reads.take()
    if reached:
        pytest.fail(f"read outside the repository (a fresh clone has none of it): {sorted(set(reached))}")


def write_case(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write case files (text as UTF-8, bytes as they are) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8", newline="")
    return folder


@pytest.fixture
def valid_case_dir(tmp_path: Path) -> Path:
    return write_case(tmp_path / "case", dict(VALID_CASE))


@pytest.fixture
def sample_case_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SAMPLE_CASE, tmp_path / "sample"))


@pytest.fixture
def run_cli() -> CliRunner:
    """Run the installed `allocator` command; returns the completed process (text)."""

    def run(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ALLOCATOR), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            check=False,
        )

    return run
