"""Crash test (issue 10): `kill -9` of a real `allocator serve` with runs running and queued.

Each round: submit more long solves (a seeded generated case) than there are workers, wait
until every worker is busy and runs are waiting, SIGKILL the server process alone, and then:
- orphans: the server's child processes (listed just before the kill) and any process whose
  environment names this server's data folder, still alive `--grace` seconds later;
- runs that moved after the kill (an orphan worker going on with a run shows here);
- restart on the same database and count cases, runs, decisions and audit rows at the kill and
  after the restart: a row present at the kill and missing after it is a lost record;
- every run left queued or running at the kill must be `failed` with a reason and have one
  `run_interrupted` audit entry;
- resubmit a run of the same case and options as an interrupted one: it must finish.

Before the first round a small case is solved and a panel decision recorded, so that decisions
are counted too. Exit 1 when any target is missed: 0 records lost, 0 orphans, every interrupted
run failed and audited, the resubmitted run finished.

Usage: python -m bench.hardening.crash [--quick] [--rounds N] [--workers N] [--children N]
"""

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.cases import write_case
from bench.hardening.live_server import SAMPLE, LiveServer, alive, case_form, processes_of, wait_for_runs

TABLES = {"cases": "case_id", "runs": "run_id", "decisions": "decision_id", "audit_log": "entry_id"}
UNFINISHED = ("queued", "running")


@dataclass
class Snapshot:
    """The database as committed: every table's ids, and each run's status and error."""

    ids: dict[str, set[Any]]
    runs: dict[str, tuple[str, str | None]]
    interrupted_audits: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, database: Path) -> "Snapshot":
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
            ids = {
                table: {row[0] for row in connection.execute(f"SELECT {key} FROM {table}")}
                for table, key in TABLES.items()
            }
            runs = {row[0]: (row[1], row[2]) for row in connection.execute("SELECT run_id, status, error FROM runs")}
            audits: dict[str, int] = {}
            for (details,) in connection.execute("SELECT details FROM audit_log WHERE action = 'run_interrupted'"):
                run_id = json.loads(details).get("run_id")
                audits[run_id] = audits.get(run_id, 0) + 1
        return cls(ids, runs, audits)

    def unfinished(self) -> dict[str, str]:
        return {run_id: status for run_id, (status, _) in self.runs.items() if status in UNFINISHED}


@dataclass
class Round:
    running: int = 0
    queued: int = 0
    children: int = 0
    children_ended: float | None = None
    orphans: list[str] = field(default_factory=list)
    moved_after_kill: int = 0
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    lost: int = 0
    changed: int = 0
    interrupted: int = 0
    failed_with_reason: int = 0
    audited: int = 0
    resubmitted: str = ""
    resubmit_seconds: float = 0.0


def busy(client: httpx.Client, run_ids: list[str], workers: int, timeout: float) -> tuple[int, int]:
    """Wait until every worker runs one of `run_ids` and some wait (or the time is up)."""
    deadline = time.monotonic() + timeout
    running = queued = 0
    while time.monotonic() < deadline:
        statuses = [client.get(f"/v1/runs/{run_id}").json()["status"] for run_id in run_ids]
        running, queued = statuses.count("running"), statuses.count("queued")
        if running >= workers and queued >= 1:
            break
        time.sleep(0.05)
    return running, queued


def one_round(server: LiveServer, panel: str, case_id: str, runs: int, workers: int, grace: float) -> Round:
    result = Round()
    options = {"kind": "solve", "time_limit": 120}
    with server.client(panel) as client:
        run_ids = []
        for _ in range(runs):
            answer = client.post(f"/v1/cases/{case_id}/runs", json=options)
            answer.raise_for_status()
            run_ids.append(answer.json()["run_id"])
        result.running, result.queued = busy(client, run_ids, workers, timeout=120)
    children = psutil.Process(server.pid).children(recursive=True)
    result.children = len(children)
    server.kill()
    killed = time.monotonic()
    at_kill = Snapshot.read(server.database)
    while any(alive(p) for p in children) and time.monotonic() - killed < grace:
        time.sleep(0.02)
    result.children_ended = time.monotonic() - killed if not any(alive(p) for p in children) else None
    time.sleep(max(0.0, grace - (time.monotonic() - killed)))
    survivors = {p.pid: p for p in children if alive(p)} | {p.pid: p for p in processes_of(server.data_dir)}
    result.orphans = [f"{p.pid} {' '.join(p.cmdline())[:80]}" for p in survivors.values() if alive(p)]
    for orphan in survivors.values():  # end them (started by this script) so the restart is clean
        if alive(orphan):
            orphan.kill()
    after_grace = Snapshot.read(server.database)
    result.moved_after_kill = sum(1 for run_id, state in at_kill.runs.items() if after_grace.runs[run_id] != state)

    server.start()
    after = Snapshot.read(server.database)
    result.counts = {table: (len(at_kill.ids[table]), len(after.ids[table])) for table in TABLES}
    result.lost = sum(len(at_kill.ids[table] - after.ids[table]) for table in TABLES)
    interrupted = after_grace.unfinished()
    result.changed = sum(
        1 for run_id, state in after_grace.runs.items() if run_id not in interrupted and after.runs.get(run_id) != state
    )
    result.interrupted = len(interrupted)
    result.failed_with_reason = sum(
        1 for run_id in interrupted if after.runs[run_id][0] == "failed" and after.runs[run_id][1]
    )
    result.audited = sum(1 for run_id in interrupted if after.interrupted_audits.get(run_id) == 1)

    if interrupted:
        with server.client(panel) as client:
            started = time.perf_counter()
            answer = client.post(f"/v1/cases/{case_id}/runs", json=options)
            answer.raise_for_status()
            run_id = answer.json()["run_id"]
            ended = wait_for_runs(client, [run_id], timeout=300).get(run_id, {"status": "still running"})
            result.resubmitted = ended["status"]
            result.resubmit_seconds = time.perf_counter() - started
    return result


