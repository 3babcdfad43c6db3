"""A minimal Chrome DevTools Protocol client over --remote-debugging-pipe (no extra packages).

Chromium reads commands from fd 3 and writes replies and events to fd 4, each message a JSON
object ending in a NUL byte. `open_page` starts headless Chromium, loads one file URL and
returns what the browser saw: console errors, the result of a script, and a PNG screenshot;
`open_page_views` does the same for several viewports and media (`screen`, `print`) in one visit.
Run as a script to save a screenshot: `python tests/browser/cdp.py REPORT.html OUT.png`.
"""

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageVisit:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    evaluated: Any = None
    screenshot_png: bytes = field(default=b"", repr=False)


class Pipe:
    """Send commands and read messages over the two pipes; events are kept for inspection."""

    def __init__(self, to_browser: int, from_browser: int) -> None:
        self._out = to_browser
        self._in = from_browser
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message


@dataclass(frozen=True)
class View:
    """How the page is looked at: a viewport width and height in CSS pixels, and `screen` or `print` media."""

    width: int = 1280
    height: int = 1600
    media: str = "screen"


def open_page(chromium: str, page: Path, script: str, width: int = 1280, height: int = 1600) -> PageVisit:
    """Load `page` in headless Chromium, run `script` (an expression; its value is returned by value)."""
    return open_page_views(chromium, page, script, [View(width, height)])[0]


def open_page_views(chromium: str, page: Path, script: str, views: list[View]) -> list[PageVisit]:
    """Load `page` once and, for each view in turn, emulate its viewport and media, run `script`
    and take a screenshot. Console errors and requests are those of the whole visit, in every result."""
    profile = tempfile.mkdtemp(prefix="report-browser-")
    commands_read, commands_write = os.pipe()
    replies_read, replies_write = os.pipe()

    def plumb() -> None:  # in the child: fd 3 reads our commands, fd 4 carries its replies
        commands = fcntl.fcntl(commands_read, fcntl.F_DUPFD, 10)
        replies = fcntl.fcntl(replies_write, fcntl.F_DUPFD, 10)
        os.dup2(commands, 3)
        os.dup2(replies, 4)

    process = subprocess.Popen(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={views[0].width},{views[0].height}",
            "about:blank",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(3, 4),
        preexec_fn=plumb,  # noqa: PLW1509 - single-threaded test process
    )
    os.close(commands_read)
    os.close(replies_write)
    visits = [PageVisit() for _ in views]
    try:
        pipe = Pipe(commands_write, replies_read)
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            pipe.call(f"{domain}.enable", session=session)
        for index, (view, visit) in enumerate(zip(views, visits, strict=True)):
            pipe.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": view.width, "height": view.height, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            pipe.call("Emulation.setEmulatedMedia", {"media": view.media}, session=session)
            if index == 0:
                pipe.call("Page.navigate", {"url": page.absolute().as_uri()}, session=session)
                pipe.wait_for("Page.loadEventFired")
            result = pipe.call("Runtime.evaluate", {"expression": script, "returnByValue": True}, session=session)
            visit.evaluated = result.get("result", {}).get("value")
            shot = pipe.call("Page.captureScreenshot", {"format": "png"}, session=session)
            visit.screenshot_png = base64.b64decode(shot["data"])
        errors = _errors(pipe.events)
        requests = [
            e["params"]["request"]["url"] for e in pipe.events if e.get("method") == "Network.requestWillBeSent"
        ]
        for visit in visits:
            visit.console_errors, visit.requests = list(errors), list(requests)
        with contextlib.suppress(RuntimeError, TimeoutError):
            pipe.call("Browser.close", timeout=5)
    finally:
        os.close(commands_write)
        os.close(replies_read)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return visits


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(json.dumps(params.get("args")))
        elif method == "Runtime.exceptionThrown":
            found.append(json.dumps(params.get("exceptionDetails")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append(params["entry"].get("text", ""))
        elif method == "Network.loadingFailed":
            found.append(f"loading failed: {params.get('errorText')}")
    return found


if __name__ == "__main__":
    browser = find_chromium()
    if browser is None:
        sys.exit("chromium not found")
    shot_height = int(sys.argv[3]) if len(sys.argv) > 3 else 1600
    seen = open_page(browser, Path(sys.argv[1]), "document.title", height=shot_height)
    Path(sys.argv[2]).write_bytes(seen.screenshot_png)
    print(f"{seen.evaluated!r}: {len(seen.console_errors)} console errors; screenshot {sys.argv[2]}")
