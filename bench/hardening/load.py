"""Bounded load test (issue 10) on 127.0.0.1, against a real `allocator serve` with its own
temporary database and keys.

Phase 1, mixed load (`--seconds`, 60 by default, 10 with `--quick`), default queue bound:
`--clients` (20) concurrent keep-alive clients. `--panel` (4) of them are panel members: each
submits a solve (going round `--cases` (8) uploaded copies of the bundled data/sample case; every
`--lancashire-every`-th (4th) solve is of one of two copies of the Lancashire case), polls it
until it ends (run summary reads), reads a page of its allocation and submits again at once.
The others are officers reading at random, with a pause of 0 to 2 x `--think` (0.1 s) between
requests: /v1/health, run summaries, allocation pages (offset at random) and a case's audit log.
Every answer is checked: anything but a 2xx is an error, except a 429 (counted apart). Reads
"while solves run" are those whose midpoint falls while some run was running (the runs' own
started_at and finished_at).

Phase 2, queue full: the server restarted on the same data with one worker and
ALLOCATOR_MAX_QUEUED_RUNS=`--small-queue` (2); every client submits `--burst` (5) Lancashire
solves at once. Counted: 202s, 429s, 429s with a whole-number Retry-After and code
`queue_full`; the runs and `run_queued` audit entries stored must be exactly the accepted ones
(nothing stored for a 429); every accepted run must finish; then one client that waits as
Retry-After says until it is accepted.

Exit 1 when a target is missed: 0 errors; p95 of reads while solves run under 100 ms; solves
running at least half of phase 1; in phase 2 at least one 429, each with Retry-After and
`queue_full`, nothing stored for them, every accepted run finished.

Usage: python -m bench.hardening.load [--quick] [--seconds S] [--clients N]
"""

import argparse
import http.client
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from api.settings import Settings
from bench.hardening.live_server import LANCASHIRE, SAMPLE, LiveServer, case_form, wait_for_runs

READ_TARGET_P95 = 0.100
FINISHED = ("optimal", "feasible")


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None
    body: Any


@dataclass
class Tally:
    """Everything the clients saw, shared between their threads (append under the lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    rejected: int = 0  # 429s
    rejected_well: int = 0  # 429s with a whole-number Retry-After and code queue_full
    retry_after: list[int] = field(default_factory=list)
    reads: list[tuple[str, float, float]] = field(default_factory=list)  # (kind, wall start, seconds)
    accepted: list[str] = field(default_factory=list)  # run ids of 202s
    finished_runs: list[str] = field(default_factory=list)
    largest_audit: int = 0  # entries in the longest audit log read

    def note(self, kind: str, answer: Answer | None, started: float, seconds: float, read: bool) -> None:
        with self.lock:
            self.requests[kind] += 1
            if answer is None:
                self.errors.append(f"{kind}: no answer")
            elif answer.status == 429:
                self.rejected += 1
                code = answer.body.get("code") if isinstance(answer.body, dict) else None
                if answer.retry_after is not None and answer.retry_after.isdigit() and code == "queue_full":
                    self.rejected_well += 1
                    self.retry_after.append(int(answer.retry_after))
            elif not 200 <= answer.status < 300:
                self.errors.append(f"{kind}: {answer.status} {str(answer.body)[:120]}")
            elif read:
                self.reads.append((kind, started, seconds))
                if kind == "audit" and isinstance(answer.body, list):
                    self.largest_audit = max(self.largest_audit, len(answer.body))


class Client:
    """One keep-alive connection (stdlib http.client: light, so the figures are mostly the server's)."""

    def __init__(self, port: int, token: str, tally: Tally) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.tally = tally
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, kind: str, method: str, path: str, body: Any = None, read: bool = True) -> Answer | None:
        started_wall, started = time.time(), time.perf_counter()
        answer = None
        try:
            payload = None if body is None else json.dumps(body)
            self.connection.request(method, path, body=payload, headers=self.headers)
            response = self.connection.getresponse()
            content = response.read()
            answer = Answer(response.status, response.getheader("Retry-After"), json.loads(content or b"null"))
        except (OSError, http.client.HTTPException, json.JSONDecodeError):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.tally.note(kind, answer, started_wall, time.perf_counter() - started, read)
        return answer

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class Setup:
    cases: dict[str, str]  # name -> case_id
    runs: list[str]  # finished runs (with an allocation) to read


