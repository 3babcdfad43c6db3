"""Two runs compared, and the knock-on preview of a panel decision, on real runs of the bundled
Lancashire round on both databases: the preview must be exactly what recording the decision and
solving again gives, and the comparison's moves must be the children whose school differs
between the two runs' allocation pages."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.services.case_files import load_files
from api.services.compare import EQUALLY_GOOD, figure_label
from api.services.knock_on import schools_in_reach
from api.settings import Settings
from api.storage.cases import case_files
from api.storage.tables import DecisionRecord, RunRecord
from tests.api.conftest import Service, start_service
from tests.conftest import REPO

LANCASHIRE = REPO / "data" / "lancashire" / "case"


@pytest.fixture
def lancashire(settings: Settings, database_url: str) -> Iterator[Service]:
    yield from start_service(settings.model_copy(update={"database_url": database_url}))


def allocation(service: Service, run_id: str) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = service.client.get(
            f"/v1/runs/{run_id}/allocation", params={"offset": offset, "limit": 1000}, headers=service.auth("officer")
        ).json()
        rows.update({row["child_id"]: row for row in page["items"]})
        offset += len(page["items"])
        if offset >= page["total"]:
            return rows


def compare(service: Service, run_a: str, run_b: str) -> Any:
    return service.client.get(f"/v1/runs/{run_a}/compare/{run_b}", headers=service.auth("officer"))


def preview(service: Service, run_id: str, child_id: str, role: str = "panel", **body: Any) -> Any:
    url = f"/v1/runs/{run_id}/children/{child_id}/knock-on"
    return service.client.post(url, json=body, headers=service.auth(role))


def decide(service: Service, case_id: str, run_id: str, child_id: str, school_id: str, decision: str) -> None:
    body = {"child_id": child_id, "school_id": school_id, "decision": decision, "reason": "panel", "run_id": run_id}
    made = service.client.post(f"/v1/cases/{case_id}/decisions", json=body, headers=service.auth("panel"))
    assert made.status_code == 201, made.text


def moved(first: dict[str, dict[str, Any]], second: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, Any]]:
    """child_id -> (school before, school after) of every child whose school differs."""
    return {
        child: (row["school_id"], second[child]["school_id"])
        for child, row in first.items()
        if row["school_id"] != second[child]["school_id"]
    }


def an_override_into_a_full_school(service: Service, case_id: str, run_id: str) -> tuple[str, str]:
    """A child placed in the run and a school they may attend, other than theirs, whose places of
    the child's need the run filled: an override there must move someone else."""
    rows = allocation(service, run_id)
    with service.database.session() as session:
        loaded = load_files(case_files(session, case_id))
    places = {(offer.school_id, offer.need.value): offer.places for offer in loaded.case.places}
    used: dict[tuple[str, str], int] = {}
    for row in rows.values():
        if row["school_id"] is not None:
            used[(row["school_id"], row["need"])] = used.get((row["school_id"], row["need"]), 0) + 1
    for child in loaded.case.children:
        row = rows[child.child_id]
        if row["school_id"] is None or row["locked"]:
            continue
        for school_id in schools_in_reach(loaded, child.child_id):
            key = (school_id, child.need.value)
            if school_id != row["school_id"] and used.get(key, 0) >= places.get(key, 0) > 0:
                return child.child_id, school_id
    raise AssertionError("the Lancashire round has no full school in reach of a placed child")


