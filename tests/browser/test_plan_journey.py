"""A joint plan's whole life in a real browser with JavaScript off, as the people involved.

An area whose plan is thrown away is written again from the start by its editor, section by
section, checked and sent for sign-off; every partner's signatory signs; the regional
assurer records a category; the national approvers for health and for local government
approve; and then the public sees the approved plan and every step on its timeline.

The app is served by uvicorn in a background thread over its own demo database and driven by
headless Chromium through Playwright, as in ``test_allocation_journey``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import CHROMIUM_ARGS, chromium, serving
from playwright.sync_api import Page, expect, sync_playwright

from carepool.accounts import service as accounts
from carepool.demo import service as demo
from carepool.domain.money import format_money
from carepool.domain.plan_workflow import HWB_CHAIR
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.store.db import engine_for, unit_of_work
from carepool.web.app import create_app

pytestmark = pytest.mark.browser

YEAR = "2015-16"
PASSWORD = demo.DEMO_PASSWORD


@dataclass(frozen=True, slots=True)
class Journey:
    base_url: str
    area: str
    area_name: str
    minimums: dict[str, int]  # stream -> pence
    signers: dict[str, str]  # partner code -> username


def _prepare(path: Path) -> tuple[str, str, dict[str, int], dict[str, str]]:
    """The demo copied at ``path``, with one unitary area's plan thrown away and accounts for
    its people."""
    engine = engine_for(f"sqlite:///{path}")
    with unit_of_work(engine) as session:
        geo = year_geography(session, YEAR)
        area = next(a for a in geo.areas[1:] if a.kind == "UA")
        plan = plans.find(session, YEAR, area.code)
        assert plan is not None
        session.delete(plan)
        facts = plans.area_facts(session, geo, area.code)
        minimums: dict[str, int] = {}
        for (_, stream, _), amount in facts.context.minimums.items():
            minimums[stream] = minimums.get(stream, 0) + amount
        accounts.create_user(session, "editor", PASSWORD, [f"area_editor:{area.code}"], SYSTEM)
        signers = {}
        for partner in [*facts.context.partners, HWB_CHAIR]:
            username = f"sign-{partner.lower()}"
            grant = f"area_signatory:{area.code}:{partner}"
            accounts.create_user(session, username, PASSWORD, [grant], SYSTEM)
            signers[partner] = username
    engine.dispose()
    return area.code, area.name, minimums, signers


@pytest.fixture(scope="module")
def journey(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    path = tmp_path_factory.mktemp("plan-journey") / "demo.db"
    shutil.copyfile(demo_db_file, path)
    area, name, minimums, signers = _prepare(path)
    engine = engine_for(f"sqlite:///{path}")
    with serving(create_app(engine, "browser-plan-journey-secret")) as url:
        yield Journey(url, area, name, minimums, signers)
    engine.dispose()


@pytest.fixture(scope="module")
def page(journey: Journey) -> Iterator[Page]:
    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=journey.base_url, java_script_enabled=False)
        yield context.new_page()
        context.close()
        browser.close()


def sign_in(page: Page, username: str) -> None:
    page.goto("/")
    if page.get_by_role("button", name="Sign out").count():
        page.get_by_role("button", name="Sign out").click()
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def saved(page: Page, message: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(message)
    expect(page.locator(".govuk-error-summary")).to_have_count(0)


def _pounds(pence: int) -> str:
    return format_money(pence).removeprefix("£")


def write_contributions(page: Page, plan_url: str) -> None:
    page.goto(f"{plan_url}/edit/contributions")
    page.locator("#additional-1").fill("£10,000")
    page.get_by_role("button", name="Save").click()
    saved(page, "Contributions saved")


def add_scheme(page: Page, plan_url: str, fields: dict[str, str]) -> None:
    page.goto(f"{plan_url}/edit/schemes")
    page.get_by_label("Scheme name").fill(fields["name"])
    page.get_by_label("Scheme type").select_option(fields["type"])
    page.locator(f"input[name=commissioner][value='{fields['commissioner']}']").check()
    page.get_by_label("Provider").fill(fields["provider"])
    page.get_by_label("Funding source").select_option(fields["source"])
    page.get_by_label("Area of spend").select_option(fields["spend"])
    page.locator("input[name=new_or_existing][value='Existing']").check()
    page.get_by_label("Planned spend").fill(fields["amount"])
    page.get_by_role("button", name="Add the scheme").click()
    saved(page, "Scheme added")


def write_schemes(page: Page, plan_url: str, journey: Journey) -> None:
    nhs = journey.minimums["ccg_minimum"] + 1_000_000  # with the £10,000 added
    social = nhs * 40 // 100
    council = "Local authority"
    for fields in (
        {
            "name": "Protecting adult social care",
            "type": "Care home and nursing support",
            "commissioner": council,
            "provider": "The council",
            "source": "ccg_minimum",
            "spend": "Social care",
            "amount": _pounds(social),
        },
        {
            "name": "Integrated neighbourhood teams",
            "type": "Integrated care teams and care planning",
            "commissioner": "NHS",
            "provider": "Community trust",
            "source": "ccg_minimum",
            "spend": "Community health",
            "amount": _pounds(nhs - social),
        },
        {
            "name": "Home adaptations",
            "type": "Disabled Facilities Grant and housing adaptations",
            "commissioner": council,
            "provider": "The council",
            "source": "disabled_facilities_grant",
            "spend": "Social care",
            "amount": _pounds(journey.minimums["disabled_facilities_grant"]),
        },
        {
            "name": "Care home improvements",
            "type": "Care home and nursing support",
            "commissioner": council,
            "provider": "The council",
            "source": "social_care_capital",
            "spend": "Social care",
            "amount": _pounds(journey.minimums["social_care_capital"]),
        },
    ):
        add_scheme(page, plan_url, fields)
    expect(page.locator("#unplanned-2015-16")).to_have_text("£0.00")


def write_metrics(page: Page, plan_url: str) -> None:
    page.goto(f"{plan_url}/edit/metrics")
    for fieldset in page.locator("fieldset").all():
        legend_hint = fieldset.locator(".govuk-hint").inner_text()
        step = -1 if "lower is better" in legend_hint else 1
        inputs = fieldset.locator("input").all()
        inputs[0].fill("1000")
        for quarter, field in enumerate(inputs[1:], start=1):
            field.fill(str(1000 + step * 10 * quarter))
    page.get_by_role("button", name="Save").click()
    saved(page, "Metrics saved")


def write_conditions(page: Page, plan_url: str) -> None:
    page.goto(f"{plan_url}/edit/conditions")
    for block in page.locator(".app-condition").all():
        block.get_by_label("Confirmed").check()
        block.get_by_label("Evidence or explanation").fill("Agreed at the Board on 1 March.")
    page.get_by_role("button", name="Save").click()
    saved(page, "National conditions saved")


def write_section75(page: Page, plan_url: str, area: str) -> None:
    page.goto(f"{plan_url}/edit/section75")
    page.get_by_label("Host partner", exact=True).select_option(area)
    page.get_by_label("Pool manager").fill("A. Patel")
    page.get_by_label("In proportion to each partner's contribution").check()
    page.get_by_label("Day", exact=True).fill("27")
    page.get_by_label("Month", exact=True).fill("3")
    page.get_by_label("Year", exact=True).fill("2015")
    page.get_by_role("button", name="Save").click()
    saved(page, "Section 75 agreement saved")


def write_narrative(page: Page, plan_url: str) -> None:
    page.goto(f"{plan_url}/edit/narrative")
    page.get_by_label("Describe the plan").fill(
        "We will support people at home for longer, with health and social care teams "
        "working as one around each person, and protect adult social care services."
    )
    page.get_by_role("button", name="Save").click()
    saved(page, "Narrative saved")


def take_step(page: Page, plan_url: str, button: str) -> None:
    page.goto(plan_url)
    page.get_by_role("button", name=re.compile(f"^{button}")).first.click()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    saved(page, "")


def test_a_plan_is_written_signed_assured_approved_and_published(
    page: Page, journey: Journey
) -> None:
    plan_url = f"/plans/{YEAR}/{journey.area}"
    sign_in(page, "editor")
    page.goto(plan_url)
    expect(page.locator("#plan-status")).to_have_text("Not started")
    page.get_by_role("button", name="Start the plan").click()
    saved(page, "The plan has been started")
    expect(page.locator("#task-narrative-status")).to_contain_text("Incomplete")

    write_contributions(page, plan_url)
    write_schemes(page, plan_url, journey)
    write_metrics(page, plan_url)
    write_conditions(page, plan_url)
    write_section75(page, plan_url, journey.area)
    write_narrative(page, plan_url)

    page.goto(plan_url)
    for section in ("contributions", "schemes", "metrics", "conditions", "section75", "narrative"):
        expect(page.locator(f"#task-{section}-status")).to_have_text("Completed")
    page.get_by_role("link", name="check your answers and send the plan for local sign-off").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check your answers")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    page.get_by_label("Message to the signatories (optional)").fill("Ready for signature")
    page.get_by_role("button", name="Send for local sign-off").click()
    saved(page, "Version 1 has been sent for local sign-off")
    expect(page.locator("#plan-status")).to_have_text("Awaiting local sign-off")

    first_signer, *other_signers = journey.signers.values()
    sign_in(page, first_signer)
    page.goto(plan_url)
    page.locator("#read-before-acting").click()  # a signatory reads what they sign
    expect(page.get_by_role("heading", level=1)).to_contain_text("joint plan")
    expect(page.locator("#read-schemes")).to_be_visible()
    expect(page.locator("#read-contributions")).to_contain_text("Total pooled")
    expect(page.locator("#plan-read-summary")).to_contain_text("frozen for sign-off")
    page.get_by_role("link", name="Back to the plan's progress").click()
    page.get_by_role("button", name=re.compile("^Sign the plan")).first.click()
    saved(page, "")
    for username in other_signers:
        sign_in(page, username)
        take_step(page, plan_url, "Sign the plan")
    expect(page.locator("#plan-status")).to_have_text("Submitted")

    sign_in(page, "assurer")
    take_step(page, plan_url, "Start assurance")
    page.get_by_label("Approved", exact=True).check()
    page.get_by_label("Key lines of enquiry").fill("Is the admissions reduction credible?")
    page.get_by_role("button", name="Record the assurance category").click()
    expect(page.locator("#plan-status")).to_have_text("Awaiting national decision")

    for approver in ("health", "localgov"):
        sign_in(page, approver)
        take_step(page, plan_url, "Approve")
    expect(page.locator("#plan-status")).to_have_text("Approved")

    page.get_by_role("button", name="Sign out").click()
    page.goto(f"/plans/{YEAR}")
    page.get_by_role("link", name=journey.area_name, exact=True).click()
    expect(page.locator("#plan-status")).to_have_text("Approved")
    titles = page.locator("#timeline .app-timeline__title").all_inner_texts()
    assert titles == [
        "Approved",
        "Approved",
        "Assurance category recorded",
        "Regional assurance started",
        *["Signed"] * len(journey.signers),
        "Sent for local sign-off",
        "Plan started",
    ]
    expect(page.locator("#timeline")).to_contain_text("Ready for signature")
    expect(page.locator("#timeline")).to_contain_text("National approver (local government)")
    expect(page.locator("#signatures")).not_to_contain_text("Still to sign")

    page.locator("#read-link").click()  # the public reads the approved plan itself
    expect(page.locator("#read-schemes")).to_be_visible()
    expect(page.locator("#plan-history")).to_be_visible()
