"""Issue 5 figures, on loopback, against a real `allocator serve` (uvicorn, worker processes).

1. Reading a finished run's summary: p95 latency of GET /v1/runs/{run_id} with 20
   concurrent clients (2,000 requests in all). Target: p95 under 50 ms.
2. A 2,000-child solve (seeded case from bench/cases.py, 50 schools, full travel matrix)
   submitted over HTTP against the same solve on the CLI, in the same run.
   HTTP time = POST /runs until GET /runs/{id} reports the end (polled every 20 ms).
   CLI time = the whole `allocator solve` process. Target: HTTP within 1 s of the CLI.

Usage: python bench/bench_api.py [--requests 2000] [--clients 20] [--repeats 3]
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cases import write_case  # noqa: E402
from bench.hardening.live_server import case_form, free_port  # noqa: E402
from bench.measure import run_command  # noqa: E402

BIN = Path(sys.executable).parent
CLI = "import typer; from cli.service import register; app = typer.Typer(); register(app); app()"


def service_command(*args: str) -> list[str]:
    return [sys.executable, "-c", CLI, *args]


def wait_for_run(client: httpx.Client, run_id: str, poll: float = 0.02) -> dict[str, Any]:
    while True:
        run: dict[str, Any] = client.get(f"/v1/runs/{run_id}").json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(poll)


def read_summaries(port: int, token: str, run_id: str, requests: int, clients: int) -> list[float]:
    """Latencies (seconds) of `requests` GETs spread over `clients` concurrent keep-alive
    connections (one thread each, stdlib http.client: a light client, so that the figure is
    mostly the server's on a 2-core machine)."""
    latencies: list[float] = []
    per_client = requests // clients
    headers = {"Authorization": f"Bearer {token}"}
    start = threading.Barrier(clients)

    def one_client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        for _ in range(per_client):
            started = time.perf_counter()
            connection.request("GET", f"/v1/runs/{run_id}", headers=headers)
            response = connection.getresponse()
            body = response.read()
            latencies.append(time.perf_counter() - started)
            assert response.status == 200 and json.loads(body)["summary"]
        connection.close()

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    env = {**os.environ, "ALLOCATOR_DATA_DIR": str(work / "data"), "ALLOCATOR_WORKERS": "1"}
    token = subprocess.run(
        service_command("keys", "create", "--role", "panel"), env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    case = write_case(work / "case_2000x50", 2_000, 50, full_travel=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (work / "server.log").open("w")
    server = subprocess.Popen(service_command("serve", "--port", str(port)), env=env, stdout=log, stderr=log)
    failures: list[str] = []
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            for _ in range(300):
                try:
                    if client.get("/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            started = time.perf_counter()
            case_id = client.post("/v1/cases", files=case_form(case)).json()["case_id"]
            upload_seconds = time.perf_counter() - started
            http_times, cli_times = [], []
            run: dict[str, Any] = {}
            for _ in range(args.repeats):
                cli_times.append(
                    run_command([str(BIN / "allocator"), "solve", str(case), "--out", str(work / "out")]).seconds
                )
                started = time.perf_counter()
                run_id = client.post(f"/v1/cases/{case_id}/runs", json={"kind": "solve"}).json()["run_id"]
                run = wait_for_run(client, run_id)
                http_times.append(time.perf_counter() - started)
                if run["status"] != "optimal":
                    failures.append(f"HTTP solve ended {run['status']}: {run['error']}")
        latencies = read_summaries(port, token, run["run_id"], args.requests, args.clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    p50, p95, worst = (percentile(latencies, 0.5), percentile(latencies, 0.95), max(latencies))
    http, cli = statistics.median(http_times), statistics.median(cli_times)
    print(f"GET /v1/runs/{{run_id}}: {len(latencies)} requests, {args.clients} concurrent clients")
    print(f"  p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {worst * 1000:.1f} ms (target p95 < 50 ms)")
    print(f"2,000-child solve (median of {args.repeats}): upload {upload_seconds:.2f} s (once)")
    print(f"  HTTP submit->finished {http:.2f} s, CLI whole process {cli:.2f} s")
    print(f"  difference {http - cli:+.2f} s (target <= +1 s), ratio HTTP/CLI {http / cli:.2f}")
    if p95 >= 0.050:
        failures.append(f"p95 {p95 * 1000:.1f} ms >= 50 ms")
    if http - cli > 1.0:
        failures.append(f"HTTP solve {http - cli:.2f} s slower than the CLI")
    for failure in failures:
        print(f"MISSED: {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
