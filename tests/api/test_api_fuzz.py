"""Issue 5: whatever a caller sends, the service answers 4xx with a stable `code` and a
`message`, never 5xx, and stores nothing from a rejected request.

Two parts:
- a property-based sweep (schemathesis over the app's own OpenAPI schema, ASGI, no network):
  every operation, as an admin key and as a panel key, with generated path ids replaced by a
  real case / finished run / child about half of the time;
- direct requests that must be rejected, counting database rows before and after.

The app runs its lifespan under our TestClient (module scope); schemathesis talks to the same
app through a thin wrapper that answers the lifespan protocol itself, so the database and run
queue are started once, by us.
"""

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlalchemy import func, select

from api.access import Role
from api.app import create_app
from api.settings import Settings
from api.storage.keys import create_key
from api.storage.tables import ApiKey, AuditEntry, CaseFile, CaseRecord, DecisionRecord, RunRecord
from bench.hardening.schema_sweep import without_lifespan
from tests.api.conftest import Service

pytestmark = [
    pytest.mark.slow,
    # Starlette (1.10) leaves a temp file unclosed when a multipart body ends inside a file part
    # (no closing boundary): the part never ends, so neither its error path nor FormData.close()
    # sees the file. Harmless outside tests (the file is closed when collected); not ours to fix.
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <function SpooledTemporaryFile.__del__:pytest.PytestUnraisableExceptionWarning"
    ),
]


EXAMPLES_PER_OPERATION = 25


@dataclass
class Fuzzed:
    """The running service with one uploaded case, one finished run, and one child of it."""

    service: Service
    case_id: str
    run_id: str
    child_id: str


# The app is built at import so that schemathesis can read its schema when collecting tests
# (`schemathesis.pytest.from_fixture` relies on a pytest internal that pytest 9 removed).
# Nothing touches the disk until the `fuzzed` fixture starts the lifespan; it removes the folder.
DATA_DIR = Path(tempfile.gettempdir()) / f"allocator-fuzz-{uuid.uuid4().hex}"
APP = create_app(Settings(data_dir=DATA_DIR, executor="thread", workers=1, max_upload_bytes=200_000))
schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(APP))
REAL_IDS: dict[str, str] = {}


