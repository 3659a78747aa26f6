"""From signing in to the plan to sign, in one click, in a real browser.

The demo area's plan is written again and sent for local sign-off; the demo's NHS
signatory signs in, lands on their tasks, and one click on the task opens the plan with the
button to sign it.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import browser_page, serving
from playwright.sync_api import expect

from carepool.accounts import service as accounts
from carepool.demo import service as demo
from carepool.domain.plan_workflow import Action, PlanStatus
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.store.db import engine_for, unit_of_work
from carepool.synth.plans import synthetic_plan
from carepool.web.app import create_app

pytestmark = pytest.mark.browser

YEAR = "2015-16"


def _send_for_sign_off(path: Path) -> tuple[str, str]:
    """Write the signatory's area's plan again, complete, and send it for sign-off."""
    engine = engine_for(f"sqlite:///{path}")
    with unit_of_work(engine) as session:
        editor = accounts.find_user(session, "area")
        assert editor is not None
        area = next(g.area_code for g in editor.grants if g.area_code)
        assert area is not None
        existing = plans.find(session, YEAR, area)
        if existing is not None:
            session.delete(existing)
            session.flush()
        plan = plans.start(session, YEAR, area, editor)
        geo = year_geography(session, YEAR)
        facts = plans.area_facts(session, geo, area)
        content = synthetic_plan(facts.context, geo.bands[area]["all"], random.Random(7))
        plans.save(session, plan, content, plan.lock_version, editor)
        plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)
        assert plan.status == PlanStatus.SIGN_OFF
        name = geo.area(area).name
    engine.dispose()
    return area, name


@pytest.fixture(scope="module")
def site(
    demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    path = tmp_path_factory.mktemp("task-journey") / "demo.db"
    shutil.copyfile(demo_db_file, path)
    area, name = _send_for_sign_off(path)
    engine = engine_for(f"sqlite:///{path}")
    try:
        with serving(create_app(engine, "browser-task-journey-secret")) as url:
            yield url, area, name
    finally:
        engine.dispose()


def test_a_signatory_reaches_the_plan_to_sign_in_one_click(site: tuple[str, str, str]) -> None:
    url, area, name = site
    with browser_page(base_url=url, java_script_enabled=False) as page:
        page.goto("/sign-in")
        page.get_by_label("Username").fill("signatory")
        page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{url}/tasks")
        expect(page.get_by_role("heading", name="Your tasks", exact=True)).to_be_visible()
        expect(page.locator('[data-group="plans-to-sign"]').first).to_have_text("1")

        page.get_by_role("link", name=f"Sign the {YEAR} plan for {name}").click()
        expect(page).to_have_url(f"{url}/plans/{YEAR}/{area}")
        expect(page.locator("#plan-status")).to_contain_text(PlanStatus.SIGN_OFF.value)
        expect(page.get_by_role("button", name="Sign the plan")).to_be_visible()
