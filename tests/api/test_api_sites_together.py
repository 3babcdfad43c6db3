"""The `sites` run takes `together` over HTTP as `allocator sites --together` does: each size's
best set in the summary, and a bad size a 422 with a stable code."""

import pytest

from tests.api.conftest import Service


def test_sites_together_over_http(service: Service) -> None:
    case_id = service.upload("estates")
    url, headers = f"/v1/cases/{case_id}/runs", service.auth("estates")
    response = service.client.post(url, json={"kind": "sites", "together": [1, 2]}, headers=headers)
    assert response.status_code == 202, response.text
    run = service.wait(response.json()["run_id"])
    assert run["status"] == "optimal", run["error"]
    assert sorted(run["summary"]["joint_choices"]) == ["1", "2"]
    assert run["summary"]["joint_choices"]["1"] == run["summary"]["sites_ranked"][:1]


@pytest.mark.parametrize("together", [[0], [2, 2], [101], [1, 2, 3, 4, 5, 6], ["two"]])
def test_a_bad_together_is_a_422(service: Service, together: list[object]) -> None:
    case_id = service.upload("estates")
    url, headers = f"/v1/cases/{case_id}/runs", service.auth("estates")
    response = service.client.post(url, json={"kind": "sites", "together": together}, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "options_invalid"), response.text
