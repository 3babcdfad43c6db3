"""Case upload (multipart and JSON), reading, and refusals that store nothing."""

import json
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select

from api.storage.tables import AuditEntry, CaseFile, CaseRecord
from tests.api.conftest import Service, case_form
from tests.conftest import SAMPLE_CASE, VALID_CASE, CliRunner


def stored_counts(service: Service) -> tuple[int, int, int]:
    database = service.database
    with database.session() as session:
        cases, files, audit = (
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (CaseRecord, CaseFile, AuditEntry)
        )
        return cases, files, audit


def test_multipart_upload_is_stored_and_readable(service: Service) -> None:
    case_id = service.upload()
    case = service.client.get(f"/v1/cases/{case_id}", headers=service.auth("officer")).json()
    children = sum(1 for line in (SAMPLE_CASE / "children.csv").read_text().splitlines()[1:] if line.strip())
    assert case["children"] == children
    assert case["files"] == sorted(p.name for p in SAMPLE_CASE.iterdir())
    page = service.client.get(f"/v1/cases/{case_id}/children?offset=1&limit=2", headers=service.auth("officer"))
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == children and len(body["items"]) == 2
    assert body["items"][0]["child_id"] == "C002"
    schools = service.client.get(f"/v1/cases/{case_id}/schools", headers=service.auth("estates")).json()
    assert [s["school_id"] for s in schools["items"]][:2] == ["S1", "S2"]


def test_json_upload_gives_the_same_input_hash_as_multipart(service: Service) -> None:
    files = {name.rsplit(".", 1)[0]: text for name, text in VALID_CASE.items()}
    by_json = service.client.post("/v1/cases", json={"files": files}, headers=service.auth("panel"))
    form = {name.rsplit(".", 1)[0]: (name, text.encode(), "text/plain") for name, text in VALID_CASE.items()}
    by_form = service.client.post("/v1/cases", files=form, headers=service.auth("estates"))
    assert by_json.status_code == by_form.status_code == 201
    assert by_json.json()["input_sha256"] == by_form.json()["input_sha256"]
    assert by_json.json()["case_id"] != by_form.json()["case_id"]


def test_invalid_case_lists_the_loaders_problems_and_stores_nothing(service: Service) -> None:
    files = {name.rsplit(".", 1)[0]: text for name, text in VALID_CASE.items()}
    files["children"] = files["children"].replace("K3,ASD,9", "K3,XYZ,nine")
    response = service.client.post("/v1/cases", json={"files": files}, headers=service.auth("panel"))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "case_invalid"
    assert any(line.startswith("children.csv:4: need:") for line in body["problems"])
    assert any(line.startswith("children.csv:4: age:") for line in body["problems"])
    assert stored_counts(service) == (0, 0, 0)


def test_problems_are_the_same_list_as_the_cli_prints(
    service: Service, sample_case_dir: Path, run_cli: CliRunner
) -> None:
    (sample_case_dir / "places.csv").unlink()
    form = case_form(sample_case_dir)
    response = service.client.post("/v1/cases", files=form, headers=service.auth("panel"))
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert "places.csv:0: -: required file is missing" in problems
    cli = run_cli("solve", sample_case_dir, "--out", sample_case_dir.parent / "out")
    assert cli.returncode == 2
    assert cli.stderr.splitlines()[: len(problems)] == problems


def test_bad_requests_have_stable_codes_and_store_nothing(service: Service) -> None:
    headers = {**service.auth("panel"), "content-type": "application/json"}
    cases = [
        (service.client.post("/v1/cases", content=b"{not json", headers=headers), 400, "json_invalid"),
        (
            service.client.post("/v1/cases", json={"files": {"schools": 3}}, headers=service.auth("panel")),
            422,
            "request_invalid",
        ),
        (service.client.post("/v1/cases", json=["x"], headers=service.auth("panel")), 422, "request_invalid"),
        (
            service.client.post("/v1/cases", json={"files": {"pupils": "a"}}, headers=service.auth("panel")),
            422,
            "unknown_file",
        ),
        (
            service.client.post(
                "/v1/cases", content=b"x", headers={**service.auth("panel"), "content-type": "text/csv"}
            ),
            415,
            "unsupported_media_type",
        ),
        (service.client.get("/v1/cases/case_nope", headers=service.auth("officer")), 404, "case_not_found"),
        (service.client.get("/v1/cases/case_nope/children", headers=service.auth("officer")), 404, "case_not_found"),
        (service.client.get("/v1/cases/x/children?limit=abc", headers=service.auth("officer")), 422, "request_invalid"),
        (service.client.get("/v1/nowhere", headers=service.auth("officer")), 404, "not_found"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
        assert response.json()["message"]
    assert stored_counts(service) == (0, 0, 0)


def test_oversized_upload_is_413_and_stores_nothing(service: Service) -> None:
    big = "child_id,need,age,lat,lon\n" + "K1,ASD,7,53.8,-2.4\n" * 20_000  # > 200 kB limit of the fixture
    files = {name.rsplit(".", 1)[0]: text for name, text in VALID_CASE.items()} | {"children": big}
    as_json = service.client.post("/v1/cases", json={"files": files}, headers=service.auth("panel"))
    form = case_form(SAMPLE_CASE) | {"children": ("children.csv", big.encode(), "text/csv")}
    as_form = service.client.post("/v1/cases", files=form, headers=service.auth("panel"))

    def streamed() -> Iterator[bytes]:
        yield json.dumps({"files": files}).encode()

    chunked = service.client.post(
        "/v1/cases", content=streamed(), headers={**service.auth("panel"), "content-type": "application/json"}
    )
    for response in (as_json, as_form, chunked):
        assert response.status_code == 413
        assert response.json()["code"] == "upload_too_large"
    assert stored_counts(service) == (0, 0, 0)
