"""The estates kinds over HTTP write what the estates commands write for the same inputs."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.api.conftest import Service
from tests.conftest import REPO

ESTATES_CLI = "import typer; from cli.estates import register; app = typer.Typer(); register(app); app()"
EXPANSIONS = "school_id,need,max_extra\nS1,ASD,2\nS3,SLCN,1\n"
SCENARIO = 'close_schools = ["S2"]\n'
SOLVE_SECONDS = re.compile(r'"solve_seconds": [0-9.]+')


def estates_cli(*args: str | Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ESTATES_CLI, *map(str, args)], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr


def run_files(service: Service, case_id: str, body: dict[str, object]) -> tuple[dict[str, Any], dict[str, str]]:
    response = service.client.post(f"/v1/cases/{case_id}/runs", json=body, headers=service.auth("estates"))
    assert response.status_code == 202, response.text
    run = service.wait(response.json()["run_id"])
    assert run["status"] == "optimal", run["error"]
    files = {
        name: service.client.get(f"/v1/runs/{run['run_id']}/files/{name}", headers=service.auth("officer")).json()[
            "content"
        ]
        for name in run["files"]
    }
    return run, files


def same_as_cli(files: dict[str, str], out: Path) -> None:
    assert sorted(files) == sorted(p.name for p in out.iterdir())
    for name, content in files.items():  # byte for byte, but for the solve times
        assert SOLVE_SECONDS.sub("", content) == SOLVE_SECONDS.sub("", (out / name).read_text()), name


def test_sites_plan_places_and_whatif_match_the_commands(service: Service, sample_case_dir: Path) -> None:
    case_id = service.upload("estates", sample_case_dir)
    run, files = run_files(service, case_id, {"kind": "sites", "time_limit": 10})
    estates_cli("sites", sample_case_dir, "--out", sample_case_dir.parent / "sites", "--time-limit", "10")
    same_as_cli(files, sample_case_dir.parent / "sites")
    assert run["summary"]["sites_ranked"] == ["C1"]

    run, files = run_files(service, case_id, {"kind": "plan-places", "add": 2, "expansions": EXPANSIONS})
    (sample_case_dir / "expansions.csv").write_text(EXPANSIONS)
    estates_cli("plan-places", sample_case_dir, "--add", "2", "--out", sample_case_dir.parent / "plan")
    same_as_cli(files, sample_case_dir.parent / "plan")
    assert 0 <= run["summary"]["new_places_used"] <= 2

    run, files = run_files(service, case_id, {"kind": "whatif", "scenario": SCENARIO})
    (sample_case_dir.parent / "scenario.toml").write_text(SCENARIO)
    estates_cli(
        "whatif", sample_case_dir, sample_case_dir.parent / "scenario.toml", "--out", sample_case_dir.parent / "w"
    )
    same_as_cli(files, sample_case_dir.parent / "w")
    assert run["summary"]["scenario"]["placed"] <= run["summary"]["baseline"]["placed"]


def test_estates_option_problems_are_reported_like_case_problems(service: Service) -> None:
    case_id = service.upload("estates")
    headers = service.auth("estates")
    missing = service.client.post(f"/v1/cases/{case_id}/runs", json={"kind": "plan-places"}, headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (422, "options_invalid")
    bad = {"kind": "plan-places", "add": 1, "expansions": "school_id,need,max_extra\nNOWHERE,ASD,1\n"}
    run = service.wait(service.client.post(f"/v1/cases/{case_id}/runs", json=bad, headers=headers).json()["run_id"])
    assert run["status"] == "failed" and run["error"].startswith("expansions.csv:2: school_id:")
    scenario = {"kind": "whatif", "scenario": 'close_schools = ["NOWHERE"]\n'}
    run = service.wait(
        service.client.post(f"/v1/cases/{case_id}/runs", json=scenario, headers=headers).json()["run_id"]
    )
    assert run["status"] == "failed" and run["error"].startswith("scenario.toml:1:")
    named = {**scenario, "scenario_name": "grow.toml"}
    run = service.wait(service.client.post(f"/v1/cases/{case_id}/runs", json=named, headers=headers).json()["run_id"])
    assert run["status"] == "failed" and run["error"] == "grow.toml:1: close_schools[0]: unknown school 'NOWHERE'"
