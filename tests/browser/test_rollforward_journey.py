"""Rolling plans forward in a real browser with JavaScript off, from 2015-16 to 2016-17 and
from 2017-19 to 2019-20.

An area editor opens next year's plan, which is not started, presses "Start from the approved
plan", reads what must change, and finds the plan's sections with the draft made from last
year's plan. The public then reads England's and the area's years side by side.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import browser_page, serving
from playwright.sync_api import Page, expect

from carepool.accounts import service as accounts
from carepool.demo import service as demo
from carepool.domain.roles import SYSTEM
from carepool.plans import service as plans
from carepool.store.db import engine_for, unit_of_work
from carepool.web.app import create_app

pytestmark = pytest.mark.browser

PASSWORD = demo.DEMO_PASSWORD


@dataclass(frozen=True, slots=True)
class World:
    base_url: str
    own: str  # the demo ``area`` user's area: 2015-16 approved, 2016-17 not started
    later: str  # an area with an approved 2017-19 plan and no 2019-20 plan; user "later"


def _prepare(path: Path) -> tuple[str, str]:
    """Throw away the plans the journeys start again, and give the second area an editor."""
    engine = engine_for(f"sqlite:///{path}")
    with unit_of_work(engine) as session:
        user = accounts.find_user(session, "area")
        assert user is not None
        own = next(g.area_code for g in user.grants if g.area_code)
        assert own is not None
        status = plans.national_status(session, "2017-19")
        rows: list[dict[str, Any]] = status["plans"]  # type: ignore[assignment]
        later = next(
            r["area_code"] for r in rows if r["status"] == "Approved" and r["area_code"] != own
        )
        for year, code in (("2016-17", own), ("2019-20", later)):
            plan = plans.find(session, year, code)
            if plan is not None:
                session.delete(plan)
        accounts.create_user(session, "later", PASSWORD, [f"area_editor:{later}"], SYSTEM)
    engine.dispose()
    return own, str(later)


@pytest.fixture(scope="module")
def world(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("rollforward-journey") / "demo.db"
    shutil.copyfile(demo_db_file, path)
    own, later = _prepare(path)
    engine = engine_for(f"sqlite:///{path}")
    with serving(create_app(engine, "browser-rollforward-journey-secret")) as url:
        yield World(url, own, later)
    engine.dispose()


@pytest.fixture(scope="module")
def page(world: World) -> Iterator[Page]:
    with browser_page(base_url=world.base_url, java_script_enabled=False) as opened:
        yield opened


def sign_in(page: Page, username: str) -> None:
    page.goto("/")
    if page.get_by_role("button", name="Sign out").count():
        page.get_by_role("button", name="Sign out").click()
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def roll_forward(page: Page, year: str, area: str, source: str) -> None:
    page.goto(f"/plans/{year}/{area}")
    expect(page.locator("#plan-status")).to_have_text("Not started")
    page.get_by_role("button", name=f"Start from the approved {source} plan").click()
    expect(page).to_have_url(f"{page.url.split('/plans/')[0]}/plans/{year}/{area}/changes")
    expect(page.get_by_role("heading", level=1)).to_contain_text("what must change")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"starts from the approved {source} plan"
    )


def test_2015_16_rolls_forward_to_2016_17(page: Page, world: World) -> None:
    sign_in(page, "area")
    roll_forward(page, "2016-17", world.own, "2015-16")
    must = page.locator("#must-change-table")
    expect(must).to_contain_text("NC8: a local action plan to reduce delayed transfers of care")
    expect(page.locator("#to-check-table")).to_contain_text("social_care_capital")
    page.get_by_role("link", name="Back to the plan's sections").click()
    expect(page.locator("#plan-status")).to_contain_text("Draft")
    expect(page.locator("#rolled-from")).to_contain_text("approved 2015-16 plan")


def test_2017_19_rolls_forward_to_2019_20(page: Page, world: World) -> None:
    sign_in(page, "later")
    roll_forward(page, "2019-20", world.later, "2017-19")
    expect(page.locator("#must-change-table")).to_contain_text("Winter pressures")
    page.locator("#must-change-table a", has_text="Metrics").first.click()
    expect(page).to_have_url(f"{world.base_url}/plans/2019-20/{world.later}/edit/metrics")


def test_the_public_reads_the_years_side_by_side(page: Page, world: World) -> None:
    page.goto("/")
    if page.get_by_role("button", name="Sign out").count():
        page.get_by_role("button", name="Sign out").click()
    page.goto(f"/areas/{world.own}/history")
    table = page.locator("#history-money-table")
    for year in ("2015-16", "2016-17", "2017-19", "2019-20"):
        expect(table).to_contain_text(year)
    page.goto("/history")
    expect(page.locator("#history-pooled-table")).to_be_visible()
