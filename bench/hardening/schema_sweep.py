"""Issue 10, point 9: schemathesis over every operation of the service, with a key of each role.

The approach of tests/api/test_api_fuzz.py: the app's own OpenAPI schema, requests through ASGI
(no network), the app's lifespan run by a TestClient, and one case, one finished run and one of
its children uploaded first, so that about half of the generated requests name ids that exist
(the deeper code paths run only for real ids). For each role (admin, panel, estates, officer) and
each operation: schemathesis' positive and negative examples (valid and invalid requests), each
sent with that role's key.

Figures per role (targets in brackets): operations, requests, server errors (5xx) [0], schema
violations (a response whose body or content type the schema does not allow) [0], and, for
information, answers whose status the schema does not list.

Usage: python -m bench.hardening.schema_sweep [--quick] [--examples N]   (--quick: 6 per operation)
"""

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

import schemathesis  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import Case, GenerationMode  # noqa: E402
from schemathesis.core.failures import Failure, FailureGroup  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.access import Role  # noqa: E402
from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.storage.keys import create_key  # noqa: E402
from bench.hardening.live_server import FIELDS  # noqa: E402

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

SAMPLE = ROOT / "data" / "sample"
SCHEMA_CHECKS = (content_type_conformance, response_schema_conformance)


def without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app, with lifespan messages acknowledged here (our TestClient runs the real one)."""

    async def bare(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await app(scope, receive, send)

    return bare


@dataclass
class Tally:
    operations: int = 0
    requests: int = 0
    server_errors: int = 0
    violations: int = 0
    undocumented: int = 0
    examples: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def note(self, line: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(line)


def passes(case: Case, response: Any, check: Any) -> bool:
    try:
        case.validate_response(response, checks=[check])
    except (Failure, FailureGroup):
        return False
    return True


def sweep_role(schema: Any, role: str, token: str, real_ids: dict[str, str], examples: int) -> Tally:
    tally = Tally()
    auth = {"Authorization": f"Bearer {token}"}
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        names = [p.name for p in operation.path_parameters]
        known = {name: real_ids[name] for name in names if name in real_ids}
        strategies = [
            operation.as_strategy(generation_mode=mode, headers=auth, **({"path_parameters": ids} if ids else {}))
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for ids in ([{}, known] if known else [{}])
        ]

        @settings(
            max_examples=examples,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def one(case: Case) -> None:
            tally.requests += 1
            try:
                response = case.call(headers=auth)
            except Exception as error:  # noqa: BLE001 - the app raised: a server error, counted
                tally.server_errors += 1
                tally.note(f"server error: {case.method} {case.formatted_path} raised {type(error).__name__}")
                return
            tally.statuses[response.status_code] += 1
            where = f"{case.method} {case.formatted_path} -> {response.status_code}"
            if response.status_code >= 500:
                tally.server_errors += 1
                tally.note(f"server error: {where}")
            elif not all(passes(case, response, check) for check in SCHEMA_CHECKS):
                tally.violations += 1
                tally.note(f"schema violation: {where}")
            if not passes(case, response, status_code_conformance):
                tally.undocumented += 1

        one()
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 examples per operation and role")
    parser.add_argument("--examples", type=int, default=100, help="examples per operation and role")
    args = parser.parse_args(argv)
    examples = 6 if args.quick else args.examples
    data = Path(tempfile.mkdtemp(prefix="schema-sweep-"))
    app = create_app(Settings(data_dir=data, executor="thread", workers=1, max_upload_bytes=200_000))
    schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(app))
    missed: list[str] = []
    try:
        with TestClient(app) as client:
            with app.state.database.session() as session:
                keys = {role.value: create_key(session, role, f"sweep {role.value}")[1] for role in Role}
            real_ids = prepare(client, keys["panel"])
            for role in ("admin", "panel", "estates", "officer"):
                started = time.perf_counter()
                tally = sweep_role(schema, role, keys[role], real_ids, examples)
                statuses = ", ".join(f"{status} x{count}" for status, count in sorted(tally.statuses.items()))
                print(
                    f"{role}: {tally.operations} operations, {tally.requests} requests, "
                    f"server errors {tally.server_errors} (target 0), schema violations {tally.violations} "
                    f"(target 0), undocumented statuses {tally.undocumented} ({time.perf_counter() - started:.0f} s)"
                )
                print(f"  statuses: {statuses}")
                for line in tally.examples:
                    print(f"  {line}")
                if tally.server_errors or tally.violations:
                    missed.append(f"{role}: {tally.server_errors} server errors, {tally.violations} schema violations")
    finally:
        shutil.rmtree(data, ignore_errors=True)
    for line in missed:
        print(f"MISSED: {line}")
    return 1 if missed else 0


def prepare(client: TestClient, panel_token: str) -> dict[str, str]:
    """Upload the sample case, solve it, and name it, the run, one child and a file of the run."""
    auth = {"Authorization": f"Bearer {panel_token}"}
    form = {}
    for name in FIELDS:
        for path in (SAMPLE / f"{name}.csv", SAMPLE / f"{name}.toml"):
            if path.is_file():
                form[name] = (path.name, path.read_bytes(), "text/plain")
    case_id = client.post("/v1/cases", files=form, headers=auth).json()["case_id"]
    run_id = client.post(f"/v1/cases/{case_id}/runs", json={"kind": "solve", "time_limit": 10}, headers=auth).json()[
        "run_id"
    ]
    deadline = time.monotonic() + 60
    while client.get(f"/v1/runs/{run_id}", headers=auth).json()["status"] in ("queued", "running"):
        if time.monotonic() > deadline:
            raise TimeoutError("the sample case did not solve in 60 s")
        time.sleep(0.05)
    child_id = client.get(f"/v1/runs/{run_id}/allocation", headers=auth).json()["items"][0]["child_id"]
    return {"case_id": case_id, "run_id": run_id, "child_id": child_id, "name": "summary.json"}


if __name__ == "__main__":
    sys.exit(main())
