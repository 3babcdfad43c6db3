"""The output files served over HTTP neutralise cells a spreadsheet would run, exactly as the
commands write them (tests/test_formula_injection.py); JSON answers keep the ids as given."""

from pathlib import Path
from urllib.parse import quote

from tests.api.conftest import Service
from tests.conftest import write_case
from tests.test_formula_injection import (
    CHILD_IDS,
    COMMAND_FILES,
    HOSTILE_CASE,
    PLAN_ADD,
    SCENARIO,
    check_neutralised,
    run_commands,
)


def test_files_served_over_http_are_the_commands_files(service: Service, tmp_path: Path) -> None:
    cli_outputs = run_commands(tmp_path / "cli")
    case_id = service.upload("estates", write_case(tmp_path / "case", dict(HOSTILE_CASE)))
    bodies: dict[str, dict[str, object]] = {
        "solve": {"kind": "solve"},
        "sites": {"kind": "sites"},
        "plan-places": {"kind": "plan-places", "add": PLAN_ADD, "expansions": HOSTILE_CASE["expansions.csv"]},
        "whatif": {"kind": "whatif", "scenario": SCENARIO},
    }
    for command, body in bodies.items():
        role = "panel" if command == "solve" else "estates"
        response = service.client.post(f"/v1/cases/{case_id}/runs", json=body, headers=service.auth(role))
        assert response.status_code == 202, response.text
        run = service.wait(response.json()["run_id"])
        assert run["status"] == "optimal", run["error"]
        for name in COMMAND_FILES[command]:
            served = service.client.get(f"/v1/runs/{run['run_id']}/files/{name}", headers=service.auth("officer"))
            assert served.status_code == 200, served.text
            content = served.json()["content"]
            check_neutralised(name, content)
            assert content == (cli_outputs[command] / name).read_text(encoding="utf-8"), (command, name)
        if command == "solve":  # JSON answers keep the ids as they are
            page = service.client.get(f"/v1/runs/{run['run_id']}/allocation", headers=service.auth("officer"))
            assert [item["child_id"] for item in page.json()["items"]] == list(CHILD_IDS)
            child = service.client.get(
                f"/v1/runs/{run['run_id']}/children/{quote('=K1', safe='')}", headers=service.auth("officer")
            )
            assert (child.status_code, child.json()["school_id"]) == (200, "=SUM(1)")
