"""The child page: what each role sees, the decision form's errors, the knock-on preview (the
same as the service's), confirming records the decision, and comparing two runs."""

import html
import re

from sqlalchemy import func, select

from api.services.knock_on import PanelDecision, knock_on
from api.storage.tables import DecisionRecord
from tests.conftest import REPO
from tests.web.conftest import Service, csrf, sign_in

LANCASHIRE = REPO / "data" / "lancashire" / "case"


def _decisions(web: Service) -> int:
    with web.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(DecisionRecord)) or 0)


def _solved(web: Service) -> tuple[str, str, dict[str, object]]:
    case_id = web.upload()
    run_id = str(web.solve(case_id)["run_id"])
    rows = web.client.get(f"/v1/runs/{run_id}/allocation", params={"limit": 1000}, headers=web.auth("officer")).json()
    placed = next(row for row in rows["items"] if row["school_id"] is not None)
    return case_id, run_id, placed


def _override_choice(page: str) -> str:
    options = re.findall(r'<option value="([^"]+)"', page.split('id="school_id"', 1)[1].split("</select>", 1)[0])
    assert options, "no school offered for an override"
    return options[0]


def test_an_officer_sees_no_decision_form_and_a_forged_post_is_403(web: Service) -> None:
    html = sign_in(web.client, web.keys["officer"])
    _, run_id, placed = _solved(web)
    page = web.client.get(f"/runs/{run_id}/children/{placed['child_id']}")
    assert page.status_code == 200 and "Placed at" in page.text
    assert "Record the panel's decision" not in page.text and 'name="decision"' not in page.text
    data = {"csrf_token": csrf(html), "decision": "accept", "reason": "forged"}
    for step in ("preview", "decisions"):
        response = web.client.post(f"/runs/{run_id}/children/{placed['child_id']}/{step}", data=data)
        assert response.status_code == 403
    assert _decisions(web) == 0


def test_a_decision_without_a_csrf_token_is_403(web: Service) -> None:
    sign_in(web.client, web.keys["panel"])
    _, run_id, placed = _solved(web)
    data = {"decision": "accept", "reason": "agreed"}
    response = web.client.post(f"/runs/{run_id}/children/{placed['child_id']}/decisions", data=data)
    assert response.status_code == 403 and _decisions(web) == 0


def test_the_form_names_every_missing_field_and_stores_nothing(web: Service) -> None:
    html = sign_in(web.client, web.keys["panel"])
    _, run_id, placed = _solved(web)
    child = placed["child_id"]
    response = web.client.post(f"/runs/{run_id}/children/{child}/preview", data={"csrf_token": csrf(html)})
    assert response.status_code == 422
    assert 'href="#decision">Choose what the panel decided' in response.text
    assert 'href="#reason">Enter the panel&#39;s reason' in response.text
    data = {"csrf_token": csrf(html), "decision": "override", "school_id": "NOT-A-SCHOOL", "reason": "r"}
    response = web.client.post(f"/runs/{run_id}/children/{child}/decisions", data=data)
    assert response.status_code == 422 and 'href="#school_id">Choose one of the schools listed' in response.text
    assert _decisions(web) == 0


def test_an_override_is_previewed_as_the_service_previews_it_then_recorded(web: Service) -> None:
    html = sign_in(web.client, web.keys["panel"])
    case_id, run_id, placed = _solved(web)
    child = str(placed["child_id"])
    page = web.client.get(f"/runs/{run_id}/children/{child}").text
    school = _override_choice(page)
    data = {"csrf_token": csrf(html), "decision": "override", "school_id": school, "reason": "closer to home"}
    preview = web.client.post(f"/runs/{run_id}/children/{child}/preview", data=data)
    assert preview.status_code == 200 and "Check the knock-on effect" in preview.text
    assert _decisions(web) == 0
    expected = knock_on(web.database, run_id, child, PanelDecision("override", school, "closer to home"))
    moved = len(expected.diff.moves)
    summary = re.search(r'id="knock-on-summary">([^<]+)<', preview.text)
    assert summary and (f"move {moved} " in summary.group(1) if moved else "move no other child" in summary.group(1))
    for move in expected.diff.moves:
        assert f'<td class="govuk-table__cell">{move.child_id}</td>' in preview.text
    confirm = web.client.post(
        f"/runs/{run_id}/children/{child}/decisions", data={**data, "csrf_token": csrf(preview.text)}
    )
    assert confirm.status_code == 200 and "decision was recorded." in confirm.text
    decisions = web.client.get(f"/v1/cases/{case_id}/decisions", headers=web.auth("officer")).json()
    assert [(d["child_id"], d["school_id"], d["decision"]) for d in decisions] == [(child, school, "override")]
    second = str(web.solve(case_id)["run_id"])
    compared = web.client.get(f"/runs/{run_id}/compare/{second}")
    assert compared.status_code == 200 and "What changed between two runs" in compared.text
    assert f'href="/runs/{second}/children/{child}"' in compared.text  # the overridden child moved
    run_page = web.client.get(f"/runs/{second}").text
    assert f'href="/runs/{run_id}/compare/{second}"' in run_page


def test_accept_and_refuse_take_the_proposed_school(web: Service) -> None:
    html = sign_in(web.client, web.keys["panel"])
    case_id, run_id, placed = _solved(web)
    child = placed["child_id"]
    for decision in ("refuse", "accept"):
        data = {"csrf_token": csrf(html), "decision": decision, "reason": "panel view"}
        response = web.client.post(f"/runs/{run_id}/children/{child}/decisions", data=data)
        assert response.status_code == 200, response.text
    decisions = web.client.get(f"/v1/cases/{case_id}/decisions", headers=web.auth("officer")).json()
    assert [(d["decision"], d["school_id"]) for d in decisions] == [
        ("refuse", placed["school_id"]),
        ("accept", placed["school_id"]),
    ]


def test_the_child_page_shows_the_runs_explanation_and_what_would_change_it(web: Service) -> None:
    """The row of explanations.csv stored with the run: its plain sentence, and each counterfactual
    in words (the school by name, the minutes, the tier by the policy's name)."""
    sign_in(web.client, web.keys["officer"])
    case_id = web.upload(folder=LANCASHIRE)
    run_id = str(web.solve(case_id)["run_id"])
    rows = web.client.get(f"/v1/runs/{run_id}/explanations", params={"limit": 1000}, headers=web.auth("officer"))
    assert rows.status_code == 200, rows.text
    items = rows.json()["items"]
    names = {
        s["school_id"]: s["name"]
        for s in web.client.get(f"/v1/cases/{case_id}/schools", headers=web.auth("officer")).json()["items"]
    }
    with_place = next(row for row in items if row["add_place_school_id"])
    with_minutes = next(row for row in items if row["extra_minutes"])
    for row in (with_place, with_minutes):
        page = web.client.get(f"/runs/{run_id}/children/{row['child_id']}")
        assert page.status_code == 200
        assert html.escape(row["explanation"]).replace("&#x27;", "&#39;") in page.text
        assert "What would change the outcome" in page.text
    text = web.client.get(f"/runs/{run_id}/children/{with_place['child_id']}").text
    assert (
        html.escape(f"One more place at {names[with_place['add_place_school_id']]}").replace("&#x27;", "&#39;") in text
    )
    text = web.client.get(f"/runs/{run_id}/children/{with_minutes['child_id']}").text
    assert f"{with_minutes['extra_minutes']} more minutes of travel" in text
