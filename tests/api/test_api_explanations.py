"""GET /v1/runs/{run_id}/explanations and the child endpoint's explanation fields (issue 9), on
SQLite and PostgreSQL: the rows equal explanations.csv, pages and the outcome filter are SQL."""

import csv
import io

from sqlalchemy import update

from api.services.explanations import child_explanation, explanation_page
from api.storage.tables import PlacementRecord
from tests.api.conftest import Service


def _csv_rows(service: Service, run_id: str) -> list[dict[str, str]]:
    headers = service.auth("officer")
    content = service.client.get(f"/v1/runs/{run_id}/files/explanations.csv", headers=headers).json()["content"]
    return list(csv.DictReader(io.StringIO(content)))


def _as_cells(item: dict[str, object]) -> dict[str, str]:
    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    return {key: cell(value) for key, value in item.items()}


def test_explanation_pages_equal_the_file_and_filter_by_outcome(service_on_each_database: Service) -> None:
    service = service_on_each_database
    run = service.solve(service.upload())
    run_id, headers = run["run_id"], service.auth("officer")
    rows = _csv_rows(service, run_id)
    base = f"/v1/runs/{run_id}/explanations"
    first = service.client.get(f"{base}?limit=3", headers=headers).json()
    rest = service.client.get(f"{base}?offset=3&limit=1000", headers=headers).json()
    assert first["total"] == len(rows) == 10
    assert [_as_cells(item) for item in first["items"] + rest["items"]] == rows
    for outcome in {row["outcome"] for row in rows} | {"locked"}:
        page = service.client.get(f"{base}?outcome={outcome}", headers=headers).json()
        assert [item["child_id"] for item in page["items"]] == [r["child_id"] for r in rows if r["outcome"] == outcome]
    bad = service.client.get(f"{base}?outcome=lucky", headers=headers)
    assert (bad.status_code, bad.json()["code"]) == (422, "outcome_invalid")
    # the filter is SQL over the table: a row changed there is what the endpoint finds
    database = service.client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        session.execute(
            update(PlacementRecord)
            .where(PlacementRecord.run_id == run_id, PlacementRecord.child_id == rows[4]["child_id"])
            .values(outcome="locked")
        )
    locked = service.client.get(f"{base}?outcome=locked", headers=headers).json()
    assert rows[4]["child_id"] in [item["child_id"] for item in locked["items"]]
    total, page = explanation_page(database, run_id, "locked", 0, 100)
    assert total == locked["total"] and [p.child_id for p in page] == [i["child_id"] for i in locked["items"]]
    assert child_explanation(database, run_id, rows[0]["child_id"]).plain_explanation == rows[0]["explanation"]


def test_the_child_endpoint_carries_the_row(service: Service) -> None:
    run = service.solve(service.upload())
    run_id, headers = run["run_id"], service.auth("panel")
    for row in _csv_rows(service, run_id):
        child = service.client.get(f"/v1/runs/{run_id}/children/{row['child_id']}", headers=headers).json()
        fields = ("outcome", "first_choice_school_id", "forced", "add_place_school_id", "extra_minutes")
        assert {k: _as_cells(child)[k] for k in fields} == {k: row[k] for k in fields}
        assert child["plain_explanation"] == row["explanation"]


def test_runs_without_explanations_and_unknown_runs(service: Service) -> None:
    headers = service.auth("officer")
    missing = service.client.get("/v1/runs/run_nope/explanations", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "run_not_found")
    no_key = service.client.get("/v1/runs/run_nope/explanations")
    assert no_key.status_code == 401
