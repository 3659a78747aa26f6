"""A pool finance officer's quarter, and the board's sign-off, through a real browser.

The finance officer signs in, uploads the quarter's spend file for their pool, sees budget
against actual move by exactly what the file held, writes and submits the quarterly return;
the Health and Wellbeing Board's signatory signs it off; the timeline shows both steps. The
browser runs without JavaScript, as every page must work without it.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import CHROMIUM_ARGS, chromium, serving, sign_in
from playwright.sync_api import Page, expect, sync_playwright

from carepool.accounts import service as accounts
from carepool.demo import service as demo
from carepool.domain.money import parse_money
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger, settlement
from carepool.store.db import engine_for, unit_of_work
from carepool.web.app import create_app

pytestmark = pytest.mark.browser

YEAR = "2015-16"
SPEND_HEADER = ("date", "scheme", "provider", "amount", "reference")


def _spend_file(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SPEND_HEADER)
        writer.writerows(rows)
    return path


@dataclass(frozen=True, slots=True)
class Served:
    url: str
    area: str
    area_name: str
    scheme: str


@pytest.fixture(scope="module")
def served(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo with the finance officer's pool open, served by uvicorn in a background
    thread; the board's signatory ``hwb`` is added for the area. (The demo runs a year of
    every pool and settles it, so the year is reopened; if it did not, the pool is opened
    here and given half a year of spend.)"""
    folder = tmp_path_factory.mktemp("pool-browser")
    shutil.copyfile(demo_db_file, folder / "demo.db")
    engine = engine_for(f"sqlite:///{folder / 'demo.db'}")
    with unit_of_work(engine) as session:
        area = year_geography(session, YEAR).areas[0]
        pool = ledger.open_pool(session, YEAR, area.code, SYSTEM)
        scheme = ledger.plan_content(session, pool).schemes[0].ref
        if not repo.imports(session, pool.id):
            months = [f"2015-{m:02d}-15" for m in range(4, 10)]
            early = [(d, scheme, "Home care ltd", "10,000.00", f"H1-{d}") for d in months]
            ledger.import_spend(session, pool, _spend_file(folder / "h1.csv", early), SYSTEM)
        if ledger.live_settlement(session, pool, YEAR):  # settled years take no more spend
            settlement.reopen(session, pool, SYSTEM, "January and February invoices expected")
        accounts.create_user(
            session, "hwb", demo.DEMO_PASSWORD, [f"area_signatory:{area.code}:HWB"], SYSTEM,
            "Chair of the Health and Wellbeing Board",
        )  # fmt: skip
    with serving(create_app(engine, "browser-test-secret")) as url:
        yield Served(url, area.code, area.name, scheme)
    engine.dispose()


@pytest.fixture(scope="module")
def page(served: Served) -> Iterator[Page]:
    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=served.url, java_script_enabled=False)
        yield context.new_page()
        context.close()
        browser.close()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()


def _actual_to_date(page: Page, scheme: str) -> int:
    """The scheme's actual spend to date, to the penny, from the table beside the chart."""
    row = page.locator("#budget-chart-table tbody tr").filter(has_text=f"{scheme} ")
    cells = [text.strip() for text in row.locator("td").all_inner_texts()]
    return parse_money(cells[1])


def test_finance_uploads_spend_submits_the_return_and_the_board_signs_it_off(
    page: Page, served: Served, tmp_path: Path
) -> None:
    sign_in(page, "finance")
    page.goto(f"/pools/{YEAR}")
    page.get_by_role("link", name=served.area_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(served.area_name)
    chart = f"Budget against actual to the end of {YEAR} Q4, by scheme"
    expect(page.get_by_role("img", name=chart)).to_be_visible()
    before = _actual_to_date(page, served.scheme)

    page.get_by_role("link", name="Spend files").click()
    quarter = [
        ("2016-01-20", served.scheme, "Home care ltd", "12,500.00", "Q4-1"),
        ("2016-02-20", served.scheme, "Home care ltd", "12,500.50", "Q4-2"),
    ]
    page.get_by_label("Upload a spend file").set_input_files(
        str(_spend_file(tmp_path / "january-february.csv", quarter))
    )
    page.get_by_role("button", name="Upload and post").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "january-february.csv: 2 rows posted (£25,000.50)"
    )
    after = _actual_to_date(page, served.scheme)
    assert after - before == 2_500_050, "budget against actual moved by what the file held"

    page.locator("#returns-table").get_by_role("link", name=f"{YEAR} Q4").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Quarterly return {YEAR} Q4")
    expect(page.locator("#return-status")).to_have_text("Draft")
    page.get_by_label(f"What the board should know about {YEAR} Q4").fill(
        "Home care spend rose with winter demand; the partners have agreed the recovery plan."
    )
    page.get_by_role("button", name="Save the narrative").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("saved")
    page.get_by_role("button", name="Submit to the Health and Wellbeing Board").click()
    expect(page.locator("#return-status")).to_have_text("Submitted")
    expect(page.get_by_role("button", name="Save the narrative")).to_have_count(0)
    _sign_out(page)

    sign_in(page, "hwb")
    page.goto(f"/pools/{YEAR}")
    page.get_by_role("link", name=f"{served.area_name}: {YEAR} Q4").click()
    expect(page.locator("#narrative-shown")).to_contain_text("recovery plan")
    page.get_by_label("Comment").fill("Agreed at the board meeting")
    page.get_by_role("button", name="Sign off for the Health and Wellbeing Board").click()
    expect(page.locator("#return-status")).to_have_text("Signed off")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Signed off by the Health and Wellbeing Board")
    expect(timeline).to_contain_text("Submitted to the Health and Wellbeing Board")
    expect(timeline).to_contain_text("Agreed at the board meeting")
    titles = timeline.locator("h3").all_inner_texts()
    assert titles.index("Signed off by the Health and Wellbeing Board") < titles.index(
        "Submitted to the Health and Wellbeing Board"
    ), "newest first"
