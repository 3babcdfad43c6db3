"""Issue 11 figures: the web pages' server time to first byte, on loopback against a real
`allocator serve` (SQLite, default settings), signed in through the sign-in form.

1. Every page of the Lancashire round (600 children, 48 schools): sign-in, cases, the case,
   the run (unfiltered, filtered to children not at their first choice, sorted, page 2), a
   child, the audit trail, two runs compared, a download, the report, the estates pages and a
   sites run; each `--repeats` times after one
   warm-up request; p50/p95 per page. Target: p95 under 200 ms.
2. The children table of a 20,000-child run (bench/cases.py, 60 schools): the run page's first
   page, unfiltered and filtered, p50/p95 after one warm-up (the first, cold request is printed
   too: it loads the case into the page cache). Target: under 300 ms.
3. The knock-on preview of one decision on the Lancashire round, through the web form
   (POST .../preview, to the full page). Target: under 2 s.

Baselines measured in the same run: GET /v1/health (the service's floor on this machine) and the
/v1 JSON endpoint reading the same data (the allocation page of 50 rows), so a slow machine shows
in both. Time to first byte: from sending the request to the first body bytes (httpx stream).

Usage: python bench/bench_web.py [--repeats 20] [--big-children 20000]
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cases import write_case  # noqa: E402
from bench.hardening.live_server import LANCASHIRE, LiveServer, case_form  # noqa: E402

PAGE_TARGET = 0.200
TABLE_TARGET = 0.300
KNOCK_ON_TARGET = 2.0
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def first_byte(client: httpx.Client, method: str, url: str, **kwargs: object) -> float:
    started = time.perf_counter()
    with client.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
        chunks = response.iter_raw()
        next(chunks, b"")
        elapsed = time.perf_counter() - started
        assert response.status_code in (200, 303), (url, response.status_code)
        for _ in chunks:
            pass
    return elapsed


def timed(client: httpx.Client, url: str, repeats: int) -> list[float]:
    first_byte(client, "GET", url)  # warm-up
    return [first_byte(client, "GET", url) for _ in range(repeats)]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def signed_in(server: LiveServer, key: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=600, follow_redirects=True)
    page = client.get("/")
    token = TOKEN.search(page.text)
    assert token
    answer = client.post("/", data={"api_key": key, "csrf_token": token.group(1)})
    assert answer.status_code == 200 and "Cases" in answer.text
    return client


def solve(api: httpx.Client, case_id: str, kind: str = "solve") -> str:
    run_id: str = api.post(f"/v1/cases/{case_id}/runs", json={"kind": kind, "time_limit": 300}).json()["run_id"]
    while api.get(f"/v1/runs/{run_id}").json()["status"] in ("queued", "running"):
        time.sleep(0.1)
    return run_id


def report(label: str, values: list[float], target: float | None = None, floor: float | None = None) -> None:
    line = f"  {label:<46} p50 {statistics.median(values) * 1000:7.1f} ms  p95 {p95(values) * 1000:7.1f} ms"
    if floor:
        line += f"  p95/health {p95(values) / floor:6.1f}x"
    if target is not None:
        line += "  ok" if p95(values) < target else "  OVER TARGET"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--big-children", type=int, default=20_000)
    arguments = parser.parse_args()
    repeats = arguments.repeats
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        server = LiveServer(work)
        key = server.create_key("panel")
        estates_key = server.create_key("estates")
        server.start()
        try:
            api = server.client(key, timeout=900)
            web = signed_in(server, key)
            health = timed(api, "/v1/health", repeats)
            floor = p95(health)
            case_id = api.post("/v1/cases", files=case_form(LANCASHIRE)).json()["case_id"]
            first, second = solve(api, case_id), solve(api, case_id)
            with server.client(estates_key, timeout=900) as estates:
                sites = solve(estates, case_id, "sites")
            rows = api.get(f"/v1/runs/{first}/allocation", params={"limit": 1000}).json()["items"]
            child = next(row for row in rows if row["school_id"])["child_id"]
            pages = {
                "sign-in page /": "/",
                "/cases": "/cases",
                "/cases/{case}": f"/cases/{case_id}",
                "/cases/{case}?page=2": f"/cases/{case_id}?page=2",
                "/runs/{run}": f"/runs/{first}",
                "/runs/{run}?outcome=not_first_choice": f"/runs/{first}?outcome=not_first_choice",
                "/runs/{run}?sort=-travel&page=2": f"/runs/{first}?sort=-travel&page=2",
                "/runs/{run}/children/{child}": f"/runs/{first}/children/{child}",
                "/runs/{a}/compare/{b}": f"/runs/{first}/compare/{second}",
                "/cases/{case}/audit": f"/cases/{case_id}/audit",
                "/runs/{run}/files/allocation.csv": f"/runs/{first}/files/allocation.csv",
                "/runs/{run}/report": f"/runs/{first}/report",
                "/cases/{case}/estates": f"/cases/{case_id}/estates",
                "/runs/{sites run}/estates": f"/runs/{sites}/estates",
                "/runs/{sites run}": f"/runs/{sites}",
            }
            print(f"Lancashire round ({len(rows)} children), {repeats} requests per page after a warm-up:")
            report("baseline GET /v1/health", health)
            report(
                "baseline GET /v1/runs/{run}/allocation (50)",
                timed(api, f"/v1/runs/{first}/allocation?limit=50", repeats),
                floor=floor,
            )
            cold_compare = first_byte(web, "GET", pages["/runs/{a}/compare/{b}"])
            print(
                f"  first request to /runs/{{a}}/compare/{{b}} (cold: compares the runs) {cold_compare * 1000:.0f} ms"
            )
            worst = 0.0
            for label, url in pages.items():
                values = timed(web, url, repeats)
                worst = max(worst, p95(values))
                report(label, values, PAGE_TARGET, floor)
            verdict = "met" if worst < PAGE_TARGET else "NOT met"
            print(f"  every page p95 under {PAGE_TARGET * 1000:.0f} ms: {verdict} (worst {worst * 1000:.1f} ms)")

            page = web.get(f"/runs/{first}/children/{child}").text
            token = TOKEN.search(page)
            assert token
            options = re.findall(
                r'<option value="([^"]+)"', page.split('id="school_id"', 1)[1].split("</select>", 1)[0]
            )
            form = {"csrf_token": token.group(1), "decision": "override", "school_id": options[0], "reason": "bench"}
            previews = []
            for _ in range(max(3, repeats // 4)):
                started = time.perf_counter()
                answer = web.post(f"/runs/{first}/children/{child}/preview", data=form)
                previews.append(time.perf_counter() - started)
                assert answer.status_code == 200 and "Check the knock-on effect" in answer.text
            print(f"knock-on preview through the web form ({len(previews)} times, full page):")
            report("POST /runs/{run}/children/{child}/preview", previews, KNOCK_ON_TARGET)

            big = write_case(work / "big", arguments.big_children, 60, full_travel=False)
            started = time.perf_counter()
            big_case = api.post("/v1/cases", files=case_form(big)).json()["case_id"]
            big_run = solve(api, big_case)
            setup = time.perf_counter() - started
            cold = first_byte(web, "GET", f"/runs/{big_run}")
            print(
                f"{arguments.big_children:,}-child run (upload and solve {setup:.0f} s); "
                f"first request to its page {cold * 1000:.0f} ms (cold: loads the case)"
            )
            report(
                "baseline GET /v1/runs/{run}/allocation (50)",
                timed(api, f"/v1/runs/{big_run}/allocation?limit=50", repeats),
                floor=floor,
            )
            report("/runs/{run} first page", timed(web, f"/runs/{big_run}", repeats), TABLE_TARGET, floor)
            report(
                "/runs/{run}?outcome=unplaced",
                timed(web, f"/runs/{big_run}?outcome=unplaced", repeats),
                TABLE_TARGET,
                floor,
            )
            report(
                "/runs/{run}?sort=-travel&page=100",
                timed(web, f"/runs/{big_run}?sort=-travel&page=100", repeats),
                TABLE_TARGET,
                floor,
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
