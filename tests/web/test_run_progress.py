"""A run's page before it finishes: its status, a "Refresh the page" link for browsers without
JavaScript, the script's JSON endpoint saying when it has finished."""

import time

import pytest

from api.access import Permission
from api.jobs import RunOptions
from api.services import kinds
from api.services.kinds import RunKind
from tests.api.conftest import Gate
from tests.web.conftest import Service, sign_in


def test_an_unfinished_run_page_offers_refresh_and_its_progress_ends(
    web: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    Gate.started.clear()
    Gate.release.clear()
    monkeypatch.setitem(kinds.KINDS, "whatif", RunKind("whatif", Permission.WHATIF, RunOptions, Gate.run))
    try:
        sign_in(web.client, web.keys["estates"])
        case_id = web.upload("estates")
        response = web.client.post(f"/v1/cases/{case_id}/runs", json={"kind": "whatif"}, headers=web.auth("estates"))
        run_id = response.json()["run_id"]
        assert Gate.started.wait(30)
        page = web.client.get(f"/runs/{run_id}").text
        assert f'data-run-progress="/runs/{run_id}/progress"' in page and "/static/progress.js" in page
        assert f'href="/runs/{run_id}">Refresh the page</a>' in page and "Running" in page
        assert "The run in figures" not in page
        assert web.client.get(f"/runs/{run_id}/progress").json() == {
            "status": "running",
            "finished": False,
            "text": "Running",
        }
    finally:
        Gate.release.set()
    deadline = time.monotonic() + 30
    while not web.client.get(f"/runs/{run_id}/progress").json()["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    page = web.client.get(f"/runs/{run_id}").text
    assert "The run in figures" in page and "progress.js" not in page
    assert web.client.get("/runs/nope/progress").status_code == 404