def panel_member(client: Client, setup: Setup, deadline: float, every: int, copies: int, seed: int) -> None:
    """Submit a solve, poll it to its end, read a page of its allocation; again until the deadline.
    Solves go round the copies of the sample case; every `every`-th is of a Lancashire copy."""
    rng = random.Random(seed)
    submitted = 0
    while time.monotonic() < deadline:
        submitted += 1
        name = f"lancashire-{seed % 2}" if submitted % every == 0 else f"sample-{(seed + submitted) % copies}"
        answer = client.call("solve", "POST", f"/v1/cases/{setup.cases[name]}/runs", {"kind": "solve"}, read=False)
        if answer is None or answer.status != 202:
            time.sleep(1.0 if answer is None or answer.retry_after is None else float(answer.retry_after))
            continue
        run_id = answer.body["run_id"]
        with client.tally.lock:
            client.tally.accepted.append(run_id)
        status = "queued"
        while status in ("queued", "running"):
            time.sleep(0.02)
            polled = client.call("run summary", "GET", f"/v1/runs/{run_id}")
            status = polled.body["status"] if polled is not None and polled.status == 200 else "lost"
        if status in FINISHED:
            client.call("allocation page", "GET", f"/v1/runs/{run_id}/allocation?limit=50")
            with client.tally.lock:
                client.tally.finished_runs.append(run_id)
        else:
            with client.tally.lock:
                client.tally.errors.append(f"run {run_id} ended {status}")
        time.sleep(rng.uniform(0, 0.05))


def officer(client: Client, setup: Setup, deadline: float, think: float, seed: int) -> None:
    """Read at random until the deadline: health, run summaries, allocation pages, audit logs."""
    rng = random.Random(seed)
    case_ids = list(setup.cases.values())
    while time.monotonic() < deadline:
        with client.tally.lock:
            known = setup.runs + client.tally.finished_runs[-50:]
        choice = rng.random()
        if choice < 0.2:
            client.call("health", "GET", "/v1/health")
        elif choice < 0.55:
            client.call("run summary", "GET", f"/v1/runs/{rng.choice(known)}")
        elif choice < 0.85:
            offset = rng.randrange(0, 600, 50)
            client.call("allocation page", "GET", f"/v1/runs/{rng.choice(known)}/allocation?offset={offset}&limit=50")
        else:
            client.call("audit", "GET", f"/v1/cases/{rng.choice(case_ids)}/audit")
        time.sleep(rng.uniform(0, 2 * think))


def running_intervals(server: LiveServer, token: str, run_ids: list[str]) -> list[tuple[float, float]]:
    """(started, finished) wall times of the runs, merged where they overlap."""
    spans = []
    with server.client(token) as client:
        for run_id in run_ids:
            run = client.get(f"/v1/runs/{run_id}").json()
            if run["started_at"] and run["finished_at"]:
                started = datetime.fromisoformat(run["started_at"]).timestamp()
                spans.append((started, datetime.fromisoformat(run["finished_at"]).timestamp()))
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def during(intervals: list[tuple[float, float]], moment: float) -> bool:
    return any(start <= moment <= end for start, end in intervals)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def prepare(server: LiveServer, panel: str, copies: int) -> Setup:
    """Upload `copies` copies of the sample case and two of the Lancashire case (the cases of a
    council's rounds); solve each once, so there is something to read from the first request."""
    uploads = [(f"sample-{n}", SAMPLE) for n in range(copies)] + [(f"lancashire-{n}", LANCASHIRE) for n in range(2)]
    with server.client(panel) as client:
        cases = {}
        for name, folder in uploads:
            answer = client.post("/v1/cases", files=case_form(folder))
            answer.raise_for_status()
            cases[name] = answer.json()["case_id"]
        run_ids = [
            client.post(f"/v1/cases/{case_id}/runs", json={"kind": "solve"}).json()["run_id"]
            for case_id in cases.values()
        ]
        ended = wait_for_runs(client, run_ids, timeout=300)
    if sorted(ended) != sorted(run_ids) or any(run["status"] not in FINISHED for run in ended.values()):
        raise RuntimeError(f"the set-up solves did not finish: {ended}")
    return Setup(cases, run_ids)


