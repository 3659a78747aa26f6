"""Each signed-in person lands on their tasks: what needs them, counted, linked and dated.

The demo's accounts cover every role. Each role's tasks are declared once
(:data:`carepool.tasks.service.ROLE_TASKS`); these tests hold the declarations to every role,
the page to the groups its roles declare and each task to a page its holder may open.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from carepool.accounts import service as accounts
from carepool.demo.service import DEMO_PASSWORD
from carepool.domain.roles import Role
from carepool.store.db import unit_of_work
from carepool.tasks import service as tasks

ClientFor = Callable[..., Any]
DEMO_USERNAMES = (
    "national", "assurer", "health", "localgov", "analyst", "area", "signatory", "finance",
    "chair",
)  # fmt: skip
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
        shown = _counts(page.text)
        print(username, shown)
        assert list(shown) == [g.key for g in expected], username
        assert shown == {g.key: g.count for g in expected}, username
