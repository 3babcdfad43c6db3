"""Uploading one .xlsx workbook through the page: stored as the case's files, it solves to the
same allocation as the CSV files it was typed from; a workbook's problems are located at sheet
and row, each linking to the workbook's input, and nothing is stored."""

from pathlib import Path

import openpyxl
from sqlalchemy import func, select

from api.storage.tables import CaseRecord
from data.workbook import template_bytes
from tests.test_workbook_roundtrip import SAMPLE, fill_workbook
from tests.web.conftest import Service, csrf, sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _book(tmp_path: Path) -> Path:
    template = tmp_path / "template.xlsx"
    template.write_bytes(template_bytes())
    book = tmp_path / "round.xlsx"
    fill_workbook(SAMPLE, template, book)
    return book


def _post(web: Service, book: Path) -> tuple[int, str, str]:
    page = web.client.get("/cases")
    files = {"workbook": (book.name, book.read_bytes(), XLSX)}
    response = web.client.post("/cases", data={"csrf_token": csrf(page.text)}, files=files)
    return response.status_code, str(response.url), response.text


def test_a_workbook_solves_as_its_csv_files_do(web: Service, tmp_path: Path) -> None:
    sign_in(web.client, web.keys["panel"])
    status, url, _ = _post(web, _book(tmp_path))
    assert status == 200 and "?uploaded=1" in url
    from_book = url.split("/cases/", 1)[1].split("?")[0]
    from_csv = web.upload()
    allocations = []
    for case_id in (from_book, from_csv):
        run = web.solve(case_id)
        file = web.client.get(f"/v1/runs/{run['run_id']}/files/allocation.csv", headers=web.auth("officer"))
        allocations.append(file.json()["content"])
        assert run["summary"]["placed"] > 0
    assert allocations[0] == allocations[1]


def test_a_workbook_with_problems_lists_each_and_stores_nothing(web: Service, tmp_path: Path) -> None:
    sign_in(web.client, web.keys["panel"])
    book = _book(tmp_path)
    workbook = openpyxl.load_workbook(book)
    workbook["children"]["B2"] = "NOT-A-NEED"
    workbook.save(book)
    status, _, text = _post(web, book)
    assert status == 422 and "govuk-error-summary" in text
    assert '<a href="#file-workbook">children, line 2, column need: ' in text
    with web.database.session() as session:
        assert session.scalar(select(func.count()).select_from(CaseRecord)) == 0


def test_a_workbook_and_csv_files_together_are_refused(web: Service, tmp_path: Path) -> None:
    sign_in(web.client, web.keys["panel"])
    book = _book(tmp_path)
    page = web.client.get("/cases")
    files = {
        "workbook": (book.name, book.read_bytes(), XLSX),
        "schools": ("schools.csv", (SAMPLE / "schools.csv").read_bytes(), "text/csv"),
    }
    response = web.client.post("/cases", data={"csrf_token": csrf(page.text)}, files=files)
    assert response.status_code == 422 and "not both" in response.text
