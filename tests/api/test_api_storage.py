"""Storage on SQLite and PostgreSQL: migrations apply (and re-apply) cleanly, and the whole
flow (upload, solve, decide, audit) gives the same answers on both."""

from typing import Any

from sqlalchemy import inspect, text

from api.storage.database import open_database
from tests.api.conftest import Service

TABLES = {"api_keys", "cases", "case_files", "runs", "decisions", "audit_log", "alembic_version"}


def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    for _ in range(2):
        database = open_database(database_url)
        assert set(inspect(database.engine).get_table_names()) >= TABLES
        with database.session() as session:
            assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        database.close()


def flow(service: Service) -> dict[str, Any]:
    case_id = service.upload()
    first = service.solve(case_id)
    service.client.post(
        f"/v1/cases/{case_id}/decisions",
        headers=service.auth("panel"),
        json={"child_id": "C010", "school_id": "S3", "decision": "accept", "reason": "r"},
    )
    second = service.solve(case_id)
    audit = service.client.get(f"/v1/cases/{case_id}/audit", headers=service.auth("officer")).json()
    allocation = service.client.get(
        f"/v1/runs/{second['run_id']}/allocation?limit=1000", headers=service.auth("officer")
    ).json()
    return {
        "statuses": [first["status"], second["status"]],
        "hashes": [first["input_sha256"], second["input_sha256"]],
        "actions": [entry["action"] for entry in audit],
        "allocation": allocation["items"],
        "aware_times": all(entry["at"].endswith(("Z", "+00:00")) for entry in audit),
    }


def test_the_same_flow_on_each_database(service_on_each_database: Service) -> None:
    result = flow(service_on_each_database)
    assert result["statuses"] == ["optimal", "optimal"] and result["aware_times"]
    assert result["actions"] == [
        "case_uploaded",
        "run_queued",
        "run_finished",
        "decision_recorded",
        "run_queued",
        "run_finished",
    ]
    locked = [row for row in result["allocation"] if row["locked"]]
    assert {(row["child_id"], row["school_id"]) for row in locked} >= {("C010", "S3")}
