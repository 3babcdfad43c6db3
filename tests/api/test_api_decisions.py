"""Panel decisions name the run they are about and must fit it; they become locks for the next
run; the audit log records uploads, runs and decisions."""

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from api.storage.tables import DecisionRecord
from tests.api.conftest import Gate, Service


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
    refused = decide(
        service,
        case_id,
        child_id="C010",
        school_id="S3",
        decision="refuse",
        reason="family declined",
        run_id=second["run_id"],
    )
    assert refused.status_code == 201, refused.text
    third = service.solve(case_id)
    assert "locks" not in third["options"] and not placement(service, third, "C010")["locked"]
    assert third["input_sha256"] == first["input_sha256"]


def test_decisions_the_case_cannot_keep_are_refused_with_the_loaders_problems(service: Service) -> None:
    case_id = service.upload()
    run_id = service.solve(case_id)["run_id"]  # places C001 and C010 at S1 (its two ASD places), C002 at S3
    for child_id in ("C001", "C010"):
        accepted = decide(
            service, case_id, child_id=child_id, school_id="S1", decision="accept", reason="ok", run_id=run_id
        )
        assert accepted.status_code == 201, accepted.text
    # S1's two ASD places are locked: no place is left there (409, as for the loser of a race)
    full = decide(service, case_id, child_id="C002", school_id="S1", decision="override", reason="p", run_id=run_id)
    assert (full.status_code, full.json()["code"]) == (409, "no_place_left"), full.text
    assert any("children.csv" in line and "S1" in line for line in full.json()["problems"])
    attempts = [
        ({"child_id": "C007", "school_id": "S1"}, "decision_conflicts", "age"),  # S1 takes ages 4-11
        ({"child_id": "C005", "school_id": "S1"}, "decision_conflicts", "SLCN"),  # S1 has no SLCN places
        ({"child_id": "NOBODY", "school_id": "S1"}, "child_unknown", ""),
        ({"child_id": "C002", "school_id": "NOWHERE"}, "school_unknown", ""),
        ({"child_id": "C002", "school_id": "S2", "run_id": "run_nope"}, "run_unknown", ""),
    ]
    for body, code, mentioned in attempts:
        response = decide(service, case_id, decision="override", reason="panel", **{"run_id": run_id, **body})
        assert (response.status_code, response.json()["code"]) == (422, code), response.text
        if mentioned:
            assert any("children.csv" in line and mentioned in line for line in response.json()["problems"])
    bad_bodies: list[dict[str, object]] = [
        {"child_id": "C001", "school_id": "S1", "decision": "maybe", "reason": "x", "run_id": run_id},
        {"child_id": "C001", "school_id": "S1", "decision": "accept", "run_id": run_id},
        {"child_id": "C001", "school_id": "S1", "decision": "accept", "reason": "x", "run_id": run_id, "extra": 1},
        {"child_id": "C001", "school_id": "S1", "decision": "accept", "reason": "x"},  # names no run
    ]
    for bad_body in bad_bodies:
        response = service.client.post(f"/v1/cases/{case_id}/decisions", json=bad_body, headers=service.auth("panel"))
        assert (response.status_code, response.json()["code"]) == (422, "request_invalid")
    missing = decide(
        service, "case_nope", child_id="C001", school_id="S1", decision="accept", reason="x", run_id=run_id
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "case_not_found")
    with service.client.app.state.database.session() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(DecisionRecord)) == 2


def stored(service: Service, case_id: str) -> tuple[list[Any], list[Any]]:
    """The case's decisions and audit log, as the API lists them."""
    headers = service.auth("officer")
    decisions = service.client.get(f"/v1/cases/{case_id}/decisions", headers=headers).json()
    audit = service.client.get(f"/v1/cases/{case_id}/audit", headers=headers).json()
    return decisions, audit


