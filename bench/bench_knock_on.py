"""Issue 11 figure: the knock-on preview of one panel decision on the bundled Lancashire round
(600 children, 48 schools), over HTTP on loopback against a real `allocator serve`.

Timed: POST /v1/runs/{run}/children/{child}/knock-on, request to full answer, for `--children`
placed children with an override into a full school in reach where there is one (else an
accept), each `--repeats` times. Baseline in the same run: a `solve` run of the same case over
HTTP (POST /runs until GET /runs/{id} reports the end, polled every 20 ms), the path a real
re-solve after recording the decision takes. Target: every preview under 2 s.

Usage: python bench/bench_knock_on.py [--children 10] [--repeats 3]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.services.knock_on import schools_in_reach  # noqa: E402
from bench.hardening.live_server import LANCASHIRE, LiveServer, case_form  # noqa: E402
from data.loader import load_case  # noqa: E402

TARGET_SECONDS = 2.0


def solve_over_http(client: httpx.Client, case_id: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    run_id = client.post(f"/v1/cases/{case_id}/runs", json={"kind": "solve"}).json()["run_id"]
    while True:
        run: dict[str, Any] = client.get(f"/v1/runs/{run_id}").json()
        if run["status"] not in ("queued", "running"):
            return run, time.perf_counter() - started
        time.sleep(0.02)


def decisions(client: httpx.Client, run_id: str, count: int) -> list[tuple[str, dict[str, str]]]:
    """(child_id, body) for the first `count` placed children: an override into a school in reach
    whose places of the child's need the run filled, else an accept."""
    rows = client.get(f"/v1/runs/{run_id}/allocation", params={"limit": 1000}).json()["items"]
    loaded = load_case(LANCASHIRE)
    places = {(offer.school_id, offer.need.value): offer.places for offer in loaded.case.places}
    used: dict[tuple[str, str], int] = {}
    for row in rows:
        if row["school_id"]:
            used[(row["school_id"], row["need"])] = used.get((row["school_id"], row["need"]), 0) + 1
    chosen: list[tuple[str, dict[str, str]]] = []
    for row in rows:
        if not row["school_id"] or len(chosen) >= count:
            continue
        full = [
            school
            for school in schools_in_reach(loaded, row["child_id"])
            if school != row["school_id"] and used.get((school, row["need"]), 0) >= places.get((school, row["need"]), 0)
        ]
        body = {"decision": "override", "school_id": full[0]} if full else {"decision": "accept"}
        chosen.append((row["child_id"], body))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        server = LiveServer(Path(work))
        server.start()
        try:
            with server.client(server.create_key("panel")) as client:
                case_id = client.post("/v1/cases", files=case_form(LANCASHIRE)).json()["case_id"]
                solve_over_http(client, case_id)  # warm the worker
                baseline_runs = [solve_over_http(client, case_id) for _ in range(arguments.repeats)]
                run = baseline_runs[0][0]
                chosen = decisions(client, run["run_id"], arguments.children)
                seconds, moves = [], []
                for child_id, body in chosen:
                    for _ in range(arguments.repeats):
                        started = time.perf_counter()
                        answer = client.post(f"/v1/runs/{run['run_id']}/children/{child_id}/knock-on", json=body)
                        seconds.append(time.perf_counter() - started)
                        assert answer.status_code == 200, answer.text
                    moves.append(len(answer.json()["moves"]))
        finally:
            server.stop()
    solve_median = statistics.median(s for _, s in baseline_runs)
    overrides = sum(1 for _, body in chosen if body["decision"] == "override")
    print(f"Lancashire round: {len(chosen)} decisions ({overrides} overrides), {arguments.repeats} repeats each")
    print(f"knock-on preview: median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s")
    print(f"  children moving per preview: {min(moves)} to {max(moves)}")
    print(f"baseline solve run over HTTP (same run): median {solve_median:.3f} s")
    print(f"ratio preview / solve run: {statistics.median(seconds) / solve_median:.2f}")
    verdict = "met" if max(seconds) < TARGET_SECONDS else "NOT met"
    print(f"target: every preview under {TARGET_SECONDS:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