def test_knock_on_is_exactly_what_recording_the_decision_and_solving_again_gives(lancashire: Service) -> None:
    service = lancashire
    case_id = service.upload(folder=LANCASHIRE)
    first = service.solve(case_id)
    assert first["status"] == "optimal"
    child_id, school_id = an_override_into_a_full_school(service, case_id, first["run_id"])
    counted = (func.count(RunRecord.run_id), func.count(DecisionRecord.decision_id))
    with service.database.session() as session:
        stored_before = (session.scalar(select(counted[0])), session.scalar(select(counted[1])))

    answer = preview(service, first["run_id"], child_id, decision="override", school_id=school_id)
    assert answer.status_code == 200, answer.text
    predicted = answer.json()
    with service.database.session() as session:
        assert (session.scalar(select(counted[0])), session.scalar(select(counted[1]))) == stored_before

    decide(service, case_id, first["run_id"], child_id, school_id, "override")
    second = service.solve(case_id)
    real = moved(allocation(service, first["run_id"]), allocation(service, second["run_id"]))
    assert {m["child_id"]: (m["from_school_id"], m["to_school_id"]) for m in predicted["moves"]} == real
    assert real[child_id][1] == school_id and len(real) > 1  # the override moved someone else too
    compared = compare(service, first["run_id"], second["run_id"]).json()
    assert compared["moves"] == predicted["moves"] and compared["figures"] == predicted["figures"]
    assert compared["moves_by_priority"] == predicted["moves_by_priority"]

    reasons = {m["child_id"]: m["reason"] for m in predicted["moves"]}
    assert reasons[child_id].startswith("a panel decision placed them at ")
    # The school's full: a child whose place there went to the overridden child is told so.
    made_room = [m for m in predicted["moves"] if m["from_school_id"] == school_id]
    assert made_room and all(m["reason"].startswith("moved to make room at ") for m in made_room)
    by_tier: dict[str, int] = {}
    for move in predicted["moves"]:
        by_tier[str(move["priority"])] = by_tier.get(str(move["priority"]), 0) + 1
    assert {tier: n for tier, n in predicted["moves_by_priority"].items() if n} == by_tier
    figures = {f["figure"]: f for f in predicted["figures"]}
    for name in ("placed", "unplaced", "preference_cost", "travel_minutes"):
        assert (figures[name]["before"], figures[name]["after"]) == (first["summary"][name], second["summary"][name])
        assert figures[name]["change"] == second["summary"][name] - first["summary"][name]

    # Refusing the overridden school releases the lock, as recorded; the preview is the next run.
    refusal = preview(service, second["run_id"], child_id, decision="refuse", reason="family declined").json()
    decide(service, case_id, second["run_id"], child_id, school_id, "refuse")
    third = service.solve(case_id)
    real = moved(allocation(service, second["run_id"]), allocation(service, third["run_id"]))
    assert {m["child_id"]: (m["from_school_id"], m["to_school_id"]) for m in refusal["moves"]} == real
    assert compare(service, second["run_id"], third["run_id"]).json()["moves"] == refusal["moves"]
    reasons = {m["child_id"]: m["reason"] for m in refusal["moves"]}
    assert reasons[child_id].endswith("no longer applies")


def test_accepting_a_placement_moves_nobody_for_worse(service: Service) -> None:
    """An accept locks the child where an optimal run put them: the optimum stays, so no objective
    figure changes, and no move is blamed on a panel decision, a priority or a change of places."""
    case_id = service.upload(folder=LANCASHIRE)
    first = service.solve(case_id)
    rows = allocation(service, first["run_id"])
    for child_id in [c for c, row in rows.items() if row["school_id"] is not None][:3]:
        answer = preview(service, first["run_id"], child_id, decision="accept")
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert found["school_id"] == rows[child_id]["school_id"]
        # Children may swap between equally good allocations (one leaving a school frees its place).
        reasons = {move["reason"] for move in found["moves"]}
        assert all(reason == EQUALLY_GOOD or reason.startswith("a place came free at ") for reason in reasons), reasons
        changes = {f["figure"]: f["change"] for f in found["figures"]}
        assert changes["preference_cost"] == changes["travel_minutes"] == changes["placed"] == 0