def record_a_decision(server: LiveServer, panel: str) -> None:
    """Solve the sample case and accept one placement, so the decisions table has a row."""
    with server.client(panel) as client:
        case_id = client.post("/v1/cases", files=case_form(SAMPLE)).json()["case_id"]
        run_id = client.post(f"/v1/cases/{case_id}/runs", json={"kind": "solve"}).json()["run_id"]
        wait_for_runs(client, [run_id], timeout=120)
        rows = client.get(f"/v1/runs/{run_id}/allocation", params={"unplaced": "false", "limit": 1}).json()["items"]
        decision = {
            "child_id": rows[0]["child_id"],
            "school_id": rows[0]["school_id"],
            "decision": "accept",
            "reason": "crash test",
            "run_id": run_id,
        }
        client.post(f"/v1/cases/{case_id}/decisions", json=decision).raise_for_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round on a smaller case (for make test)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--children", type=int, default=20_000, help="children in the generated case")
    parser.add_argument("--grace", type=float, default=2.0, help="seconds after the kill before looking for orphans")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.workers, args.children = 1, 2, 10_000
    runs = args.workers + 3

    work = Path(tempfile.mkdtemp(prefix="allocator-crash-"))
    server = LiveServer(work, ALLOCATOR_WORKERS=str(args.workers))
    rounds: list[Round] = []
    try:
        panel = server.create_key("panel")
        big = write_case(work / "case", args.children, 100, full_travel=False)
        server.start()
        record_a_decision(server, panel)
        with server.client(panel) as client:
            case_id = client.post("/v1/cases", files=case_form(big)).json()["case_id"]
        for _ in range(args.rounds):
            rounds.append(one_round(server, panel, case_id, runs, args.workers, args.grace))
    finally:
        server.stop()

    print(f"crash test: {args.rounds} round(s), {args.workers} workers, {runs} solves of {args.children:,} children")
    failures = []
    for number, found in enumerate(rounds, 1):
        counts = ", ".join(f"{table} {before} -> {after}" for table, (before, after) in found.counts.items())
        print(
            f"round {number}: at the kill {found.running} running, {found.queued} queued; "
            f"{found.children} child processes of the server"
        )
        ended = "not all" if found.children_ended is None else f"{found.children_ended:.2f} s"
        print(f"  the server's children had all ended {ended} after the kill")
        print(
            f"  orphan processes {args.grace:.0f} s after the kill: {len(found.orphans)}; "
            f"runs that moved after the kill: {found.moved_after_kill}"
        )
        for orphan in found.orphans:
            print(f"    orphan: {orphan}")
        print(f"  at the kill -> after restart: {counts}")
        print(f"  records lost {found.lost}; runs not interrupted that changed {found.changed}")
        print(
            f"  interrupted runs {found.interrupted}: failed with a reason {found.failed_with_reason}, "
            f"audited run_interrupted {found.audited}"
        )
        print(f"  resubmitted run: {found.resubmitted or 'none'} in {found.resubmit_seconds:.1f} s")
        prefix = f"round {number}: "
        if found.running < 1 or found.queued < 1:
            failures.append(prefix + f"needs runs running and queued at the kill ({found.running}, {found.queued})")
        if found.orphans or found.moved_after_kill:
            failures.append(prefix + f"{len(found.orphans)} orphan(s), {found.moved_after_kill} run(s) moved")
        if found.lost or found.changed:
            failures.append(prefix + f"{found.lost} record(s) lost, {found.changed} run(s) changed")
        if not found.failed_with_reason == found.audited == found.interrupted:
            failures.append(prefix + "an interrupted run was not failed with a reason and audited once")
        if found.resubmitted not in ("optimal", "feasible"):
            failures.append(prefix + f"the resubmitted run ended {found.resubmitted or 'never'}")
    totals = (sum(len(r.orphans) for r in rounds), sum(r.lost for r in rounds), sum(r.interrupted for r in rounds))
    print(
        f"total: orphans {totals[0]} (target 0), records lost {totals[1]} (target 0), "
        f"interrupted runs {totals[2]}, all failed and audited: {'yes' if not failures else 'see below'}"
    )
    for failure in failures:
        print(f"MISSED: {failure}")
    if failures:
        print(f"(the databases and server logs are kept in {work})")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
