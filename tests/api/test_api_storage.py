"""Storage on SQLite and PostgreSQL: migrations apply (and re-apply) cleanly, runs stored before
the placements table get their placements, and the whole flow (upload, solve, decide, audit)
gives the same answers on both."""

from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text

from api.storage.database import MIGRATIONS, make_engine, open_database
from api.storage.tables import CaseFile, CaseRecord, PlacementRecord, RunRecord
from tests.api.conftest import Service
from tests.conftest import SAMPLE_CASE

TABLES = {
    "api_keys",
    "cases",
    "case_files",
    "runs",
    "decisions",
    "audit_log",
    "placements",
    "web_sessions",
    "alembic_version",
}


def _head() -> str:
    """The newest migration's revision (one head: the migrations form one line)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads
    return str(heads[0])


def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    for _ in range(2):
        database = open_database(database_url)
        assert set(inspect(database.engine).get_table_names()) >= TABLES
        with database.session() as session:
            assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
        database.close()


ALLOCATION = (
    "child_id,school_id,travel_minutes,preference_rank,reason\n"
    "C001,S1,7,1,\n"
    "C008,,,,no_eligible_school: No school has places for PMLD in this round.\n"
    "C010,S3,11,,\n"
)


def test_runs_stored_before_the_placements_table_get_their_placements(database_url: str) -> None:
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    when = datetime(2026, 11, 30, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(CaseRecord),
            [
                {
                    "case_id": "case_old",
                    "input_sha256": "x",
                    "schools": 5,
                    "children": 10,
                    "created_at": when,
                    "created_by": "k",
                }
            ],
        )
        connection.execute(
            insert(CaseFile),
            [
                {
                    "case_id": "case_old",
                    "file_name": "children.csv",
                    "content": (SAMPLE_CASE / "children.csv").read_bytes(),
                }
            ],
        )
        connection.execute(
            insert(RunRecord),
            [
                {
                    "run_id": "run_old",
                    "case_id": "case_old",
                    "kind": "solve",
                    "options": {"locks": {"C010": "S3"}},
                    "status": "optimal",
                    "allocation_csv": ALLOCATION,
                    "created_at": when,
                    "created_by": "k",
                },
                {
                    "run_id": "run_failed",
                    "case_id": "case_old",
                    "kind": "solve",
                    "options": {},
                    "status": "failed",
                    "allocation_csv": None,
                    "created_at": when,
                    "created_by": "k",
                },
            ],
        )
    engine.dispose()
    database = open_database(database_url)
    with database.session() as session:
        rows = list(session.scalars(select(PlacementRecord).order_by(PlacementRecord.run_id, PlacementRecord.position)))
    database.close()
    found = [
        (
            r.run_id,
            r.position,
            r.child_id,
            r.school_id,
            r.travel_minutes,
            r.preference_rank,
            r.reason,
            r.need,
            r.district,
            r.priority,
            r.locked,
        )
        for r in rows
    ]
    assert found == [
        ("run_old", 0, "C001", "S1", 7, 1, None, "ASD", "Ribble Valley", 0, False),
        ("run_old", 1, "C008", None, None, None, "no_eligible_school", "PMLD", "Hyndburn", 0, False),
        ("run_old", 2, "C010", "S3", 11, None, None, "ASD", "Ribble Valley", 0, True),
    ]
    assert rows[1].explanation == "No school has places for PMLD in this round."


def flow(service: Service) -> dict[str, Any]:
    case_id = service.upload()
    first = service.solve(case_id)
    decided = service.client.post(
        f"/v1/cases/{case_id}/decisions",
        headers=service.auth("panel"),
        json={"child_id": "C010", "school_id": "S3", "decision": "override", "reason": "r", "run_id": first["run_id"]},
    )
    assert decided.status_code == 201, decided.text
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
