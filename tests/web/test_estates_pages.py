"""The estates pages over a TestClient on the Lancashire round: ranking the candidate sites
(progress, then the ranking and the map), planning places beside the allocation before them, a
what-if beside its baseline; bad forms shown as error summaries with nothing stored; only the
estates role sees the forms, and a POST by another role or without the CSRF token is 403."""

import json
import re
import time
from typing import Any

from sqlalchemy import func, select

from api.storage.tables import RunRecord
from tests.api.conftest import Service
from tests.conftest import REPO
from tests.web.conftest import csrf, sign_in

LANCASHIRE = REPO / "data" / "lancashire" / "case"
SCENARIO = """[[add_places]]
school_id = "LAN-SP-09"
need = "ASD"
places = 4

[max_travel_minutes]
secondary = 90
"""


def runs_stored(web: Service) -> int:
    with web.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(RunRecord)) or 0)


def start(web: Service, case_id: str, kind: str, **fields: str) -> Any:
    page = web.client.get(f"/cases/{case_id}/estates")
    return web.client.post(
        f"/cases/{case_id}/estates/{kind}", data={"csrf_token": csrf(page.text), "kind": kind, **fields}
    )


def finished_page(web: Service, response: Any) -> tuple[str, str]:
    """(run_id, the run's estates page once finished), after following the form's redirect."""
    assert response.status_code == 200, response.text
    found = re.search(r"/runs/([^/]+)/estates$", str(response.url))
    assert found, response.url
    run_id = found.group(1)
    deadline = time.monotonic() + 120
    while not web.client.get(f"/runs/{run_id}/progress").json()["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return run_id, web.client.get(f"/runs/{run_id}/estates").text


def map_json(page: str, map_id: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{map_id}-data">(.*?)</script>', page, re.S)
    assert found, f"no map {map_id}"
    return json.loads(found.group(1))


def api_file(web: Service, run_id: str, name: str) -> str:
    content: str = web.client.get(f"/v1/runs/{run_id}/files/{name}", headers=web.auth("officer")).json()["content"]
    return content


def test_an_estates_officer_ranks_the_candidate_sites(web: Service) -> None:
    case_id = web.upload(role="estates", folder=LANCASHIRE)
    sign_in(web.client, web.keys["estates"])
    hub = web.client.get(f"/cases/{case_id}/estates").text
    assert "Rank the sites" in hub and "Plan the places" in hub and "Try the scenario" in hub
    assert [s["id"] for s in map_json(hub, "sites-map")["sites"]] == [
        "LAN-CAND-01",
        "LAN-CAND-02",
        "LAN-CAND-03",
        "LAN-CAND-04",
    ]
    response = start(web, case_id, "sites")
    assert 'data-run-progress="/runs/' in response.text  # the page shows progress until the run ends
    run_id, page = finished_page(web, response)
    run = web.client.get(f"/v1/runs/{run_id}", headers=web.auth("officer")).json()
    ranked = run["summary"]["sites_ranked"]
    table = page.split('id="site-ranking"', 1)[1].split("</table>", 1)[0]
    names = re.findall(r'<td class="govuk-table__cell">([^<]+)</td>', table)
    sites_csv = api_file(web, run_id, "sites.csv").splitlines()[1:]
    assert len(names) == len(ranked) == len(sites_csv)
    drawn = map_json(page, "sites-map")["sites"]
    assert [s["id"] for s in drawn] == ranked and [s["rank"] for s in drawn] == list(range(1, len(ranked) + 1))
    assert [s["name"] for s in drawn] == [name.replace("&#39;", "'") for name in names]
    assert f'href="/runs/{run_id}/estates"' in web.client.get(f"/cases/{case_id}/estates").text


def test_plan_places_and_a_what_if_show_beside_their_baselines(web: Service) -> None:
    case_id = web.upload(role="estates", folder=LANCASHIRE)
    solved = web.solve(case_id)
    sign_in(web.client, web.keys["estates"])
    expansions = (LANCASHIRE / "expansions.csv").read_text()
    run_id, page = finished_page(web, start(web, case_id, "plan-places", add="10", expansions=expansions))
    planned = web.client.get(f"/v1/runs/{run_id}", headers=web.auth("officer")).json()
    plan_rows = api_file(web, run_id, "plan.csv").splitlines()[1:]
    table = page.split('id="place-plan"', 1)[1].split("</table>", 1)[0]
    assert table.split("<tbody", 1)[1].count('<tr class="govuk-table__row">') == len(plan_rows) > 0
    assert f'href="/runs/{solved["run_id"]}/compare/{run_id}"' in page
    before, after = solved["summary"]["placed"], planned["summary"]["placed"]
    assert re.search(rf"Children placed</td>\s*<td[^>]*>{before}</td>\s*<td[^>]*>{after}</td>", page)
    placed_on_map = sum(s["placed"] for s in map_json(page, "plan-map")["schools"])
    assert (
        placed_on_map == after - sum(1 for s in planned["summary"]["opened_sites"] for _ in ())
        or placed_on_map <= after
    )

    run_id, page = finished_page(web, start(web, case_id, "whatif", scenario=SCENARIO))
    summary = web.client.get(f"/v1/runs/{run_id}", headers=web.auth("officer")).json()["summary"]
    moving = summary["children_moving"]
    assert f"{moving} {'child' if moving == 1 else 'children'} would move." in page
    base, scenario = summary["baseline"]["placed"], summary["scenario"]["placed"]
    assert re.search(rf"Children placed</td>\s*<td[^>]*>{base}</td>\s*<td[^>]*>{scenario}</td>", page)


def test_bad_forms_are_shown_with_every_problem_and_nothing_is_stored(web: Service) -> None:
    case_id = web.upload(role="estates", folder=LANCASHIRE)
    sign_in(web.client, web.keys["estates"])
    stored = runs_stored(web)
    refused = start(web, case_id, "plan-places", add="lots", expansions="")
    assert refused.status_code == 422 and "There is a problem" in refused.text
    assert 'href="#plan-places-add"' in refused.text and 'href="#plan-places-expansions"' in refused.text
    scenario = '[[add_places]]\nschool_id = "NO-SUCH-SCHOOL"\nneed = "ASD"\nplaces = 2\n'
    refused = start(web, case_id, "whatif", scenario=scenario)
    assert refused.status_code == 422 and 'href="#whatif-scenario"' in refused.text
    assert "scenario.toml, line 2" in refused.text and "NO-SUCH-SCHOOL" in refused.text
    assert "NO-SUCH-SCHOOL" in refused.text.split('id="whatif-scenario"', 1)[1]  # kept in the field
    refused = start(web, case_id, "sites", time_limit="-3")
    assert refused.status_code == 422 and 'href="#sites-time_limit"' in refused.text
    assert runs_stored(web) == stored


def test_other_roles_read_but_cannot_start_and_a_forged_post_is_refused(web: Service) -> None:
    case_id = web.upload(role="estates", folder=LANCASHIRE)
    stored = runs_stored(web)
    for role in ("officer", "panel"):
        web.client.cookies.clear()
        sign_in(web.client, web.keys[role])
        page = web.client.get(f"/cases/{case_id}/estates")
        assert page.status_code == 200 and "sites-map-data" in page.text
        assert '<form method="post" action="/cases/' not in page.text
        token = csrf(page.text)  # the sign-out form's token: valid, but the role may not start
        for kind in ("sites", "plan-places", "whatif"):
            forged = web.client.post(f"/cases/{case_id}/estates/{kind}", data={"csrf_token": token, "kind": kind})
            assert forged.status_code == 403, (role, kind)
    web.client.cookies.clear()
    sign_in(web.client, web.keys["estates"])
    assert web.client.post(f"/cases/{case_id}/estates/sites", data={"kind": "sites"}).status_code == 403
    assert runs_stored(web) == stored


def test_a_solve_run_has_no_estates_page(web: Service) -> None:
    case_id = web.upload(folder=LANCASHIRE)
    run = web.solve(case_id)
    sign_in(web.client, web.keys["officer"])
    response = web.client.get(f"/runs/{run['run_id']}/estates", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, f"/runs/{run['run_id']}")
    assert web.client.get("/runs/no-such-run/estates").status_code == 404
