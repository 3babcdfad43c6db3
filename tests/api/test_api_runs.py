"""Runs: solve over HTTP equals the CLI, allocation pages and filters, child explanations,
capped time limits, pluggable kinds, cancellation, and refused requests storing nothing."""

import csv
import io
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.access import Permission
from api.services import kinds
from api.services.kinds import RunKind
from api.settings import Settings
from api.storage.tables import RunRecord
from data.loader import LoadedCase
from tests.api.conftest import Service, start_service
from tests.conftest import SAMPLE_CASE, CliRunner


def run_count(service: Service) -> int:
    with service.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(RunRecord)) or 0)


def test_solve_over_http_writes_what_the_cli_writes(service: Service, run_cli: CliRunner, tmp_path: Path) -> None:
    case_id = service.upload()
    run = service.solve(case_id, time_limit=10)
    assert run["status"] == "optimal"
    assert run["software"]["ortools"] and run["input_sha256"] == run["summary"]["input_sha256"]
    cli = run_cli("solve", SAMPLE_CASE, "--out", tmp_path / "out", "--time-limit", "10")
    assert cli.returncode == 0, cli.stderr
    over_http = service.client.get(f"/v1/runs/{run['run_id']}/files/allocation.csv", headers=service.auth("officer"))
    assert over_http.json()["content"] == (tmp_path / "out" / "allocation.csv").read_text()
    assert (
        run["summary"]["input_sha256"]
        == __import__("json").loads((tmp_path / "out" / "summary.json").read_text())["input_sha256"]
    )


def test_allocation_pages_and_filters_agree_with_the_csv(service: Service) -> None:
    case_id = service.upload()
    run = service.solve(case_id)
    headers = service.auth("officer")
    content = service.client.get(f"/v1/runs/{run['run_id']}/files/allocation.csv", headers=headers).json()["content"]
    rows = list(csv.DictReader(io.StringIO(content)))
    children = {r["child_id"]: r for r in csv.DictReader(io.StringIO((SAMPLE_CASE / "children.csv").read_text()))}
    base = f"/v1/runs/{run['run_id']}/allocation"
    first = service.client.get(f"{base}?limit=2", headers=headers).json()
    rest = service.client.get(f"{base}?offset=2&limit=1000", headers=headers).json()
    assert first["total"] == len(rows) and len(first["items"]) == min(2, len(rows))
    assert [i["child_id"] for i in first["items"] + rest["items"]] == [r["child_id"] for r in rows]
    unplaced = service.client.get(f"{base}?unplaced=true", headers=headers).json()
    assert unplaced["total"] == run["summary"]["unplaced"] == sum(1 for r in rows if not r["school_id"])
    assert all(not item["placed"] and item["reason"] and item["explanation"] for item in unplaced["items"])
    school = next(r["school_id"] for r in rows if r["school_id"])
    at_school = service.client.get(f"{base}?school={school}", headers=headers).json()
    assert at_school["total"] == sum(1 for r in rows if r["school_id"] == school)
    need = children[rows[0]["child_id"]]["need"]
    assert service.client.get(f"{base}?need={need}", headers=headers).json()["total"] == sum(
        1 for c in children.values() if c["need"] == need
    )
    district = children[rows[0]["child_id"]]["district"]
    by_district = service.client.get(f"{base}?district={district}", headers=headers).json()
    assert by_district["total"] == sum(1 for c in children.values() if c["district"] == district)


def test_child_placement_and_explanation(service: Service) -> None:
    case_id = service.upload()
    run = service.solve(case_id)
    headers = service.auth("officer")
    rows = service.client.get(f"/v1/runs/{run['run_id']}/allocation?limit=1000", headers=headers).json()["items"]
    for row in rows:
        child = service.client.get(f"/v1/runs/{run['run_id']}/children/{row['child_id']}", headers=headers).json()
        assert child["school_id"] == row["school_id"] and child["decisions"] == []
        assert bool(child["explanation"]) == (not child["placed"])
    missing = service.client.get(f"/v1/runs/{run['run_id']}/children/NOBODY", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "child_not_found")
    assert service.client.get("/v1/runs/run_nope", headers=headers).json()["code"] == "run_not_found"
    assert service.client.get("/v1/runs/run_nope/allocation", headers=headers).status_code == 404


def test_time_limit_is_capped_by_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, executor="thread", workers=1, run_time_limit=5, default_time_limit=2)
    for service in start_service(settings):
        case_id = service.upload()
        assert service.solve(case_id, time_limit=1000)["options"]["time_limit"] == 5
        assert service.solve(case_id)["options"]["time_limit"] == 2
        assert service.solve(case_id, time_limit=0.5)["options"]["time_limit"] == 0.5


