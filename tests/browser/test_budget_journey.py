"""A personal budget coordinator's work, through a real browser, into the pool's books.

The coordinator signs in, sets up a budget blended from NHS and council money (first with a
mistake, which the error summary names), uploads a file of its spend, and sees the spend
against the budget; the pool finance officer then finds the budget's allocation and spend in
the pool's ledger, and England's pooling page shows the area's share pooled. The browser
runs without JavaScript, as every page must work without it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import browser_page, serving, sign_in
from playwright.sync_api import Page, expect

from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.pooling import service as pooling
from carepool.pooling.routes import percent
from carepool.pools.service import ledger, settlement
from carepool.store.db import engine_for, unit_of_work
from carepool.web.app import create_app

pytestmark = pytest.mark.browser

YEAR = "2015-16"
REFERENCE = "PB-BROWSER-1"
SPEND = (
    "budget,date,kind,part,amount,reference\n"
    f"{REFERENCE},2016-02-05,direct_payment_return,nhs,1200.00,DP-FEB\n"
    f"{REFERENCE},2016-03-04,provider_invoice,council,300.25,INV-MAR\n"
)


@dataclass(frozen=True, slots=True)
class Served:
    url: str
    area: str
    area_name: str
    share: str  # the area's share pooled, as the national pooling page prints it


@pytest.fixture(scope="module")
def served(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo served by uvicorn, with the first area's settled year reopened so that a
    budget can start in its last quarter."""
    folder = tmp_path_factory.mktemp("budget-browser")
    shutil.copyfile(demo_db_file, folder / "demo.db")
    engine = engine_for(f"sqlite:///{folder / 'demo.db'}")
    with unit_of_work(engine) as session:
        area = year_geography(session, YEAR).areas[0]
        pool = next(p for p in ledger.pools(session, YEAR) if p.area_code == area.code)
        if ledger.live_settlement(session, pool, YEAR):
            settlement.reopen(session, pool, SYSTEM, "budgets starting in January", YEAR)
        share = percent(pooling.status(session, YEAR).area(area.code).figures.share_pooled)
    assert share.endswith("%")  # the demo's first area has a share to show
    with serving(create_app(engine, "browser-test-secret")) as url:
        yield Served(url, area.code, area.name, share)
    engine.dispose()


@pytest.fixture(scope="module")
def page(served: Served) -> Iterator[Page]:
    with browser_page(base_url=served.url, java_script_enabled=False) as opened:
        yield opened


def _date(page: Page, prefix: str, day: str, month: str, year: str) -> None:
    page.locator(f"#{prefix}-day").fill(day)
    page.locator(f"#{prefix}-month").fill(month)
    page.locator(f"#{prefix}-year").fill(year)


def _fill_budget(page: Page, council_cost: str) -> None:
    page.get_by_label("Budget reference").fill(REFERENCE)
    page.get_by_label("NHS number").fill("943 476 5919")
    page.get_by_label("Why the person has a budget").select_option("continuing_healthcare")
    _date(page, "starts", "1", "1", "2016")
    _date(page, "ends", "31", "3", "2016")
    _date(page, "review", "1", "3", "2016")
    page.locator("#nhs-amount").fill("6,000")
    page.locator("#nhs-holding").select_option("direct_payment")
    page.locator("#council-amount").fill("1,500.00")
    page.locator("#council-holding").select_option("council_managed")
    page.locator("#plan-1-description").fill("Personal assistant")
    page.locator("#plan-1-cost").fill("6,000")
    page.locator("#plan-2-description").fill("Carer breaks")
    page.locator("#plan-2-cost").fill(council_cost)
    page.get_by_role("button", name="Set up the budget").click()


def test_a_coordinator_sets_up_a_blended_budget_and_its_spend_reaches_the_pool(
    page: Page, served: Served, tmp_path: Path
) -> None:
    sign_in(page, "coordinator")
    page.goto(f"/budgets/{served.area}")
    expect(page.get_by_role("heading", level=1)).to_have_text(served.area_name)
    page.get_by_role("link", name="Set up a budget").first.click()

    _fill_budget(page, council_cost="1,400")  # the plan is £100 short of the budget
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("support plan")
    expect(page.locator("#nhs-number")).to_have_value("")  # never echoed back
    _fill_budget(page, council_cost="1,500")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Budget {REFERENCE}")
    expect(page.locator("#budget-total")).to_have_text("£7,500.00")
    expect(page.locator("#budget-spent")).to_have_text("£0.00")

    page.get_by_role("link", name="Transactions").first.click()
    spend = tmp_path / "february-march.csv"
    spend.write_text(SPEND, encoding="utf-8")
    page.get_by_label("Upload a transactions file").set_input_files(str(spend))
    page.get_by_role("button", name="Upload and post").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("2 transactions posted")

    page.goto(f"/budgets/{served.area}/people/{REFERENCE}")
    expect(page.locator("#budget-spent")).to_have_text("£1,500.25")
    expect(page.locator("#spend-table")).to_contain_text("Direct payment return")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "finance")
    ledger_text = _whole_ledger(page, f"/pools/{YEAR}/{served.area}/ledger")
    assert f"Personal budget {REFERENCE} set up" in ledger_text
    assert f"Personal budget {REFERENCE}: nhs spend" in ledger_text
    assert f"Personal budget {REFERENCE}: council spend" in ledger_text
    assert "943 476 5919" not in page.content()

    page.goto(f"/pooling?year={YEAR}")  # England's pooling page, as anyone sees it
    row = page.locator("#pooling-table tbody tr").filter(has_text=served.area_name)
    expect(row).to_contain_text(served.share)


def _whole_ledger(page: Page, path: str) -> str:
    """Every page of the pool's ledger as text (newest entries by date come first)."""
    texts, number = [], 1
    while True:
        page.goto(f"{path}?page={number}")
        texts.append(page.locator("#entries-table").inner_text())
        if page.locator("a[rel=next]").count() == 0:
            return "\n".join(texts)
        number += 1
