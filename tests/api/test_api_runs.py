"""Runs: solve over HTTP equals the CLI, allocation pages and filters (read from the placements
table), child explanations, capped time limits, typed kinds, cancellation, and refused requests
storing nothing."""

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from api.access import Permission
from api.jobs import RunOptions, RunOutput
from api.services import kinds
from api.services.kinds import KINDS, RunKind
from api.settings import Settings
from api.storage.tables import PlacementRecord, RunRecord
from data.loader import LoadedCase
from models.results import RunStatus
from tests.api.conftest import Gate, Service, start_service
from tests.conftest import SAMPLE_CASE, CliRunner

SOLVE_SECONDS = re.compile(r'^  "solve_seconds": .*$', re.MULTILINE)


def run_count(service: Service) -> int:
    with service.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(RunRecord)) or 0)


def test_solve_over_http_writes_what_the_cli_writes(service: Service, run_cli: CliRunner, tmp_path: Path) -> None:
    """The same case gives byte-identical allocation.csv and summary.json (but for the solve time)."""
    case_id = service.upload()
    run = service.solve(case_id, time_limit=10)
    assert run["status"] == "optimal"
    assert run["software"]["ortools"] and run["input_sha256"] == run["summary"]["input_sha256"]
    cli = run_cli("solve", SAMPLE_CASE, "--out", tmp_path / "out", "--time-limit", "10")
    assert cli.returncode == 0, cli.stderr
    headers = service.auth("officer")
    for name in ("allocation.csv", "summary.json"):
        over_http = service.client.get(f"/v1/runs/{run['run_id']}/files/{name}", headers=headers).json()["content"]
        on_disk = (tmp_path / "out" / name).read_text()
        assert SOLVE_SECONDS.sub("", over_http) == SOLVE_SECONDS.sub("", on_disk), name
    assert SOLVE_SECONDS.search(on_disk), "summary.json holds solve_seconds, left out of the comparison"


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


def test_refused_run_requests_have_codes_and_store_nothing(service: Service) -> None:
    case_id = service.upload()
    url = f"/v1/cases/{case_id}/runs"
    panel, estates = service.auth("panel"), service.auth("estates")
    attempts = [
        (url, {"kind": "magic"}, panel, 422, "kind_unknown"),
        (url, {"time_limit": 3}, panel, 422, "request_invalid"),
        (url, {"kind": "solve", "time_limit": "soon"}, panel, 422, "request_invalid"),
        (url, {"kind": "solve", "time_limit": -1}, panel, 422, "request_invalid"),
        (url, {"kind": "solve", "colour": "blue"}, panel, 422, "options_invalid"),
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


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kinds_options_refuse_unknown_fields(service: Service, kind: str) -> None:
    case_id = service.upload()
    role = "panel" if kind == "solve" else "estates"
    needed: dict[str, dict[str, object]] = {
        "plan-places": {"add": 1, "expansions": "school_id,need,max_extra\nS1,ASD,1\n"},
        "whatif": {"scenario": ""},
    }
    body = {"kind": kind, **needed.get(kind, {}), "colour": "blue"}
    response = service.client.post(f"/v1/cases/{case_id}/runs", json=body, headers=service.auth(role))
    assert (response.status_code, response.json()["code"]) == (422, "options_invalid"), response.text
    assert response.json()["problems"] == ["colour: Extra inputs are not permitted"]
    assert run_count(service) == 0
    accepted = service.client.post(
        f"/v1/cases/{case_id}/runs", json={"kind": kind, **needed.get(kind, {})}, headers=service.auth(role)
    )
    assert accepted.status_code == 202, accepted.text  # the same body without the unknown field is a run


class BudgetOptions(RunOptions):
    budget: int


def budget_kind(loaded: LoadedCase, options: BudgetOptions) -> RunOutput:
    """A stand-in kind: a typed function of the loaded case and its own options model."""
    summary = {"status": "optimal", "children": len(loaded.case.children), "budget": options.budget}
    return RunOutput({"sites.csv": "school_id\nS1\n", "summary.json": "{}\n"}, summary, RunStatus.OPTIMAL)


def test_a_kind_is_a_function_of_the_loaded_case_and_its_options(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(kinds.KINDS, "sites", RunKind("sites", Permission.SITES, BudgetOptions, budget_kind))
    case_id = service.upload("estates")
    url, headers = f"/v1/cases/{case_id}/runs", service.auth("estates")
    wrong = service.client.post(url, json={"kind": "sites", "budget": "lots"}, headers=headers)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "options_invalid")
    response = service.client.post(url, json={"kind": "sites", "budget": 3}, headers=headers)
    assert response.status_code == 202
    run = service.wait(response.json()["run_id"])
    children = len((SAMPLE_CASE / "children.csv").read_text().strip().splitlines()) - 1
    assert run["status"] == "optimal" and run["summary"]["children"] == children and run["summary"]["budget"] == 3
    assert run["files"] == ["sites.csv", "summary.json"]
    no_allocation = service.client.get(f"/v1/runs/{run['run_id']}/allocation", headers=service.auth("officer"))
    assert (no_allocation.status_code, no_allocation.json()["code"]) == (404, "allocation_not_found")


def test_the_allocation_endpoint_reads_the_placements_table(service_on_each_database: Service) -> None:
    """Pages and filters are SQL over `placements`, not a parse of allocation.csv: a row changed
    in the table shows, and is found by the school filter, while the file stays as written."""
    service = service_on_each_database
    run = service.solve(service.upload())
    run_id, headers = run["run_id"], service.auth("officer")
    csv_before = service.client.get(f"/v1/runs/{run_id}/files/allocation.csv", headers=headers).json()["content"]
    database = service.client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(PlacementRecord)) == 10
        session.execute(
            update(PlacementRecord)
            .where(PlacementRecord.run_id == run_id, PlacementRecord.child_id == "C005")
            .values(school_id="MOVED", need="XX", district="Elsewhere")
        )
    base = f"/v1/runs/{run_id}/allocation"
    for query in ("school=MOVED", "need=XX", "district=Elsewhere", "school=MOVED&unplaced=false"):
        page = service.client.get(f"{base}?{query}", headers=headers).json()
        assert (page["total"], [item["child_id"] for item in page["items"]]) == (1, ["C005"]), query
    assert service.client.get(f"{base}?school=MOVED&unplaced=true", headers=headers).json()["total"] == 0
    second = service.client.get(f"{base}?offset=1&limit=2", headers=headers).json()
    assert (second["total"], [item["child_id"] for item in second["items"]]) == (10, ["C002", "C003"])
    child = service.client.get(f"/v1/runs/{run_id}/children/C005", headers=headers).json()
    assert (child["school_id"], child["need"]) == ("MOVED", "XX")
    assert service.client.get(f"/v1/runs/{run_id}/files/allocation.csv", headers=headers).json()["content"] == (
        csv_before
    )


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
