"""A quarter's payment for performance through a real browser, from draft to the public page.

The national administrator drafts 2015-16 Q1's run, the analyst checks it, the national
approver for health approves it and the administrator pays it into every pool; each sees
only the step that is theirs. The pool finance officer then finds the money in the pool's
books, and a member of the public reads why one area was paid what it was. The browser runs
without JavaScript, as every page must work without it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from browser_support import CHROMIUM_ARGS, chromium, serving, sign_in
from playwright.sync_api import Page, expect, sync_playwright

from carepool.accounts import service as accounts
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.metrics.service.results import save_results
from carepool.payments.service.ambitions import plan_ambition
from carepool.pools.service import ledger, settlement
from carepool.store.db import engine_for, unit_of_work
from carepool.web.app import create_app

pytestmark = pytest.mark.browser

YEAR = "2015-16"
QUARTER = f"{YEAR} Q1"


@dataclass(frozen=True, slots=True)
class Served:
    url: str
    area: str  # the finance officer's area, which achieved half its planned fall
    area_name: str


def _admissions(area: str, admissions: int) -> MetricValue:
    return MetricValue(
        metric="non_elective_admissions",
        definition_version=1,
        area_code=area,
        period=QUARTER,
        grain=Grain.QUARTER,
        numerator=admissions,
        denominator=250_000,
        value=Decimal(admissions),
    )


@pytest.fixture(scope="module")
def served(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo with every pooled area's Q1 admissions stored (on plan, except the finance
    officer's area, which achieved half its planned fall), served in a background thread."""
    folder = tmp_path_factory.mktemp("payments-browser")
    shutil.copyfile(demo_db_file, folder / "demo.db")
    engine = engine_for(f"sqlite:///{folder / 'demo.db'}")
    with unit_of_work(engine) as session:
        finance = accounts.find_user(session, "finance")
        assert finance is not None
        own = next(g.area_code for g in finance.grants if g.area_code)
        assert own is not None
        values = []
        for pool in ledger.pools(session, YEAR):
            ambition = plan_ambition(ledger.plan_content(session, pool))
            if ambition is not None:
                baselines, plans = ambition
                baseline = baselines[0]
                fall = (baseline - plans[0]) / 2 if pool.area_code == own else baseline - plans[0]
                values.append(_admissions(pool.area_code, int(baseline - fall)))
        save_results(session, values, SYSTEM, engine="reference", data_vintage="browser-extract")
        national = accounts.find_user(session, "national")
        assert national is not None
        for pool in ledger.pools(session, YEAR):  # a settled year takes no payments
            if ledger.live_settlement(session, pool, YEAR):
                settlement.reopen(session, pool, national, "to take Q1's payments", YEAR)
        name = year_geography(session, YEAR).area(own).name
    with serving(create_app(engine, "browser-test-secret")) as url:
        yield Served(url, own, name)
    engine.dispose()


@pytest.fixture(scope="module")
def page(served: Served) -> Iterator[Page]:
    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=served.url, java_script_enabled=False)
        context.set_default_timeout(60_000)  # paying posts into every pool: slow on a busy machine
        yield context.new_page()
        context.close()
        browser.close()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()


def _step(page: Page, username: str, button: str, done: str) -> None:
    """Sign in, open the payments from the menu, take the one step offered, sign out."""
    sign_in(page, username)
    page.get_by_role("link", name="Payments").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Payment for performance {YEAR}")
    quarter = page.locator("#quarter-Q1")
    buttons = quarter.locator("button.govuk-button")
    expect(buttons).to_have_count(1)  # only the step that is this person's
    buttons.get_by_text(button).click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(done)
    _sign_out(page)


def test_the_national_team_pays_a_quarter_and_it_reaches_the_pool_and_the_public(
    page: Page, served: Served
) -> None:
    _step(page, "national", f"Draft the {QUARTER} run", f"{QUARTER} v1 drafted")
    _step(page, "analyst", "Record that the run is checked", f"{QUARTER} v1 checked")
    _step(page, "health", "Approve the run for payment", f"{QUARTER} v1 approved for payment")

    sign_in(page, "national")
    page.goto(f"/payments/{YEAR}")
    expect(page.locator("#quarter-Q1 .govuk-warning-text")).to_contain_text("Paying posts")
    page.locator("#quarter-Q1").get_by_role("button", name="Pay the run into the pools").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"{QUARTER} v1 paid into"
    )
    expect(page.locator("#run-Q1")).to_contain_text("Paid")
    released = page.locator("#totals-released").inner_text()
    retained = page.locator("#totals-retained").inner_text()
    assert retained != "£0.00", "the finance officer's area did not earn all its pot"
    _sign_out(page)

    # The pool finance officer finds the money in the pool's books.
    sign_in(page, "finance")
    page.goto(f"/pools/{YEAR}/{served.area}")
    page.get_by_role("link", name="Payments for performance into this pool").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(served.area_name)
    expect(page.locator("#area-payments")).to_contain_text("Partly met")
    page.get_by_role("link", name=f"Why this amount? {QUARTER}").click()
    expect(page.locator("#reproduced")).to_contain_text(
        "Recomputed from the stored inputs: reproduces the posted pence"
    )
    entries = page.locator("#ledger-entries")
    expect(entries).to_contain_text("Assets:Pool:PerformanceHeld")
    expect(entries).to_contain_text("Income:PerformanceRetained:")
    entry_released = page.locator("#released").inner_text()
    entries.get_by_role("link").last.click()
    expect(page.locator("body")).to_contain_text("Performance payment for 2015-16 Q1: partly met")
    expect(page.get_by_role("link", name=re.compile("Why this amount"))).to_be_visible()
    _sign_out(page)

    # A member of the public reads why the area was paid what it was.
    page.get_by_role("link", name="Payments").first.click()
    expect(page.locator("#totals-released")).to_have_text(released)
    row = page.locator("#payments-table tbody tr").filter(has_text=served.area_name)
    row.get_by_role("link", name=re.compile("^Q1")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Why this amount?")
    expect(page.locator("#reproduced")).to_contain_text("reproduces the posted pence")
    expect(page.locator("#released")).to_have_text(entry_released)
    expect(page.locator("#working-text")).to_contain_text("earned = min(pot, max(0,")
    expect(page.locator("#ledger-entries")).to_have_count(0)
    expect(page.locator("#audit-events")).to_have_count(0)
