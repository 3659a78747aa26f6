"""A national administrator's journey through a real browser: sign in, read the allocation.

The app is served by uvicorn on a free local port in a background thread and driven by
headless Chromium through Playwright. The journey proves what the HTTP tests cannot: the
pages work in a browser as a person would use them, with the real cookie and form handling.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM_ARGS, chromium, serving
from playwright.sync_api import Page, expect, sync_playwright

from carepool.demo import service as demo
from carepool.domain.money import format_money
from carepool.frameworks import load_framework
from carepool.store.db import engine_for
from carepool.web.app import create_app

pytestmark = pytest.mark.browser

YEAR = "2015-16"


@pytest.fixture(scope="module")
def base_url(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo served by uvicorn in a background thread, stopped when the module ends."""
    path = tmp_path_factory.mktemp("browser") / "demo.db"
    shutil.copyfile(demo_db_file, path)
    engine = engine_for(f"sqlite:///{path}")
    with serving(create_app(engine, "browser-test-secret")) as url:
        yield url
    engine.dispose()


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Page]:
    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, java_script_enabled=False)
        yield context.new_page()
        context.close()
        browser.close()


def test_national_admin_reads_the_allocation_and_an_area(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign in").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    page.get_by_label("Username").fill("national")
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="National dashboard").first).to_be_visible()

    page.goto(f"/allocations/{YEAR}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Allocation for {YEAR}")
    framework_total = format_money(load_framework(YEAR).minimum_total)
    assert page.locator("#national-total").inner_text() == framework_total
    assert page.locator("#total-difference").inner_text() == "£0.00"
    expect(page.get_by_role("img", name=f"Allocation by region, {YEAR}")).to_be_visible()
    expect(page.locator("#regions-table caption")).to_have_text(f"Allocation by region, {YEAR}")

    first_area = page.locator("#area-table tbody a").first
    area_name = first_area.inner_text()
    first_area.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(area_name)
    assert page.locator("#area-total").inner_text().startswith("£")
    expect(page.get_by_role("img", name=f"Population of {area_name} by age band")).to_be_visible()


def test_the_pages_are_styled_with_govuk_frontend_when_it_is_installed(
    page: Page, base_url: str
) -> None:
    css = Path(__file__).parents[2] / "src/carepool/web/static/govuk/govuk-frontend.min.css"
    if not css.exists():
        pytest.skip("GOV.UK Frontend assets not copied (make assets); the pages work without")
    page.goto("/frameworks")
    font = page.locator("h1").evaluate("element => getComputedStyle(element).fontFamily")
    assert "GDS Transport" in font or "arial" in font.lower()
    header = page.locator(".govuk-header").evaluate(
        "element => getComputedStyle(element).backgroundColor"
    )
    assert header not in ("rgba(0, 0, 0, 0)", "transparent"), "the GOV.UK header is unstyled"
