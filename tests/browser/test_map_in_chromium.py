"""The pages' map (static/map.js on vendored Leaflet) in the Debian Chromium through Playwright:
with no tile URL configured it draws every school, site and approximate district outline on a
plain background and asks nothing of any other host; with one, it asks that host for tiles."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from api.web.map import map_data_for_run, tile_layer
from api.web.templating import STATIC, environment
from data.loader import load_case
from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
ORIGIN = "http://pages.test"
PAGE = """<!DOCTYPE html><html lang="en"><head><title>Map</title>
{% from "partials/map.html" import map_assets_head, map_assets_scripts, map_panel %}{{ map_assets_head() }}</head>
<body>{{ map_panel(map_data, "run-map", "Where children go") }}{{ map_assets_scripts() }}</body></html>"""

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="Chromium is not installed (tests/browser)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


def open_map(browser: Browser, data: dict[str, object]) -> tuple[Page, list[str]]:
    """The map page served from memory and static/; every other request is refused and listed."""
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    elsewhere: list[str] = []
    html = environment.from_string(PAGE).render(map_data=data)

    def serve(route: Route) -> None:
        url = route.request.url
        if url == ORIGIN + "/":
            route.fulfill(body=html, content_type="text/html")
        elif url.startswith(ORIGIN + "/static/") and (STATIC / url.removeprefix(ORIGIN + "/static/")).is_file():
            route.fulfill(path=STATIC / url.removeprefix(ORIGIN + "/static/"))
        else:
            elsewhere.append(url)
            route.abort()

    page.route("**/*", serve)
    page.goto(ORIGIN + "/")
    page.wait_for_selector("[data-map-drawn=true]", timeout=10_000)
    return page, elsewhere


def test_the_map_draws_everything_offline(browser: Browser) -> None:
    case = load_case(REPO / "data" / "lancashire" / "case").case
    data = map_data_for_run(case, {"LAN-SP-01": 3}, ["LAN-CAND-02"])
    page, elsewhere = open_map(browser, data)
    try:
        assert elsewhere == []
        assert page.locator(".app-map__canvas--plain").count() == 1
        assert page.locator(".leaflet-tile").count() == 0
        schools, sites = data["schools"], data["sites"]
        assert isinstance(schools, list) and isinstance(sites, list)
        assert page.locator(".leaflet-marker-icon.app-map__school").count() == len(schools)
        assert page.locator(".leaflet-marker-icon.app-map__site").count() == len(sites)
        titles = page.locator(".leaflet-marker-icon[title]").evaluate_all("els => els.map(e => e.title)")
        assert any(title.startswith(schools[0]["name"]) for title in titles)
        labels = page.locator(".app-map__district-label").all_inner_texts()
        assert len(labels) == 12 and all(label.split("\n")[-1] == "approximate" for label in labels)
        assert page.locator("table.app-map__table tbody tr").count() == len(schools) + len(sites)
    finally:
        page.close()


def test_a_configured_tile_url_is_asked_for_tiles(browser: Browser) -> None:
    case = load_case(REPO / "data" / "sample").case
    tiles = tile_layer("http://tiles.test/{z}/{x}/{y}.png", "tiles: test")
    page, elsewhere = open_map(browser, map_data_for_run(case, {}, [], tiles))
    try:
        page.wait_for_timeout(200)
        assert elsewhere and all(url.startswith("http://tiles.test/") for url in elsewhere)
        assert page.locator(".app-map__canvas--plain").count() == 0
        assert "tiles: test" in page.locator(".leaflet-control-attribution").inner_text()
    finally:
        page.close()