def test_a_plan_places_run_compared_with_a_solve_names_the_places_added(service: Service) -> None:
    case_id = service.upload(folder=LANCASHIRE)
    first = service.solve(case_id)
    expansions = (LANCASHIRE / "expansions.csv").read_text()
    started = service.client.post(
        f"/v1/cases/{case_id}/runs",
        json={"kind": "plan-places", "add": 10, "expansions": expansions},
        headers=service.auth("estates"),
    )
    assert started.status_code == 202, started.text
    planned = service.wait(started.json()["run_id"])
    assert planned["status"] == "optimal", planned
    plan = service.client.get(f"/v1/runs/{planned['run_id']}/files/plan.csv", headers=service.auth("officer"))
    added = {tuple(line.split(",")[:2]) for line in plan.json()["content"].splitlines()[1:]}
    compared = compare(service, first["run_id"], planned["run_id"]).json()
    real = moved(allocation(service, first["run_id"]), allocation(service, planned["run_id"]))
    assert {m["child_id"]: (m["from_school_id"], m["to_school_id"]) for m in compared["moves"]} == real
    named = [m for m in compared["moves"] if m["reason"].startswith("a place for their need was added at ")]
    assert named and all((m["to_school_id"], m["need"]) in added for m in named)
    figures = {f["figure"]: f for f in compared["figures"]}
    assert figures["placed"]["change"] == planned["summary"]["placed"] - first["summary"]["placed"] > 0


def test_comparisons_and_previews_refuse_what_they_cannot_do(service: Service, tmp_path: Path) -> None:
    case_id = service.upload(folder=LANCASHIRE)
    other_case = service.upload()
    run = service.solve(case_id)["run_id"]
    other = service.solve(other_case)["run_id"]
    assert compare(service, run, other).json()["code"] == "runs_of_different_cases"
    assert compare(service, run, "nope").status_code == 404
    assert compare(service, run, run).json()["moves"] == []
    rows = allocation(service, run)
    placed = next(c for c, row in rows.items() if row["school_id"] is not None)
    unplaced = next(c for c, row in rows.items() if row["school_id"] is None)
    assert preview(service, run, placed, role="officer", decision="accept").status_code == 403
    assert preview(service, run, placed, role="estates", decision="accept").status_code == 403
    wrong = preview(service, run, placed, decision="override", school_id=rows[placed]["school_id"])
    assert (wrong.status_code, wrong.json()["code"]) == (409, "decision_does_not_match_run")
    assert preview(service, run, unplaced, decision="accept").json()["code"] == "decision_does_not_match_run"
    assert preview(service, run, placed, decision="override").json()["code"] == "school_missing"
    assert preview(service, run, "NO-SUCH-CHILD", decision="accept").status_code == 404
    unknown = preview(service, run, placed, decision="override", school_id="NO-SUCH-SCHOOL")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "school_unknown")
    with service.database.session() as session:
        loaded = load_files(case_files(session, case_id))
    child = next(c for c in loaded.case.children if c.child_id == placed)
    reach = schools_in_reach(loaded, placed)
    far = [
        offer.school_id
        for offer in loaded.case.places
        if offer.need == child.need
        and offer.places > 0
        and offer.school_id not in reach
        and next(s for s in loaded.case.schools if s.school_id == offer.school_id).takes_age(child.age)
    ]
    assert far, "every school with the child's need is in reach"
    refused = preview(service, run, placed, decision="override", school_id=far[0])
    assert (refused.status_code, refused.json()["code"]) == (422, "school_out_of_reach")
    assert "travel limit" in refused.json()["message"] and placed not in refused.json()["message"]


def test_figures_read_as_plain_english() -> None:
    for figure in ("placed_by_priority.0", "placed_by_priority.2", "districts.Burnley.placed_share", "placed"):
        label = figure_label(figure)
        assert "priority 0" not in label and "(s)" not in label and "_" not in label
    assert figure_label("placed_by_priority.2") == "children placed at urgency level 2 (higher is more urgent)"
    assert figure_label("districts.Burnley.mean_travel_minutes") == "Burnley: average travel time, in minutes"