def mixed_load(server: LiveServer, panel: str, officer_key: str, args: argparse.Namespace) -> dict[str, Any]:
    setup = prepare(server, panel, args.cases)
    tally = Tally()
    deadline = time.monotonic() + args.seconds
    started = time.time()
    threads = []
    clients = []
    for number in range(args.clients):
        if number < args.panel:
            client = Client(server.port, panel, tally)
            target: Any = panel_member
            arguments: tuple[Any, ...] = (client, setup, deadline, args.lancashire_every, args.cases, number)
        else:
            client = Client(server.port, officer_key, tally)
            target, arguments = officer, (client, setup, deadline, args.think, number)
        clients.append(client)
        threads.append(threading.Thread(target=target, args=arguments, name=f"client-{number}"))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended = time.time()
    for client in clients:
        client.close()
    intervals = running_intervals(server, officer_key, tally.accepted)
    busy = sum(min(end, ended) - max(start, started) for start, end in intervals if end > started and start < ended)
    while_solving = [seconds for _, moment, seconds in tally.reads if during(intervals, moment + seconds / 2)]
    by_kind: dict[str, list[float]] = {}
    for kind, _, seconds in tally.reads:
        by_kind.setdefault(kind, []).append(seconds)
    return {
        "tally": tally,
        "seconds": ended - started,
        "busy_share": busy / (ended - started),
        "while_solving": while_solving,
        "by_kind": by_kind,
    }


