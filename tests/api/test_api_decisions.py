"""Panel decisions become locks for the next run; the audit log records uploads, runs and decisions."""

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from api.storage.tables import DecisionRecord
from tests.api.conftest import Service


def decide(service: Service, case_id: str, **body: Any) -> Any:
    return service.client.post(f"/v1/cases/{case_id}/decisions", json=body, headers=service.auth("panel"))


def placement(service: Service, run: dict[str, Any], child_id: str) -> dict[str, Any]:
    url = f"/v1/runs/{run['run_id']}/children/{child_id}"
    found: dict[str, Any] = service.client.get(url, headers=service.auth("officer")).json()
    return found


def test_override_locks_the_child_for_the_next_run_and_refuse_releases_it(service: Service) -> None:
    case_id = service.upload()
    first = service.solve(case_id)
    assert placement(service, first, "C010")["school_id"] != "S3"
    made = decide(
        service,
        case_id,
        child_id="C010",
        school_id="S3",
        decision="override",
        reason="sibling attends",
        run_id=first["run_id"],
    )
    assert made.status_code == 201, made.text
    assert made.json()["decided_by"] in {k.split("_")[1] for k in service.keys.values()}
    second = service.solve(case_id)
    assert second["options"]["locks"] == {"C010": "S3"}
    child = placement(service, second, "C010")
    assert (child["school_id"], child["locked"]) == ("S3", True)
    assert [d["decision"] for d in child["decisions"]] == ["override"]
    assert second["input_sha256"] != first["input_sha256"]  # the run's input is the locked case
    decide(service, case_id, child_id="C010", school_id="S3", decision="refuse", reason="family declined")
    third = service.solve(case_id)
    assert "locks" not in third["options"] and not placement(service, third, "C010")["locked"]
    assert third["input_sha256"] == first["input_sha256"]


def test_decisions_the_case_cannot_keep_are_refused_with_the_loaders_problems(service: Service) -> None:
    case_id = service.upload()
    assert decide(service, case_id, child_id="C001", school_id="S3", decision="accept", reason="ok").status_code == 201
    attempts = [
        ({"child_id": "C010", "school_id": "S3"}, "decision_conflicts", "S3"),  # S3 has one ASD place, now taken
        ({"child_id": "C001", "school_id": "S2"}, "decision_conflicts", "age"),  # S2 takes ages 11-18
        ({"child_id": "C005", "school_id": "S1"}, "decision_conflicts", "SLCN"),  # S1 has no SLCN places
        ({"child_id": "NOBODY", "school_id": "S1"}, "child_unknown", ""),
        ({"child_id": "C001", "school_id": "NOWHERE"}, "school_unknown", ""),
        ({"child_id": "C001", "school_id": "S1", "run_id": "run_nope"}, "run_unknown", ""),
    ]
    for body, code, mentioned in attempts:
        response = decide(service, case_id, decision="accept", reason="panel", **body)
        assert (response.status_code, response.json()["code"]) == (422, code), response.text
        if mentioned:
            assert any("children.csv" in line and mentioned in line for line in response.json()["problems"])
    bad_bodies: list[dict[str, object]] = [
        {"child_id": "C001", "school_id": "S1", "decision": "maybe", "reason": "x"},
        {"child_id": "C001", "school_id": "S1", "decision": "accept"},
        {"child_id": "C001", "school_id": "S1", "decision": "accept", "reason": "x", "extra": 1},
    ]
    for bad_body in bad_bodies:
        response = service.client.post(f"/v1/cases/{case_id}/decisions", json=bad_body, headers=service.auth("panel"))
        assert (response.status_code, response.json()["code"]) == (422, "request_invalid")
    missing = decide(service, "case_nope", child_id="C001", school_id="S1", decision="accept", reason="x")
    assert (missing.status_code, missing.json()["code"]) == (404, "case_not_found")
    with service.database.session() as session:
        assert session.scalar(select(func.count()).select_from(DecisionRecord)) == 1


def test_audit_log_tells_the_story_of_the_case(service: Service) -> None:
    case_id = service.upload()
    run = service.solve(case_id, time_limit=7)
    decide(service, case_id, child_id="C010", school_id="S3", decision="accept", reason="panel 3 May")
    entries = service.client.get(f"/v1/cases/{case_id}/audit", headers=service.auth("officer")).json()
    assert [e["action"] for e in entries] == ["case_uploaded", "run_queued", "run_finished", "decision_recorded"]
    uploaded, queued, finished, decided = entries
    assert (
        uploaded["details"]["input_sha256"]
        == service.client.get(f"/v1/cases/{case_id}", headers=service.auth("officer")).json()["input_sha256"]
    )
    assert queued["details"]["options"]["time_limit"] == 7 and queued["details"]["run_id"] == run["run_id"]
    assert finished["details"]["status"] == "optimal" and finished["details"]["input_sha256"] == run["input_sha256"]
    assert run["software"]["ortools"] and run["software"]["python"]
    assert decided["details"]["decision"] == "accept" and decided["actor"] == queued["actor"]
    tokens = set(service.keys.values())
    assert not any(token in str(entry) for entry in entries for token in tokens)
    assert service.client.get("/v1/cases/case_nope/audit", headers=service.auth("officer")).status_code == 404


def test_audit_log_refuses_updates_and_deletes(service_on_each_database: Service) -> None:
    service = service_on_each_database
    case_id = service.upload()
    database = service.database
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), database.session() as session:
            session.execute(text(statement))
    entries = service.client.get(f"/v1/cases/{case_id}/audit", headers=service.auth("officer")).json()
    assert [e["action"] for e in entries] == ["case_uploaded"]
