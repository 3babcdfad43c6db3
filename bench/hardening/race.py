"""Issue 10, point 4: concurrent panel decisions for one remaining place, against a real
`allocator serve` on 127.0.0.1 (uvicorn, its thread pool, worker processes).

Each attempt uploads a fresh case (school S1 has 2 ASD places, S2 has a place for every child,
every child of need ASD and nearer S1), solves it, and accepts one of the two children the run
placed at S1, so that one place is left there. Then N threads, each on its own connection,
send one decision each at the same moment: `accept` for the other child the run placed at S1
and `override` to S1 for N-1 children it placed at S2. One may win; every other must be refused
with 409 `no_place_left` and leave nothing stored. Then the case is solved again.

Figures, over every attempt (targets in brackets):
- over-filled places: children locked at S1 (each child's latest decision) beyond its places [0]
- attempts in which not exactly one of the N decisions was recorded [0]
- refused decisions answered other than 409 `no_place_left` [0]
- decisions or `decision_recorded` audit entries stored beyond the decisions that won [0]
- later solves of the case that did not finish with an allocation [0]

Runs on SQLite (the default database) and on PostgreSQL (a fresh database on the loopback
cluster of tests/api/start_postgres.sh); `--databases sqlite` runs SQLite only.

Usage: python -m bench.hardening.race [--quick] [--attempts 20] [--concurrent 8] [--databases sqlite,postgresql]
"""

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import free_port, service_command  # noqa: E402

PLACES_AT_S1 = 2
TIMEOUT = 60.0


def race_case(children: int) -> dict[str, bytes]:
    """Case files (upload field -> bytes): S1 with 2 ASD places at 10 minutes from every child,
    S2 with a place for every child at 30 minutes. A solve fills S1 and puts the rest at S2."""
    kids = [f"K{number:02d}" for number in range(1, children + 1)]
    return {
        "schools": b"school_id,name,lat,lon,age_min,age_max\nS1,Near School,53.80,-2.40,4,11\n"
        b"S2,Far School,53.70,-2.60,4,11\n",
        "places": f"school_id,need,places\nS1,ASD,{PLACES_AT_S1}\nS2,ASD,{children}\n".encode(),
        "children": ("child_id,need,age,lat,lon\n" + "".join(f"{kid},ASD,7,53.80,-2.41\n" for kid in kids)).encode(),
        "travel_times": (
            "child_id,school_id,minutes\n" + "".join(f"{kid},S1,10\n{kid},S2,30\n" for kid in kids)
        ).encode(),
    }


def decisions_for_one_place(placed: dict[str, str | None], run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the decision that leaves one place at S1, the decisions that then race for it): accept
    the first child at S1; accept the second; override to S1 every child placed elsewhere."""
    at_s1 = sorted(child for child, school in placed.items() if school == "S1")
    elsewhere = sorted(child for child, school in placed.items() if school != "S1")
    assert len(at_s1) == PLACES_AT_S1, placed

    def body(child_id: str, decision: str) -> dict[str, Any]:
        return {"child_id": child_id, "school_id": "S1", "decision": decision, "reason": "race", "run_id": run_id}

    racing = [body(at_s1[1], "accept")] + [body(child, "override") for child in elsewhere]
    return body(at_s1[0], "accept"), racing


def locked_at(decisions: list[dict[str, Any]], school_id: str) -> int:
    """Children whose latest decision locks them at the school."""
    latest: dict[str, dict[str, Any]] = {}
    for decision in decisions:
        latest[decision["child_id"]] = decision
    return sum(1 for d in latest.values() if d["decision"] in ("accept", "override") and d["school_id"] == school_id)


@dataclass
class Tally:
    attempts: int = 0
    decisions_sent: int = 0
    over_filled: int = 0
    not_one_winner: int = 0
    wrong_refusals: int = 0
    stored_beyond_winners: int = 0
    failed_solves: int = 0
    refusal_codes: dict[str, int] = field(default_factory=dict)

    def missed(self) -> list[str]:
        checks = {
            "over-filled places": self.over_filled,
            "attempts without exactly one winner": self.not_one_winner,
            "refusals other than 409 no_place_left": self.wrong_refusals,
            "rows stored beyond the winners": self.stored_beyond_winners,
            "later solves that failed": self.failed_solves,
        }
        return [f"{name}: {count} (target 0)" for name, count in checks.items() if count]


class Api:
    """A tiny JSON client for one server (one connection per call: threads never share one)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            data = body if isinstance(body, bytes) else (None if body is None else json.dumps(body).encode())
            headers = {**self.headers, **({"Content-Type": content_type} if data is not None else {})}
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def upload(self, files: dict[str, bytes]) -> str:
        text = {name: content.decode() for name, content in files.items()}
        status, body = self.call("POST", "/v1/cases", {"files": text})
        assert status == 201, body
        return str(body["case_id"])

    def solve(self, case_id: str) -> dict[str, Any]:
        status, queued = self.call("POST", f"/v1/cases/{case_id}/runs", {"kind": "solve", "time_limit": 30})
        assert status == 202, queued
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            _, run = self.call("GET", f"/v1/runs/{queued['run_id']}")
            if run["status"] not in ("queued", "running"):
                return dict(run)
            time.sleep(0.05)
        raise TimeoutError(f"run {queued['run_id']} did not finish in {TIMEOUT} s")

    def placements(self, run_id: str) -> dict[str, str | None]:
        _, page = self.call("GET", f"/v1/runs/{run_id}/allocation?limit=1000")
        return {item["child_id"]: item["school_id"] for item in page["items"]}