def test_refused_run_requests_have_codes_and_store_nothing(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = service.upload()
    monkeypatch.setitem(kinds.KINDS, "sites", RunKind("sites", Permission.SITES, "allocator.no_such_module", "sites"))
    url = f"/v1/cases/{case_id}/runs"
    panel, estates = service.auth("panel"), service.auth("estates")
    attempts = [
        (url, {"kind": "magic"}, panel, 422, "kind_unknown"),
        (url, {"time_limit": 3}, panel, 422, "request_invalid"),
        (url, {"kind": "solve", "time_limit": "soon"}, panel, 422, "request_invalid"),
        (url, {"kind": "solve", "time_limit": -1}, panel, 422, "request_invalid"),
        (url, {"kind": "solve", "colour": "blue"}, panel, 422, "options_invalid"),
        (url, {"kind": "sites"}, estates, 422, "kind_unavailable"),
        (url, {"kind": "sites"}, panel, 403, "forbidden"),
        (url, {"kind": "solve"}, estates, 403, "forbidden"),
        ("/v1/cases/case_nope/runs", {"kind": "solve"}, panel, 404, "case_not_found"),
    ]
    for path, body, headers, status, code in attempts:
        response = service.client.post(path, json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (status, code), (body, response.text)
    broken = service.client.post(url, content=b'{"kind": ', headers={**panel, "content-type": "application/json"})
    assert (broken.status_code, broken.json()["code"]) == (400, "json_invalid")
    assert run_count(service) == 0


def flat_output_kind(loaded: LoadedCase, options: dict[str, Any]) -> Mapping[str, Any]:
    """A stand-in estates kind returning the flat `{name: text}` shape."""
    summary = f'{{"status": "optimal", "children": {len(loaded.case.children)}, "budget": {options["budget"]}}}'
    return {"sites.csv": "school_id\nS1\n", "summary.json": summary}


def test_a_kind_is_a_function_of_the_loaded_case_and_options(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    kind = RunKind("sites", Permission.SITES, __name__, "flat_output_kind")
    monkeypatch.setitem(kinds.KINDS, "sites", kind)
    case_id = service.upload("estates")
    response = service.client.post(
        f"/v1/cases/{case_id}/runs", json={"kind": "sites", "budget": 3}, headers=service.auth("estates")
    )
    assert response.status_code == 202
    run = service.wait(response.json()["run_id"])
    children = len((SAMPLE_CASE / "children.csv").read_text().strip().splitlines()) - 1
    assert run["status"] == "optimal" and run["summary"]["children"] == children and run["summary"]["budget"] == 3
    assert run["files"] == ["sites.csv", "summary.json"]
    no_allocation = service.client.get(f"/v1/runs/{run['run_id']}/allocation", headers=service.auth("officer"))
    assert (no_allocation.status_code, no_allocation.json()["code"]) == (404, "allocation_not_found")


class Gate:
    """A kind that blocks until released, to hold a run in `running`."""

    started = threading.Event()
    release = threading.Event()

    @classmethod
    def run(cls, loaded: LoadedCase, options: dict[str, Any]) -> Mapping[str, Any]:
        cls.started.set()
        cls.release.wait(30)
        return {
            "files": {"allocation.csv": "child_id,school_id,travel_minutes,preference_rank,reason\n"},
            "summary": {"status": "optimal"},
        }


gated_run = Gate.run


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Gate]]:
    Gate.started.clear()
    Gate.release.clear()
    monkeypatch.setitem(kinds.KINDS, "whatif", RunKind("whatif", Permission.WHATIF, __name__, "gated_run"))
    yield Gate
    Gate.release.set()


def test_cancelling_queued_and_running_runs(service: Service, gate: type[Gate]) -> None:
    case_id = service.upload("estates")
    headers = service.auth("estates")
    first = service.client.post(f"/v1/cases/{case_id}/runs", json={"kind": "whatif"}, headers=headers).json()
    assert gate.started.wait(10)
    second = service.client.post(f"/v1/cases/{case_id}/runs", json={"kind": "whatif"}, headers=headers).json()
    assert service.client.get(f"/v1/runs/{second['run_id']}", headers=headers).json()["status"] == "queued"
    busy = service.client.get(f"/v1/runs/{first['run_id']}/allocation", headers=headers)
    assert (busy.status_code, busy.json()["code"]) == (409, "run_not_finished")
    assert service.client.delete(f"/v1/runs/{second['run_id']}", headers=headers).json()["status"] == "cancelled"
    assert service.client.delete(f"/v1/runs/{first['run_id']}", headers=headers).json()["status"] == "cancelled"
    gate.release.set()
    for run_id in (first["run_id"], second["run_id"]):
        run = service.wait(run_id)
        assert run["status"] == "cancelled" and run["summary"] is None
    again = service.client.delete(f"/v1/runs/{first['run_id']}", headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "run_finished")
    forbidden = service.client.delete(f"/v1/runs/{first['run_id']}", headers=service.auth("panel"))
    assert forbidden.status_code == 403
