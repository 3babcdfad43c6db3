"""The estates pages end to end in headless Chromium (Playwright) on a real `allocator serve`: an
estates officer uploads the Lancashire case, ranks the candidate sites (the page follows the run
until it ends, then shows the ranking and the map), and tries a what-if shown beside its
baseline; an officer sees the pages without their forms, and a forged POST is 403. Every page
passes axe-core and reflows at 320 px and 200 % zoom (`check_page`, tests/browser/test_web_app.py)."""

import pytest
from playwright.sync_api import Browser, expect

from bench.hardening.live_server import LANCASHIRE
from tests.browser.test_web_app import UPLOADS, Served, browser, check_page, served, sign_in

pytestmark = pytest.mark.slow
__all__ = ["browser", "served"]  # the fixtures, shared with the web app's tests

SCENARIO = '[[add_places]]\nschool_id = "LAN-SP-09"\nneed = "ASD"\nplaces = 4\n'


def test_an_estates_officer_ranks_the_sites_and_tries_a_what_if(browser: Browser, served: Served) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda r: None if r.url.startswith(served.server.url) else elsewhere.append(r.url))
    sign_in(page, served, "estates")
    for selector, name in UPLOADS.items():
        if (LANCASHIRE / name).is_file():
            page.set_input_files(selector, str(LANCASHIRE / name))
    page.click("button:has-text('Upload case')")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The case was uploaded and checked.")

    page.click("a:has-text('Estates: candidate sites')")
    expect(page.locator("h1")).to_have_text("Estates: sites and places")
    expect(page.locator("[data-map-drawn=true]")).to_have_count(1)
    check_page(page)
    estates_url = page.url

    page.click("button:has-text('Rank the sites')")
    expect(page.locator("h2", has_text="Candidate sites, best first")).to_be_visible(timeout=120_000)
    rows = page.locator("#site-ranking tbody tr")
    assert rows.count() == 4
    assert rows.locator("td:first-child").all_inner_texts() == ["1", "2", "3", "4"]
    best = rows.first.locator("td").nth(1).inner_text()
    expect(page.locator(".leaflet-marker-icon.app-map__site")).to_have_count(4)
    expect(page.locator(".leaflet-tooltip", has_text=f"1. {best}")).to_have_count(1)
    check_page(page)

    page.goto(estates_url)
    page.fill("#whatif-scenario", SCENARIO)
    page.click("button:has-text('Try the scenario')")
    expect(page.locator("h2", has_text="The scenario beside the baseline")).to_be_visible(timeout=120_000)
    expect(page.locator("#children-moving")).to_contain_text("would move")
    headers = page.locator("table").filter(has_text="With the scenario").locator("th").all_inner_texts()
    assert headers[:3] == ["Figure", "As it is", "With the scenario"]
    check_page(page)
    assert errors == [] and elsewhere == []  # no tile URL configured: nothing asked of another host
    context.close()


def test_an_officer_reads_the_estates_pages_but_cannot_start_a_run(browser: Browser, served: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, served, "officer")
    cases = page.locator("table a")
    if cases.count() == 0:
        pytest.skip("no case uploaded: the estates officer's test runs first")
    case_path = cases.first.get_attribute("href")
    page.goto(f"{served.server.url}{case_path}/estates")
    expect(page.locator("h1")).to_have_text("Estates: sites and places")
    assert page.locator("form[action*='/estates/']").count() == 0
    check_page(page)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = context.request.post(
        f"{served.server.url}{case_path}/estates/sites", form={"csrf_token": token or "", "kind": "sites"}
    )
    assert answer.status == 403
    context.close()