@schema.hook
def flatmap_path_parameters(
    _context: Any, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Half the time, ids that exist (the deeper code paths run only for real ids)."""
    if not path_parameters:
        return st.just(path_parameters)
    known = {**path_parameters, **{name: REAL_IDS[name] for name in path_parameters if name in REAL_IDS}}
    return st.sampled_from([path_parameters, known])


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Fuzzed]:
    try:
        with TestClient(APP) as client:
            keys = {}
            with APP.state.database.session() as session:
                for role in Role:
                    keys[role.value] = create_key(session, role, f"fuzz {role.value}")[1]
            service = Service(client, keys)
            case_id = service.upload()
            run = service.solve(case_id, time_limit=10)
            assert run["summary"] is not None, run["status"]
            page = client.get(f"/v1/runs/{run['run_id']}/allocation", headers=service.auth("officer")).json()
            child_id = page["items"][0]["child_id"]
            REAL_IDS.update(case_id=case_id, run_id=run["run_id"], child_id=child_id, name="summary.json")
            yield Fuzzed(service, case_id, run["run_id"], child_id)
    finally:
        REAL_IDS.clear()
        shutil.rmtree(DATA_DIR, ignore_errors=True)


def content_type(response: Any) -> str:
    """The Content-Type of an httpx response or of a schemathesis one (whose headers hold lists)."""
    value = response.headers.get("content-type", "")
    return str(value[0] if isinstance(value, list) else value)


def error_body_is_stable(response: Any) -> None:
    """A 4xx JSON answer carries a string `code` and a string `message`."""
    if 400 <= response.status_code < 500 and content_type(response).startswith("application/json"):
        body = response.json()
        assert isinstance(body, dict), body
        assert isinstance(body.get("code"), str) and body["code"], body
        assert isinstance(body.get("message"), str) and body["message"], body


def check_case(case: Case, fuzzed: Fuzzed, role: str) -> None:
    response = case.call(headers=fuzzed.service.auth(role))
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    error_body_is_stable(response)
    case.validate_response(response, checks=[not_a_server_error, content_type_conformance, response_schema_conformance])


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_server_error_as_admin(case: Case, fuzzed: Fuzzed) -> None:
    check_case(case, fuzzed, "admin")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_server_error_as_panel(case: Case, fuzzed: Fuzzed) -> None:
    check_case(case, fuzzed, "panel")


# --- rejected requests store nothing -------------------------------------------------------

TABLES = (CaseRecord, CaseFile, RunRecord, DecisionRecord, AuditEntry, ApiKey)


def row_counts(service: Service) -> dict[str, int]:
    with service.database.session() as session:
        return {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0) for table in TABLES
        }


def test_rejected_requests_store_nothing(fuzzed: Fuzzed) -> None:
    service, client = fuzzed.service, fuzzed.service.client
    panel, admin = service.auth("panel"), service.auth("admin")
    json_type = {"Content-Type": "application/json"}
    rejected: list[tuple[str, str, dict[str, Any]]] = [
        # malformed JSON
        ("POST", "/v1/cases", {"content": b'{"files": ', "headers": {**panel, **json_type}}),
        ("POST", f"/v1/cases/{fuzzed.case_id}/runs", {"content": b"{kind: solve}", "headers": {**panel, **json_type}}),
        ("POST", f"/v1/cases/{fuzzed.case_id}/decisions", {"content": b"[", "headers": {**panel, **json_type}}),
        ("POST", "/v1/keys", {"content": b"\xff\xfe", "headers": {**admin, **json_type}}),
        # wrong types
        ("POST", "/v1/cases", {"json": {"files": ["schools"]}, "headers": panel}),
        ("POST", "/v1/cases", {"json": {"files": {"schools": "x"}, "extra": 1}, "headers": panel}),
        ("POST", f"/v1/cases/{fuzzed.case_id}/runs", {"json": {"kind": 3}, "headers": panel}),
        (
            "POST",
            f"/v1/cases/{fuzzed.case_id}/runs",
            {"json": {"kind": "solve", "time_limit": "soon"}, "headers": panel},
        ),
        ("POST", f"/v1/cases/{fuzzed.case_id}/runs", {"json": {"kind": "solve", "time_limit": -1}, "headers": panel}),
        (
            "POST",
            f"/v1/cases/{fuzzed.case_id}/decisions",
            {
                "json": {"child_id": fuzzed.child_id, "school_id": 7, "decision": "maybe", "reason": ""},
                "headers": panel,
            },
        ),
        ("POST", "/v1/keys", {"json": {"role": "emperor"}, "headers": admin}),
        ("POST", "/v1/keys", {"json": {"role": "panel", "label": ["x"]}, "headers": admin}),
        ("GET", f"/v1/runs/{fuzzed.run_id}/allocation?limit=zero", {"headers": panel}),
        # an invalid case, and an oversized upload (the service caps bodies at 200 000 bytes)
        ("POST", "/v1/cases", {"json": {"files": {"schools": "not,a\ncase"}}, "headers": panel}),
        ("POST", "/v1/cases", {"files": {"schools": ("schools.csv", b"x" * 300_000, "text/csv")}, "headers": panel}),
        ("POST", "/v1/cases", {"json": {"files": {"schools": "y" * 300_000}}, "headers": panel}),
        # the same file twice (its temp files must be closed too: warnings are errors here)
        (
            "POST",
            "/v1/cases",
            {
                "files": [("schools", ("a.csv", b"a", "text/csv")), ("schools", ("b.csv", b"b", "text/csv"))],
                "headers": panel,
            },
        ),
        ("POST", "/v1/cases", {"content": b"not a form", "headers": {**panel, "Content-Type": "multipart/form-data"}}),
        ("POST", "/v1/cases", {"content": b"schools", "headers": {**panel, "Content-Type": "text/plain"}}),
        # unknown ids
        ("GET", "/v1/cases/no-such-case", {"headers": panel}),
        ("POST", "/v1/cases/no-such-case/runs", {"json": {"kind": "solve"}, "headers": panel}),
        (
            "POST",
            "/v1/cases/no-such-case/decisions",
            {"json": {"child_id": "C1", "school_id": "S1", "decision": "accept", "reason": "fits"}, "headers": panel},
        ),
        (
            "POST",
            f"/v1/cases/{fuzzed.case_id}/decisions",
            {
                "json": {
                    "child_id": "no-such-child",
                    "school_id": "no-such-school",
                    "decision": "accept",
                    "reason": "r",
                },
                "headers": panel,
            },
        ),
        ("GET", "/v1/runs/no-such-run", {"headers": panel}),
        ("DELETE", "/v1/runs/no-such-run", {"headers": panel}),
        ("GET", f"/v1/runs/{fuzzed.run_id}/children/no-such-child", {"headers": panel}),
        ("GET", f"/v1/runs/{fuzzed.run_id}/files/no-such-file", {"headers": panel}),
        ("DELETE", "/v1/keys/no-such-key", {"headers": admin}),
        # wrong role, no key
        ("POST", "/v1/keys", {"json": {"role": "admin"}, "headers": panel}),
        ("POST", "/v1/cases", {"json": {"files": {"schools": "x"}}}),
    ]
    before = row_counts(service)
    for method, url, options in rejected:
        response = client.request(method, url, **options)
        assert 400 <= response.status_code < 500, (method, url, response.status_code, response.text[:300])
        error_body_is_stable(response)
        assert content_type(response).startswith("application/json"), (method, url)
    assert row_counts(service) == before
