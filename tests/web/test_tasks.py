"""Each signed-in person lands on their tasks: what needs them, counted, linked and dated.

The demo's accounts cover every role. Each role's tasks are declared once
(:data:`carepool.tasks.service.ROLE_TASKS`); these tests hold the declarations to every role,
the page to the groups its roles declare and each task to a page its holder may open.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from test_pages_html import check_page

from carepool.accounts import service as accounts
from carepool.allocation import service as allocation
from carepool.budgets import service as budgets
from carepool.demo.service import DEMO_PASSWORD
from carepool.domain.plan_workflow import Action
from carepool.domain.roles import Role
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.store.db import unit_of_work
from carepool.synth.plans import synthetic_plan
from carepool.tasks import service as tasks

ClientFor = Callable[..., Any]
DEMO_USERNAMES = (
    "national", "assurer", "health", "localgov", "analyst", "area", "signatory", "finance",
    "chair", "coordinator",
)  # fmt: skip
YEAR = "2015-16"
COUNT = re.compile(r'data-group="([a-z-]+)">([0-9,]+)<')


def test_every_role_declares_its_tasks() -> None:
    """A new role must say what needs it (even nothing) before it can ship."""
    assert set(tasks.ROLE_TASKS) == set(Role)


def test_signing_in_lands_on_the_task_page(
    demo_engine: Engine, client_for: ClientFor, csrf_of: Callable[[str], str]
) -> None:
    client = client_for(demo_engine)
    form = client.get("/sign-in")
    data = {"csrf_token": csrf_of(form.text), "username": "finance", "password": DEMO_PASSWORD}
    response = client.post("/sign-in", data=data, follow_redirects=False)
    assert response.headers["location"] == "/tasks"
    page = client.get("/tasks")
    assert "Your tasks" in page.text and "Quarterly returns due" in page.text


def test_a_sign_in_sent_from_a_page_goes_back_to_it(
    demo_engine: Engine, client_for: ClientFor, csrf_of: Callable[[str], str]
) -> None:
    client = client_for(demo_engine)
    form = client.get("/sign-in?next=/national")
    data = {
        "csrf_token": csrf_of(form.text),
        "username": "analyst",
        "password": DEMO_PASSWORD,
        "next": "/national",
    }
    response = client.post("/sign-in", data=data, follow_redirects=False)
    assert response.headers["location"] == "/national"


def _counts(html: str) -> dict[str, int]:
    return {key: int(value.replace(",", "")) for key, value in COUNT.findall(html)}


def test_each_demo_account_sees_the_groups_its_roles_declare(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    for username in DEMO_USERNAMES:
        with unit_of_work(demo_engine) as session:
            viewer = accounts.find_user(session, username)
            assert viewer is not None
            expected = tasks.tasks_for(session, viewer)
        page = client_for(demo_engine, username).get("/tasks")
        assert page.status_code == 200, username
        check_page(page.text, f"tasks of {username}")
        shown = _counts(page.text)
        assert list(shown) == [g.key for g in expected], username
        assert shown == {g.key: g.count for g in expected}, username


def _send_for_sign_off(engine: Engine) -> str:
    """Write the demo area's plan again, complete, and send it for local sign-off."""
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
    return area


def test_a_plan_sent_for_sign_off_is_each_signatorys_task_until_they_sign(
    fresh_engine: Engine, client_for: ClientFor
) -> None:
    area = _send_for_sign_off(fresh_engine)
    link = f'href="/plans/{YEAR}/{area}"'
    signatory = client_for(fresh_engine, "signatory")
    chair = client_for(fresh_engine, "chair")
    for client in (signatory, chair):
        page = client.get("/tasks").text
        assert _counts(page)["plans-to-sign"] == 1
        assert link in page
    editor_tasks = client_for(fresh_engine, "area").get("/tasks").text
    assert f"the {YEAR} plan for" not in editor_tasks, "a plan out for sign-off is not to write"

    with unit_of_work(fresh_engine) as session:
        person = accounts.find_user(session, "signatory")
        plan = plans.find(session, YEAR, area)
        assert person is not None and plan is not None
        partner = next(g.partner_code for g in person.grants if g.partner_code)
        plans.act(session, plan, Action.SIGN, person, plans.Decision(partner=partner))
    assert _counts(signatory.get("/tasks").text)["plans-to-sign"] == 0
    assert _counts(chair.get("/tasks").text)["plans-to-sign"] == 1


def test_where_the_framework_sets_no_deadline_the_page_says_so(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    page = client_for(demo_engine, "finance").get("/tasks").text
    assert "The framework sets no deadline for quarterly returns" in page
    plans_page = client_for(demo_engine, "area").get("/tasks").text
    assert "Final plans submitted by 19 September 2014" in plans_page


def test_a_plan_is_offered_to_start_only_where_its_allocation_is_published(
    demo_engine: Engine,
) -> None:
    """The demo publishes four years' allocations of the ten it has frameworks for: the editor
    is asked to start no plan for the other six, which have no minimum to start from."""
    with unit_of_work(demo_engine) as session:
        viewer = accounts.find_user(session, "area")
        assert viewer is not None
        published = set(allocation.published_years(session))
        (group,) = [g for g in tasks.tasks_for(session, viewer) if g.key == "plans-to-write"]
    started = {task.href.split("/")[2] for task in group.tasks}
    assert len(published) == 4 and started <= published
    assert not any(task.title.startswith("Start the 2020-21") for task in group.tasks)
    assert all(year in published for year in map(_deadline_year, group.deadlines))


def _deadline_year(text: str) -> str:
    return text.split(":", 1)[0]


def test_a_coordinator_is_told_of_overspent_budgets_and_reviews_falling_due(
    demo_engine: Engine,
) -> None:
    with unit_of_work(demo_engine) as session:
        viewer = accounts.find_user(session, "coordinator")
        assert viewer is not None
        groups = {g.key: g for g in tasks.tasks_for(session, viewer)}
        (area,) = {g.area_code for g in viewer.grants}
        over = budgets.overspent(session, viewer, area)
    assert set(groups) == {"budgets-to-review", "budgets-overspent"}
    assert [t.href.rsplit("/", 1)[1] for t in groups["budgets-overspent"].tasks] == [
        reference for reference, _, _ in over
    ]
    assert all(
        t.href.startswith(f"/budgets/{area}/people/") for g in groups.values() for t in g.tasks
    )
