"""The quick loader fuzz (`python -m bench.hardening.fuzz_loader --quick`, issue 10 item 9) meets
every target: its figures, as it prints them."""

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_the_quick_loader_fuzz_meets_every_target() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.hardening.fuzz_loader", "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
        check=False,
    )
    report = result.stdout
    assert result.returncode == 0, report + result.stderr
    figures = {
        name: int(value.replace(",", "")) for name, value in re.findall(r"^  ([a-z0-9 -]+): ([\d,]+)", report, re.M)
    }
    cases = re.search(r"^loader fuzz: ([\d,]+) cases", report, re.M)
    assert cases is not None and int(cases.group(1).replace(",", "")) >= 300
    for figure in ("exit 1", "tracebacks", "unlocated stderr lines", "warnings", "partial outputs"):
        assert figures[figure] == 0, report
    checked = re.search(r"exit-0 results checked: ([\d,]+), wrong: ([\d,]+)", report)
    assert checked is not None and int(checked.group(1)) > 0 and checked.group(2) == "0", report
    assert "targets: all met" in report