def send_at_once(api: Api, case_id: str, bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """POST every decision from its own thread, released together by a barrier."""
    answers: list[tuple[int, Any]] = [(0, None)] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def one(index: int) -> None:
        barrier.wait()
        answers[index] = api.call("POST", f"/v1/cases/{case_id}/decisions", bodies[index])

    threads = [threading.Thread(target=one, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def one_attempt(api: Api, concurrent: int, tally: Tally) -> None:
    case_id = api.upload(race_case(concurrent + 1))
    run = api.solve(case_id)
    assert run["status"] == "optimal", run
    first, racing = decisions_for_one_place(api.placements(run["run_id"]), run["run_id"])
    status, answer = api.call("POST", f"/v1/cases/{case_id}/decisions", first)
    assert status == 201, answer
    answers = send_at_once(api, case_id, racing)
    won = [answer for status, answer in answers if status == 201]
    for status, answer in answers:
        if status != 201:
            code = answer.get("code", "?") if isinstance(answer, dict) else "?"
            tally.refusal_codes[f"{status} {code}"] = tally.refusal_codes.get(f"{status} {code}", 0) + 1
            tally.wrong_refusals += (status, code) != (409, "no_place_left")
    _, decisions = api.call("GET", f"/v1/cases/{case_id}/decisions")
    _, audit = api.call("GET", f"/v1/cases/{case_id}/audit")
    recorded = sum(1 for entry in audit if entry["action"] == "decision_recorded")
    tally.attempts += 1
    tally.decisions_sent += len(racing)
    tally.over_filled += max(0, locked_at(decisions, "S1") - PLACES_AT_S1)
    tally.not_one_winner += len(won) != 1
    tally.stored_beyond_winners += max(0, len(decisions) - 1 - len(won)) + max(0, recorded - 1 - len(won))
    later = api.solve(case_id)
    tally.failed_solves += later["status"] not in ("optimal", "feasible")


def stop(server: subprocess.Popen[bytes]) -> int:
    """SIGTERM the server and wait for it; then end whatever it started that is still running
    (its worker processes should end with it). How many were left."""
    try:
        children = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    server.terminate()
    server.wait(timeout=30)
    _, alive = psutil.wait_procs(children, timeout=5)
    for process in alive:
        with suppress(psutil.NoSuchProcess):
            process.kill()
    return len(alive)


@contextmanager
def served(work: Path, database_url: str | None) -> Iterator[Api]:
    """`allocator serve` on a free loopback port, with a panel key; stopped on leaving."""
    env = {**os.environ, "ALLOCATOR_DATA_DIR": str(work / "data"), "ALLOCATOR_WORKERS": "1"}
    if database_url:
        env["ALLOCATOR_DATABASE_URL"] = database_url
    token = subprocess.run(
        service_command("keys", "create", "--role", "panel"), env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    port = free_port()
    with (work / "server.log").open("a") as log:
        server = subprocess.Popen(service_command("serve", "--port", str(port)), env=env, stdout=log, stderr=log)
        try:
            api = Api(port, token)
            deadline = time.monotonic() + TIMEOUT
            while True:
                try:
                    if api.call("GET", "/v1/health")[0] == 200:
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError(f"the server did not start; see {work / 'server.log'}") from None
                    time.sleep(0.1)
            yield api
        finally:
            left = stop(server)
            if left:
                print(f"  (the server left {left} process(es) running after SIGTERM; ended them)")


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new database on the loopback cluster of tests/api/start_postgres.sh, dropped on leaving."""
    import psycopg

    started = subprocess.run(
        ["bash", str(ROOT / "tests" / "api" / "start_postgres.sh")], capture_output=True, text=True, timeout=300
    )
    if started.returncode != 0:
        raise RuntimeError(f"PostgreSQL could not be started: {started.stderr.strip()[-300:]}")
    base = started.stdout.strip().splitlines()[-1]
    name = f"race_{secrets.token_hex(6)}"
    admin = base.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_on(database: str, attempts: int, concurrent: int) -> Tally:
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="race-") as folder:
        work = Path(folder)
        if database == "sqlite":
            with served(work, None) as api:
                for _ in range(attempts):
                    one_attempt(api, concurrent, tally)
        else:
            with fresh_postgres() as url, served(work, url) as api:
                for _ in range(attempts):
                    one_attempt(api, concurrent, tally)
    return tally


def report(database: str, tally: Tally, seconds: float) -> None:
    codes = ", ".join(f"{code} x{count}" for code, count in sorted(tally.refusal_codes.items())) or "none"
    print(
        f"{database}: {tally.attempts} attempts of {tally.decisions_sent // max(1, tally.attempts)} "
        f"concurrent decisions for 1 remaining place ({seconds:.1f} s)"
    )
    print(f"  over-filled places {tally.over_filled} (target 0)")
    print(f"  attempts without exactly one winner {tally.not_one_winner} (target 0)")
    print(f"  refusals: {codes}; other than 409 no_place_left {tally.wrong_refusals} (target 0)")
    print(f"  rows stored beyond the winners {tally.stored_beyond_winners} (target 0)")
    print(f"  later solves that failed {tally.failed_solves} of {tally.attempts} (target 0)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 attempts of 6 decisions, SQLite only")
    parser.add_argument("--attempts", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    attempts, concurrent, databases = args.attempts, args.concurrent, args.databases.split(",")
    if args.quick:
        attempts, concurrent, databases = 5, 6, ["sqlite"]
    missed: list[str] = []
    for database in databases:
        started = time.perf_counter()
        tally = run_on(database, attempts, concurrent)
        report(database, tally, time.perf_counter() - started)
        missed += [f"{database}: {line}" for line in tally.missed()]
    for line in missed:
        print(f"MISSED: {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
