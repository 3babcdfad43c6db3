"""Access: 401 without a valid key, 403 for a role without the right, keys stored hashed,
admin key management, and request logs free of bodies and child data."""

import logging

import pytest
from sqlalchemy import select

from api.storage.tables import ApiKey
from tests.api.conftest import Service
from tests.conftest import VALID_CASE

ROLES = ("officer", "panel", "estates", "admin")


def test_no_key_or_a_wrong_key_is_401(service: Service) -> None:
    case_id = service.upload()
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer " + service.keys["panel"][:-2] + "xx"},
    ):
        response = service.client.get(f"/v1/cases/{case_id}", headers=headers)
        assert (response.status_code, response.json()["code"]) == (401, "unauthorised")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert service.client.get("/v1/health").json()["status"] == "ok"


def test_each_role_may_do_only_its_part(service: Service) -> None:
    case_id = service.upload()
    run = service.solve(case_id)
    json_case = {"files": {name.rsplit(".", 1)[0]: body for name, body in VALID_CASE.items()}}
    actions = {
        "read case": (lambda h: service.client.get(f"/v1/cases/{case_id}", headers=h), {"officer", "panel", "estates"}),
        "read run": (
            lambda h: service.client.get(f"/v1/runs/{run['run_id']}", headers=h),
            {"officer", "panel", "estates"},
        ),
        "read audit": (
            lambda h: service.client.get(f"/v1/cases/{case_id}/audit", headers=h),
            {"officer", "panel", "estates"},
        ),
        "upload": (lambda h: service.client.post("/v1/cases", json=json_case, headers=h), {"panel", "estates"}),
        "solve": (
            lambda h: service.client.post(f"/v1/cases/{case_id}/runs", json={"kind": "solve"}, headers=h),
            {"panel"},
        ),
        "decide": (
            lambda h: service.client.post(
                f"/v1/cases/{case_id}/decisions",
                json={
                    "child_id": "C001",
                    "school_id": "S1",
                    "decision": "accept",
                    "reason": "r",
                    "run_id": run["run_id"],
                },
                headers=h,
            ),
            {"panel"},
        ),
        "list keys": (lambda h: service.client.get("/v1/keys", headers=h), {"admin"}),
    }
    for action, (call, allowed) in actions.items():
        for role in ROLES:
            response = call(service.auth(role))
            if role in allowed:
                assert response.status_code < 300, (action, role, response.text)
            else:
                assert (response.status_code, response.json()["code"]) == (403, "forbidden"), (action, role)


def test_admin_manages_keys_and_only_hashes_are_stored(service: Service) -> None:
    admin = service.auth("admin")
    made = service.client.post("/v1/keys", json={"role": "officer", "label": "data team"}, headers=admin)
    assert made.status_code == 201
    token, key_id = made.json()["key"], made.json()["key_id"]
    assert service.client.get("/v1/health", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = service.client.get("/v1/keys", headers=admin).json()
    assert key_id in {k["key_id"] for k in listed} and all("key" not in k for k in listed)
    with service.database.session() as session:
        stored = session.scalars(select(ApiKey)).all()
        secrets = [token, *service.keys.values()]
        assert not any(secret.split("_", 2)[2] in str(vars(row)) for row in stored for secret in secrets)
    assert service.client.delete(f"/v1/keys/{key_id}", headers=admin).status_code == 204
    revoked = service.client.get("/v1/cases/x", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    assert service.client.delete("/v1/keys/nokey", headers=admin).json()["code"] == "key_not_found"
    bad_role = service.client.post("/v1/keys", json={"role": "mayor"}, headers=admin)
    assert (bad_role.status_code, bad_role.json()["code"]) == (422, "request_invalid")


def test_request_logs_name_the_route_not_the_child(service: Service, caplog: pytest.LogCaptureFixture) -> None:
    case_id = service.upload()
    run = service.solve(case_id)
    with caplog.at_level(logging.INFO, logger="allocator.api.requests"):
        service.client.get(f"/v1/runs/{run['run_id']}/children/C008", headers=service.auth("officer"))
        service.client.post(
            f"/v1/cases/{case_id}/decisions",
            headers=service.auth("panel"),
            json={
                "child_id": "C001",
                "school_id": "S1",
                "decision": "refuse",
                "reason": "secret",
                "run_id": run["run_id"],
            },
        )
    lines = [record.getMessage() for record in caplog.records if record.name == "allocator.api.requests"]
    assert any(line.startswith("GET /v1/runs/{run_id}/children/{child_id} 200 ") for line in lines), lines
    assert any(line.startswith("POST /v1/cases/{case_id}/decisions 201 ") for line in lines), lines
    assert not any("C008" in line or "C001" in line or "secret" in line or case_id in line for line in lines)
