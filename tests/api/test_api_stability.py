"""Run options `objective` and `alternatives` of solve runs over HTTP (issue 9, item 6): the same
files as the command, the alternatives stored as run files, and 422 `options_invalid` for bad
values with nothing stored."""

import re
from pathlib import Path

import pytest

from api.jobs import SolveRunOptions, solve_run
from data.loader import load_case
from report.bundle import bundled_case
from tests.api.conftest import Service
from tests.api.test_api_runs import run_count
from tests.conftest import CliRunner

SOLVE_SECONDS = re.compile(r'^  "solve_seconds": .*$', re.MULTILINE)


def test_alternatives_over_http_are_the_commands_files(service: Service, run_cli: CliRunner, tmp_path: Path) -> None:
    case_id = service.upload(folder=bundled_case())
    run = service.solve(case_id, alternatives=3, time_limit=10)
    assert run["status"] == "optimal", run
    names = ["alternatives/allocation_2.csv", "alternatives/allocation_3.csv"]
    assert set(names) <= set(run["files"])
    assert run["summary"]["alternatives"] == {"requested": 3, "allocations": 3}
    cli = run_cli("solve", bundled_case(), "--out", tmp_path / "out", "--alternatives", "3", "--time-limit", "10")
    assert cli.returncode == 0, cli.stderr
    headers = service.auth("officer")
    for name in [*names, "allocation.csv", "summary.json"]:
        over_http = service.client.get(f"/v1/runs/{run['run_id']}/files/{name}", headers=headers).json()["content"]
        assert SOLVE_SECONDS.sub("", over_http) == SOLVE_SECONDS.sub("", (tmp_path / "out" / name).read_text()), name


def test_objective_option_overrides_the_policy(service: Service) -> None:
    """The option gives what the command gives for the same files with the policy set in
    memory (a changed policy.toml would change input_sha256, and with it the lottery)."""
    case_id = service.upload(folder=bundled_case())
    run = service.solve(case_id, objective="stable", time_limit=10)
    summary = run["summary"]
    assert summary["objective"] == "stable" and summary["solver"] == "deferred_acceptance"
    assert summary["stability"]["justified_envy"] == 0 and summary["price_of_stability"] is not None
    local = solve_run(load_case(bundled_case()), SolveRunOptions(objective="stable", time_limit=10))
    headers = service.auth("officer")
    for name in ("allocation.csv", "summary.json"):
        over_http = service.client.get(f"/v1/runs/{run['run_id']}/files/{name}", headers=headers).json()["content"]
        assert SOLVE_SECONDS.sub("", over_http) == SOLVE_SECONDS.sub("", local.files[name]), name
    optimal = service.solve(case_id, time_limit=10)["summary"]
    assert optimal["objective"] == "optimal" and optimal["price_of_stability"] is None
    assert summary["price_of_stability"]["optimal_preference_cost"] == optimal["preference_cost"]


@pytest.mark.parametrize(
    "options",
    [{"alternatives": 0}, {"alternatives": 101}, {"alternatives": "two"}, {"objective": "fair"}, {"objective": 1}],
)
def test_bad_objective_or_alternatives_is_422_and_stores_nothing(service: Service, options: dict[str, object]) -> None:
    case_id = service.upload()
    response = service.client.post(
        f"/v1/cases/{case_id}/runs", json={"kind": "solve", **options}, headers=service.auth("panel")
    )
    assert (response.status_code, response.json()["code"]) == (422, "options_invalid"), response.text
    (name,) = options
    assert [problem.split(":")[0] for problem in response.json()["problems"]] == [name]
    assert run_count(service) == 0