def queue_full(server: LiveServer, panel: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every client submits `burst` Lancashire solves at once to a server with a small queue."""
    with server.client(panel) as client:
        case_id = client.post("/v1/cases", files=case_form(LANCASHIRE)).json()["case_id"]
    tally = Tally()
    barrier = threading.Barrier(args.clients)

    def burst(number: int) -> None:
        client = Client(server.port, panel, tally)
        barrier.wait()
        for _ in range(args.burst):
            answer = client.call("solve", "POST", f"/v1/cases/{case_id}/runs", {"kind": "solve"}, read=False)
            if answer is not None and answer.status == 202:
                with tally.lock:
                    tally.accepted.append(answer.body["run_id"])
        client.close()

    threads = [threading.Thread(target=burst, args=(number,)) for number in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with server.client(panel) as client:
        queued = [e for e in client.get(f"/v1/cases/{case_id}/audit").json() if e["action"] == "run_queued"]
        ended = wait_for_runs(client, tally.accepted, timeout=600)
        # One client that waits as Retry-After says: submit until accepted.
        waited = 0.0
        tries = 0
        retried = None
        fill = [client.post(f"/v1/cases/{case_id}/runs", json={"kind": "solve"}) for _ in range(args.small_queue + 2)]
        filled = [answer.json()["run_id"] for answer in fill if answer.status_code == 202]
        while retried is None and tries < 50:
            tries += 1
            answer = client.post(f"/v1/cases/{case_id}/runs", json={"kind": "solve"})
            if answer.status_code == 202:
                retried = answer.json()["run_id"]
            else:
                pause = float(answer.headers.get("Retry-After", "1"))
                waited += pause
                time.sleep(pause)
        wait_for_runs(client, [*filled, *([retried] if retried else [])], timeout=600)
    return {
        "tally": tally,
        "queued_entries": len(queued),
        "finished": sum(1 for run in ended.values() if run["status"] in FINISHED),
        "retry": (tries, waited, retried is not None),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s of mixed load (for make test)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the mixed load")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--panel", type=int, default=4, help="clients that submit solves")
    parser.add_argument("--cases", type=int, default=8, help="copies of the sample case the solves go round")
    parser.add_argument("--lancashire-every", type=int, default=4, help="every Nth solve is of the Lancashire case")
    parser.add_argument("--think", type=float, default=0.1, help="mean pause of a reading client between requests")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--small-queue", type=int, default=2, help="ALLOCATOR_MAX_QUEUED_RUNS in phase 2")
    parser.add_argument("--burst", type=int, default=5, help="solves each client submits at once in phase 2")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 10.0

    work = Path(tempfile.mkdtemp(prefix="allocator-load-"))
    server = LiveServer(work, ALLOCATOR_WORKERS=str(args.workers))
    try:
        panel, officer_key = server.create_key("panel"), server.create_key("officer")
        server.start()
        mixed = mixed_load(server, panel, officer_key, args)
        server.stop()
        server.start(ALLOCATOR_WORKERS="1", ALLOCATOR_MAX_QUEUED_RUNS=str(args.small_queue))
        full = queue_full(server, panel, args)
    finally:
        server.stop()

    failures = []
    tally: Tally = mixed["tally"]
    requests = sum(tally.requests.values())
    print(
        f"phase 1, mixed load: {args.clients} clients ({args.panel} submitting solves) for {mixed['seconds']:.1f} s,"
        f" {args.workers} workers, ALLOCATOR_MAX_QUEUED_RUNS {Settings.model_fields['max_queued_runs'].default}"
    )
    print(
        f"  requests {requests} ({requests / mixed['seconds']:.0f}/s): "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(tally.requests.items()))
    )
    print(f"  errors {len(tally.errors)} (non-2xx other than 429, or no answer); 429s {tally.rejected}")
    for error in tally.errors[:10]:
        print(f"    error: {error}")
    solves = len(tally.finished_runs)
    print(
        f"  solves finished {solves} ({solves / mixed['seconds']:.1f}/s); a solve was running "
        f"{mixed['busy_share']:.0%} of the time"
    )
    reads = [seconds for _, _, seconds in tally.reads]
    solving = mixed["while_solving"]
    print(
        f"  reads {len(reads)}: p50 {percentile(reads, 0.5) * 1000:.1f} ms, p95 {percentile(reads, 0.95) * 1000:.1f} ms"
    )
    print(
        f"  reads while solves run {len(solving)}: p50 {percentile(solving, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(solving, 0.95) * 1000:.1f} ms (target p95 < {READ_TARGET_P95 * 1000:.0f} ms)"
    )
    for kind, values in sorted(mixed["by_kind"].items()):
        print(
            f"    {kind}: {len(values)}, p50 {percentile(values, 0.5) * 1000:.1f} ms, "
            f"p95 {percentile(values, 0.95) * 1000:.1f} ms"
        )
    print(f"  (the longest audit log read held {tally.largest_audit} entries: GET /audit answers the whole log)")
    if tally.errors:
        failures.append(f"{len(tally.errors)} error(s) in the mixed load")
    if not solving or percentile(solving, 0.95) >= READ_TARGET_P95:
        failures.append(f"p95 of reads while solves run {percentile(solving, 0.95) * 1000:.1f} ms >= 100 ms")
    if mixed["busy_share"] < 0.5:
        failures.append(f"solves ran only {mixed['busy_share']:.0%} of the mixed load (needs >= 50%)")

    burst: Tally = full["tally"]
    attempts = burst.requests["solve"]
    accepted = len(burst.accepted)
    print(
        f"phase 2, queue full: 1 worker, ALLOCATOR_MAX_QUEUED_RUNS={args.small_queue}; {args.clients} clients "
        f"x {args.burst} Lancashire solves at once = {attempts}"
    )
    print(
        f"  202 {accepted}, 429 {burst.rejected} (with Retry-After and code queue_full: {burst.rejected_well}), "
        f"errors {len(burst.errors)}"
    )
    if burst.retry_after:
        print(f"  Retry-After given: {min(burst.retry_after)}-{max(burst.retry_after)} s")
    print(
        f"  stored: {full['queued_entries']} run_queued audit entries for {accepted} accepted runs; "
        f"{full['finished']} of them finished"
    )
    tries, waited, ok = full["retry"]
    print(
        f"  a client waiting as Retry-After says: {'accepted' if ok else 'not accepted'} after {tries} tries, "
        f"{waited:.0f} s of waiting"
    )
    if burst.rejected == 0:
        failures.append("no 429 with the queue full")
    if burst.rejected_well != burst.rejected:
        failures.append(f"{burst.rejected - burst.rejected_well} 429(s) without Retry-After or code queue_full")
    if burst.errors:
        failures.append(f"{len(burst.errors)} error(s) in the burst")
    if full["queued_entries"] != accepted:
        failures.append(f"{full['queued_entries']} runs stored for {accepted} accepted")
    if full["finished"] != accepted:
        failures.append(f"{accepted - full['finished']} accepted run(s) did not finish")
    if not ok:
        failures.append("a client waiting as Retry-After says was never accepted")
    for failure in failures:
        print(f"MISSED: {failure}")
    if failures:
        print(f"(the database and server logs are kept in {work})")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
