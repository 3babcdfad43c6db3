"""Issue 10, point 9: the schemathesis sweep over every operation with a key of each role
(bench/hardening/schema_sweep.py, quick version), and what it found."""

import re
import subprocess
import sys

import pytest

from tests.api.conftest import Service
from tests.conftest import REPO


@pytest.mark.slow
def test_schema_sweep_quick_finds_no_server_error_or_schema_violation_for_any_role() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.hardening.schema_sweep", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = re.findall(
        r"^(\w+): (\d+) operations, (\d+) requests, server errors (\d+) \(target 0\), schema violations (\d+)",
        done.stdout,
        re.MULTILINE,
    )
    assert [role for role, *_ in figures] == ["admin", "panel", "estates", "officer"], done.stdout
    for role, operations, requests, errors, violations in figures:
        assert int(operations) >= 18 and int(requests) >= int(operations), role
        assert (errors, violations) == ("0", "0"), role


def test_a_page_offset_past_64_bits_is_an_empty_page(service_on_each_database: Service) -> None:
    """Found by the sweep: GET .../allocation?offset=9223372036854775808 was a 500 (SQLite and
    PostgreSQL refuse an OFFSET that large); any offset past the last row is an empty page."""
    service = service_on_each_database
    run = service.solve(service.upload())
    headers = service.auth("officer")
    for offset in (10, 2**63, 2**70):
        page = service.client.get(f"/v1/runs/{run['run_id']}/allocation?offset={offset}", headers=headers)
        assert page.status_code == 200, page.text
        assert (page.json()["total"], page.json()["items"]) == (10, [])
    first = service.client.get(f"/v1/runs/{run['run_id']}/allocation?offset=9&limit=5", headers=headers).json()
    assert [item["child_id"] for item in first["items"]] == ["C010"]
