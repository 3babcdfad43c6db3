"""Headless Chromium for the browser tests, driven by Playwright for Python.

The browser is Debian's Chromium (`tests/browser/install_chromium.sh`), launched through
Playwright's bundled driver with `executable_path`: no browser is downloaded
(PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD is set, and `playwright install` is never run). Without a
Chromium the tests skip.

`open_page_views` loads a local file once and, for each view (viewport width and height,
`screen` or `print` media), runs a script and takes a screenshot, recording console errors and
every request the page made.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, ConsoleMessage, sync_playwright

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--hide-scrollbars",
]


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_or_skip() -> str:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed: run tests/browser/install_chromium.sh (Debian package 'chromium')")
    return chromium


@contextmanager
def launched(chromium: str) -> Iterator[Browser]:
    """Headless Chromium, closed afterwards."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageVisit:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    evaluated: Any = None
    screenshot_png: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class View:
    """How the page is looked at: a viewport width and height in CSS pixels, and `screen` or `print` media."""

    width: int = 1280
    height: int = 1600
    media: Literal["screen", "print"] = "screen"


def open_page(chromium: str, page: Path, script: str, width: int = 1280, height: int = 1600) -> PageVisit:
    """Load `page` (a local file), run `script` (an expression) and take a screenshot."""
    return open_page_views(chromium, page, script, [View(width, height)])[0]


def open_page_views(chromium: str, page: Path, script: str, views: list[View]) -> list[PageVisit]:
    """Load `page` once; for each view, set its viewport and media, run `script`, screenshot."""
    visits = []
    with launched(chromium) as browser:
        tab = browser.new_page(viewport={"width": views[0].width, "height": views[0].height})
        errors: list[str] = []
        requests: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        tab.on("console", on_console)
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.on("request", lambda request: requests.append(request.url))
        tab.goto(page.absolute().as_uri(), wait_until="load")
        for view in views:
            tab.set_viewport_size({"width": view.width, "height": view.height})
            tab.emulate_media(media=view.media)
            evaluated = tab.evaluate(script)
            screenshot = tab.screenshot(full_page=False)
            visits.append(PageVisit(list(errors), list(requests), evaluated, screenshot))
    return visits
