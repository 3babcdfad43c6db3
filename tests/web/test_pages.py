"""The pages over a TestClient: upload, case, start a run, run page with its table, downloads,
audit; bad input shown as error summaries with nothing stored; what each role sees."""

import re
import time
from pathlib import Path

from sqlalchemy import func, select

from api.storage.tables import CaseRecord, RunRecord
from tests.api.conftest import case_form
from tests.conftest import SAMPLE_CASE
from tests.web.conftest import Service, csrf, sign_in


def _count(web: Service, table: type[CaseRecord] | type[RunRecord]) -> int:
    with web.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def upload_page(web: Service, folder: Path = SAMPLE_CASE) -> str:
    """Upload the case through the form; the case id."""
    page = web.client.get("/cases")
    response = web.client.post("/cases", data={"csrf_token": csrf(page.text)}, files=case_form(folder))
    assert response.status_code == 200, response.text
    found = re.search(r"/cases/([^/?\"]+)\?uploaded=1", str(response.url))
    assert found, response.url
    assert "The case was uploaded and checked." in response.text
    return found.group(1)


def start_solve(web: Service, case_id: str) -> str:
    page = web.client.get(f"/cases/{case_id}")
    response = web.client.post(f"/cases/{case_id}/runs", data={"csrf_token": csrf(page.text), "kind": "solve"})
    assert response.status_code == 200, response.text
    run_id = str(response.url).rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while web.client.get(f"/runs/{run_id}/progress").json()["finished"] is False:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return run_id


def test_a_panel_member_uploads_solves_and_reads_the_run(web: Service) -> None:
    sign_in(web.client, web.keys["panel"])
    case_id = upload_page(web)
    case_page = web.client.get(f"/cases/{case_id}").text
    assert "Start a run" in case_page
    run_id = start_solve(web, case_id)
    page = web.client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert "The run in figures" in page.text and "Children placed" in page.text
    assert f'href="/runs/{run_id}/children/' in page.text and 'src="/runs/' in page.text
    for name, kind in (
        ("allocation.csv", "text/csv"),
        ("summary.json", "application/json"),
        ("report.html", "text/html"),
    ):
        download = web.client.get(f"/runs/{run_id}/files/{name}")
        assert download.status_code == 200 and download.headers["content-type"].startswith(kind)
        assert download.headers["content-disposition"] == f'attachment; filename="{run_id}-{name}"'
    allocation = web.client.get(f"/runs/{run_id}/files/allocation.csv").text
    api_allocation = web.client.get(f"/v1/runs/{run_id}/files/allocation.csv", headers=web.auth("officer")).json()
    assert allocation == api_allocation["content"]
    report = web.client.get(f"/runs/{run_id}/report")
    assert report.headers["content-security-policy"].startswith("sandbox") and "<svg" in report.text
    audit = web.client.get(f"/cases/{case_id}/audit").text
    assert "Case uploaded" in audit and "Run started" in audit and "Run finished" in audit


def test_the_table_filters_and_sorts_on_the_server(web: Service) -> None:
    sign_in(web.client, web.keys["officer"])
    case_id = web.upload()
    run_id = web.solve(case_id)["run_id"]
    rows = web.client.get(f"/v1/runs/{run_id}/allocation", params={"limit": 1000}, headers=web.auth("officer")).json()
    expected = sorted(r["child_id"] for r in rows["items"] if r["preference_rank"] != 1)
    page = web.client.get(f"/runs/{run_id}", params={"outcome": "not_first_choice", "sort": "-child"}).text
    shown = re.findall(rf'href="/runs/{run_id}/children/([^"]+)"', page)
    assert shown == sorted(expected, reverse=True)[: len(shown)] and len(shown) == min(50, len(expected))
    assert f"{len(expected):,} child" in page
    unplaced = web.client.get(f"/runs/{run_id}", params={"outcome": "unplaced"}).text
    assert all(
        r["school_id"] is None for r in rows["items"] if r["child_id"] in re.findall(r"/children/([^\"]+)\"", unplaced)
    )
    assert "Start a run" not in web.client.get(f"/cases/{case_id}").text


def test_an_upload_with_problems_lists_each_located_and_stores_nothing(web: Service, tmp_path: Path) -> None:
    sign_in(web.client, web.keys["panel"])
    folder = tmp_path / "case"
    folder.mkdir()
    for path in SAMPLE_CASE.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    children = (folder / "children.csv").read_text().splitlines()
    header = children[0].split(",")
    broken = children[2].split(",")
    broken[header.index("need")] = "XYZ"
    children[2] = ",".join(broken)
    (folder / "children.csv").write_text("\n".join(children) + "\n")
    page = web.client.get("/cases")
    response = web.client.post("/cases", data={"csrf_token": csrf(page.text)}, files=case_form(folder))
    assert response.status_code == 422
    assert "govuk-error-summary" in response.text
    assert re.search(r'href="#file-children">children.csv, line 3, column need: ', response.text)
    assert _count(web, CaseRecord) == 0


def test_an_upload_without_the_needed_files_names_each(web: Service) -> None:
    sign_in(web.client, web.keys["panel"])
    page = web.client.get("/cases")
    response = web.client.post("/cases", data={"csrf_token": csrf(page.text)}, files={"x": ("", b"", "text/plain")})
    assert response.status_code == 422
    for name in ("schools", "places", "children"):
        assert f'href="#file-{name}">Choose the {name}.csv file' in response.text
    assert _count(web, CaseRecord) == 0


def test_a_forged_upload_or_run_is_403_and_stores_nothing(web: Service) -> None:
    sign_in(web.client, web.keys["panel"])
    response = web.client.post("/cases", data={"csrf_token": "x" * 64}, files=case_form(SAMPLE_CASE))
    assert response.status_code == 403 and _count(web, CaseRecord) == 0
    case_id = web.upload()
    response = web.client.post(f"/cases/{case_id}/runs", data={"kind": "solve"})
    assert response.status_code == 403 and _count(web, RunRecord) == 0


def test_an_officer_cannot_upload_or_start_a_run(web: Service) -> None:
    html = sign_in(web.client, web.keys["officer"])
    assert "Upload a case" not in html
    token = csrf(html)
    response = web.client.post("/cases", data={"csrf_token": token}, files=case_form(SAMPLE_CASE))
    assert response.status_code == 403 and _count(web, CaseRecord) == 0
    case_id = web.upload()
    response = web.client.post(f"/cases/{case_id}/runs", data={"csrf_token": token, "kind": "solve"})
    assert response.status_code == 403 and _count(web, RunRecord) == 0


def test_a_run_form_with_bad_fields_shows_each_and_starts_nothing(web: Service) -> None:
    html = sign_in(web.client, web.keys["estates"])
    case_id = web.upload()
    data = {"csrf_token": csrf(html), "kind": "plan-places", "add": "lots", "time_limit": "-3", "expansions": ""}
    response = web.client.post(f"/cases/{case_id}/runs", data=data)
    assert response.status_code == 422
    for href in ("#add", "#time_limit", "#expansions"):
        assert f'href="{href}"' in response.text
    assert _count(web, RunRecord) == 0
    response = web.client.post(f"/cases/{case_id}/runs", data={"csrf_token": csrf(html), "kind": "solve"})
    assert response.status_code == 403 and _count(web, RunRecord) == 0


def test_unknown_pages_are_404_pages(web: Service) -> None:
    sign_in(web.client, web.keys["officer"])
    for path in ("/cases/nope", "/runs/nope", "/cases/nope/audit", "/runs/nope/files/allocation.csv"):
        response = web.client.get(path)
        assert response.status_code == 404 and "There is no such" in response.text
