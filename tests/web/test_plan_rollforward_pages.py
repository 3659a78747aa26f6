"""Rolling a plan forward from the web: the button, the new draft and what must change.

The demo's ``area`` user works on the first area, whose 2015-16 plan the demo approves; the
demo publishes the 2017-19 allocation but writes no 2017-19 plans, so the area can start
its 2017-19 plan from its approved 2015-16 one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from test_pages_html import check_page, parse

from carepool.plans import service as plans
from carepool.store.db import unit_of_work

OLD, NEW = "2015-16", "2017-19"
ClientFor = Callable[..., Any]
Csrf = Callable[[str], str]


@pytest.fixture
def demo_copy(demo_db_file: Path, sqlite_copy: Callable[[Path], Engine]) -> Iterator[Engine]:
    yield sqlite_copy(demo_db_file)


def _own_and_other(engine: Engine, area_codes: tuple[str, str]) -> tuple[str, str]:
    own, other = area_codes
    with unit_of_work(engine) as session:
        plan = plans.find(session, OLD, own)
        assert plan is not None and plan.status == "Approved"
    return own, other


def test_an_editor_starts_next_years_plan_from_the_approved_one(
    demo_copy: Engine, area_codes: tuple[str, str], client_for: ClientFor, csrf_of: Csrf
) -> None:
    own, _ = _own_and_other(demo_copy, area_codes)
    path = f"/plans/{NEW}/{own}"
    client = client_for(demo_copy, "area")
    page = client.get(path)
    assert page.status_code == 200
    check_page(page.text, "a plan not started, with an approved plan the year before")
    button = parse(page.text).find(".//button[@id='roll-forward']")
    assert button is not None and OLD in "".join(button.itertext())
    done = client.post(
        f"{path}/roll-forward", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"{path}/changes"
    changes = client.get(f"{path}/changes")
    check_page(changes.text, "what must change")
    tree = parse(changes.text)
    must = tree.findall(".//table[@id='must-change-table']/tbody/tr")
    check = tree.findall(".//table[@id='to-check-table']/tbody/tr")
    assert must and check
    text = changes.text
    assert "Improved Better Care Fund (iBCF) is new in 2017-19" in text
    assert "Social care capital grant" in text or "social_care_capital" in text
    assert f'href="{path}/edit/metrics"' in text
    overview = client.get(path)
    check_page(overview.text, "a rolled-forward draft")
    assert f'href="{path}/changes"' in overview.text
    assert parse(overview.text).find(".//button[@id='roll-forward']") is not None
    with unit_of_work(demo_copy) as session:
        plan = plans.find(session, NEW, own)
        assert plan is not None and plan.status == "Draft"
        assert [e.action for e in plan.events] == ["roll_forward"]


def test_nobody_rolls_forward_an_area_they_do_not_edit(
    demo_copy: Engine, area_codes: tuple[str, str], client_for: ClientFor, csrf_of: Csrf
) -> None:
    own, other = _own_and_other(demo_copy, area_codes)
    client = client_for(demo_copy, "area")
    token = csrf_of(client.get(f"/plans/{NEW}/{own}").text)
    refused = client.post(
        f"/plans/{NEW}/{other}/roll-forward", data={"csrf_token": token}, follow_redirects=False
    )
    assert refused.status_code in {403, 404}
    analyst = client_for(demo_copy, "analyst").get(f"/plans/{NEW}/{own}")
    assert "roll-forward" not in analyst.text
    assert client_for(demo_copy).get(
        f"/plans/{NEW}/{own}/changes", follow_redirects=False
    ).status_code in {303, 401, 404}
    with unit_of_work(demo_copy) as session:
        assert plans.find(session, NEW, other) is None
