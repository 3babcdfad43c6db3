"""The `fairness` option of a solve run over HTTP: it takes the place of policy.toml's
[fairness] table (the run equals the CLI's on the case with that table), and a bad value is a
422 with a stable code that stores nothing."""

import re
import shutil
from pathlib import Path

from sqlalchemy import func, select

from api.storage.tables import RunRecord
from tests.api.conftest import Service
from tests.conftest import SAMPLE_CASE, CliRunner

SOLVE_SECONDS = re.compile(r'^  "solve_seconds": .*$', re.MULTILINE)
RULE = {"balance": "districts", "travel": "kolm_pollak"}


def test_fairness_option_equals_the_policy_table_on_the_command_line(
    service: Service, run_cli: CliRunner, tmp_path: Path
) -> None:
    case_id = service.upload()
    run = service.solve(case_id, fairness=RULE)
    assert run["status"] == "optimal"
    assert run["summary"]["price_of_fairness"]["rule"] == RULE
    assert run["summary"]["solver"] == "min_cost_flow_fairness"
    case = Path(shutil.copytree(SAMPLE_CASE, tmp_path / "case"))
    with (case / "policy.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[fairness]\nbalance = "districts"\ntravel = "kolm_pollak"\n')
    cli = run_cli("solve", case, "--out", tmp_path / "out")
    assert cli.returncode == 0, cli.stderr
    headers = service.auth("officer")
    for name in ("allocation.csv", "summary.json"):
        over_http = service.client.get(f"/v1/runs/{run['run_id']}/files/{name}", headers=headers).json()["content"]
        on_disk = (tmp_path / "out" / name).read_text()
        if name == "summary.json":  # the hash is of the files: the CLI's case has the table
            over_http = re.sub(r'"input_sha256": "\w+"', "", over_http)
            on_disk = re.sub(r'"input_sha256": "\w+"', "", on_disk)
        assert SOLVE_SECONDS.sub("", over_http) == SOLVE_SECONDS.sub("", on_disk), name
    plain = service.solve(case_id)
    assert plain["summary"]["price_of_fairness"] is None
    assert set(plain["summary"]["fairness"]) >= {"by_district", "largest_placed_share_gap", "kolm_pollak"}


def test_bad_fairness_option_is_422_with_a_stable_code_and_stores_nothing(service: Service) -> None:
    case_id = service.upload()
    url = f"/v1/cases/{case_id}/runs"
    bodies: list[tuple[dict[str, object], str]] = [
        ({"fairness": {"balance": "district"}}, "fairness.balance: Input should be 'districts'"),
        ({"fairness": {"travel": "atkinson"}}, "fairness.travel: Input should be 'kolm_pollak'"),
        ({"fairness": {"balanse": "districts"}}, "fairness.balanse: Extra inputs are not permitted"),
        ({"fairness": "districts"}, "fairness: Input should be a valid dictionary or instance of FairnessRule"),
    ]
    for body, problem in bodies:
        response = service.client.post(url, json={"kind": "solve", **body}, headers=service.auth("panel"))
        assert (response.status_code, response.json()["code"]) == (422, "options_invalid"), response.text
        assert response.json()["problems"] == [problem]
    with service.database.session() as session:
        assert int(session.scalar(select(func.count()).select_from(RunRecord)) or 0) == 0