def assert_refused(response: Any, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (409, code), response.text
    assert response.json()["message"]


def test_accept_must_be_the_school_the_run_proposed(service: Service) -> None:
    """The report: a panel accepted a school for a child that the run had not proposed, and the
    lock was kept as if the optimiser had chosen it."""
    case_id = service.upload()
    run_id = service.solve(case_id)["run_id"]  # C010 at S1, C001 at S1, C008 unplaced
    before = stored(service, case_id)
    mismatches = [
        ("C010", "S3", "accept"),  # the run proposed S1
        ("C008", "S1", "accept"),  # the run placed C008 nowhere
        ("C001", "S1", "override"),  # that is the proposed school: accept it instead
        ("C010", "S3", "refuse"),  # refuses a school the run did not propose
    ]
    for child_id, school_id, decision in mismatches:
        response = decide(
            service, case_id, child_id=child_id, school_id=school_id, decision=decision, reason="r", run_id=run_id
        )
        assert_refused(response, "decision_does_not_match_run")
    assert stored(service, case_id) == before
    matching = decide(service, case_id, child_id="C010", school_id="S1", decision="accept", reason="r", run_id=run_id)
    assert matching.status_code == 201 and matching.json()["run_id"] == run_id


def test_decision_for_a_run_of_another_case_is_409(service: Service) -> None:
    case_id, other_case = service.upload(), service.upload()
    other_run = service.solve(other_case)["run_id"]
    before = stored(service, case_id)
    response = decide(
        service, case_id, child_id="C010", school_id="S1", decision="accept", reason="r", run_id=other_run
    )
    assert_refused(response, "run_of_another_case")
    assert stored(service, case_id) == before


def test_decision_for_an_unfinished_run_is_409(service: Service, gate: type[Gate]) -> None:
    case_id = service.upload("estates")
    estates = service.auth("estates")
    running = service.client.post(f"/v1/cases/{case_id}/runs", json={"kind": "whatif"}, headers=estates).json()
    assert gate.started.wait(10)
    queued = service.client.post(f"/v1/cases/{case_id}/runs", json={"kind": "whatif"}, headers=estates).json()
    bad_plan = {"kind": "plan-places", "add": 1, "expansions": "school_id,need,max_extra\nNOWHERE,ASD,1\n"}
    before = stored(service, case_id)
    for run_id in (running["run_id"], queued["run_id"]):
        response = decide(
            service, case_id, child_id="C010", school_id="S1", decision="accept", reason="r", run_id=run_id
        )
        assert_refused(response, "run_not_finished")
    assert stored(service, case_id) == before
    service.client.delete(f"/v1/runs/{queued['run_id']}", headers=estates)
    gate.release.set()
    failed = service.client.post(f"/v1/cases/{case_id}/runs", json=bad_plan, headers=estates).json()
    assert service.wait(failed["run_id"])["status"] == "failed"
    assert service.wait(queued["run_id"])["status"] == "cancelled"
    before = stored(service, case_id)
    for run_id in (failed["run_id"], queued["run_id"]):
        response = decide(
            service, case_id, child_id="C010", school_id="S1", decision="accept", reason="r", run_id=run_id
        )
        assert_refused(response, "run_not_finished")
    assert stored(service, case_id) == before


def test_decision_about_a_run_without_an_allocation_is_409(service: Service) -> None:
    case_id = service.upload("estates")
    sites = service.client.post(
        f"/v1/cases/{case_id}/runs", json={"kind": "sites"}, headers=service.auth("estates")
    ).json()
    assert service.wait(sites["run_id"])["status"] == "optimal"
    before = stored(service, case_id)
    response = decide(
        service, case_id, child_id="C010", school_id="S1", decision="accept", reason="r", run_id=sites["run_id"]
    )
    assert_refused(response, "run_has_no_allocation")
    assert stored(service, case_id) == before


def test_audit_log_tells_the_story_of_the_case(service: Service) -> None:
    case_id = service.upload()
    run = service.solve(case_id, time_limit=7)
    made = decide(
        service, case_id, child_id="C010", school_id="S1", decision="accept", reason="panel 3 May", run_id=run["run_id"]
    )
    assert made.status_code == 201, made.text
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
    assert decided["details"]["run_id"] == run["run_id"]
    tokens = set(service.keys.values())
    assert not any(token in str(entry) for entry in entries for token in tokens)
    assert service.client.get("/v1/cases/case_nope/audit", headers=service.auth("officer")).status_code == 404


def test_audit_log_refuses_updates_and_deletes(service_on_each_database: Service) -> None:
    service = service_on_each_database
    case_id = service.upload()
    database = service.client.app.state.database  # type: ignore[attr-defined]
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), database.session() as session:
            session.execute(text(statement))
    entries = service.client.get(f"/v1/cases/{case_id}/audit", headers=service.auth("officer")).json()
    assert [e["action"] for e in entries] == ["case_uploaded"]
