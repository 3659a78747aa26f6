"""A member of the public, in a real browser with JavaScript off, with no account.

From the home page they find an area by part of its name, read its scorecard, follow it to
the area's approved plan, and download a table of the open data as CSV, in which that plan
is listed.

The app is served by uvicorn over a copy of the demo database and driven by headless
Chromium through Playwright, as in ``test_plan_journey``.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM_ARGS, chromium, serving
from playwright.sync_api import Page, expect, sync_playwright

from carepool.plans import service as plans
from carepool.store.db import engine_for, unit_of_work
from carepool.web.app import create_app

pytestmark = pytest.mark.browser

YEAR = "2015-16"
SECTIONS = [
    "Money",
    "Plan and assurance",
    "Results against England",
    "Spend by scheme",
    "Payment for performance",
]


@dataclass(frozen=True, slots=True)
class Public:
    base_url: str
    area: str
    area_name: str


def _approved_area(path: Path) -> tuple[str, str]:
    """An area of the demo whose plan for the year is approved: its code and name."""
    engine = engine_for(f"sqlite:///{path}")
    with unit_of_work(engine) as session:
        rows: list[dict[str, Any]] = plans.national_status(session, YEAR)["plans"]  # type: ignore[assignment]
        row = next(r for r in rows if r["status"] == "Approved")
    engine.dispose()
    return str(row["area_code"]), str(row["area_name"])


@pytest.fixture(scope="module")
def public(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Public]:
    path = tmp_path_factory.mktemp("public-journey") / "demo.db"
    shutil.copyfile(demo_db_file, path)
    area, name = _approved_area(path)
    engine = engine_for(f"sqlite:///{path}")
    with serving(create_app(engine, "browser-public-journey-secret")) as url:
        yield Public(url, area, name)
    engine.dispose()


@pytest.fixture(scope="module")
def page(public: Public) -> Iterator[Page]:
    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=public.base_url, java_script_enabled=False, accept_downloads=True
        )
        yield context.new_page()
        context.close()
        browser.close()


def find_the_area(page: Page, public: Public) -> None:
    """Search from the home page with part of the area's name, and pick it if need be."""
    page.goto("/")
    part = public.area_name.split()[0]
    page.get_by_label("Find your area's scorecard").fill(part)
    page.get_by_role("button", name="Find").click()
    if "/scorecard" not in page.url:  # more than one area matched: a list to choose from
        expect(page.locator("#results-heading")).to_contain_text(part)
        page.get_by_role("link", name=public.area_name, exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"/areas/{public.area}/scorecard(\?|$)"))
    # The search shows the latest year; the plan to read is an earlier year's.
    if not page.url.endswith(f"year={YEAR}"):
        page.get_by_role("link", name=YEAR, exact=True).click()
    expect(page).to_have_url(f"{public.base_url}/areas/{public.area}/scorecard?year={YEAR}")


def read_the_scorecard(page: Page, public: Public) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(public.area_name)
    headings = page.get_by_role("heading", level=2)
    for section in SECTIONS:
        expect(headings.filter(has_text=section).first).to_be_visible()
    plan = page.locator("#plan ~ .govuk-summary-list").first
    expect(plan).to_contain_text("Approved")


def read_the_plan(page: Page, public: Public) -> None:
    page.get_by_role("link", name=f"Read {public.area_name}'s plan").click()
    expect(page).to_have_url(f"{public.base_url}/plans/{YEAR}/{public.area}/read")
    expect(page.get_by_role("heading", level=1)).to_contain_text(public.area_name)
    for table in ("#read-contributions", "#read-schemes"):
        expect(page.locator(f"{table} tbody tr").first).to_be_visible()
    # Read-only: nothing on the page changes the plan.
    expect(page.locator("main form[method=post]")).to_have_count(0)


def download_approved_plans(page: Page, tmp_path: Path) -> list[dict[str, str]]:
    page.goto("/open-data")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    with page.expect_download() as info:
        page.locator("#tables a[href='/open-data/plans.csv']").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_the_public_find_an_area_read_its_scorecard_and_plan_and_download_a_csv(
    page: Page, public: Public, tmp_path: Path
) -> None:
    find_the_area(page, public)
    read_the_scorecard(page, public)
    read_the_plan(page, public)
    rows = download_approved_plans(page, tmp_path)
    assert rows, "the approved plans CSV has a header and no rows"
    assert {"year", "area_code"} <= set(rows[0]), f"unexpected header: {list(rows[0])}"
    listed = [r for r in rows if r["year"] == YEAR and r["area_code"] == public.area]
    assert listed, f"{public.area}'s approved plan is not in the CSV"
