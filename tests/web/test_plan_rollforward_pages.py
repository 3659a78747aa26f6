"""Rolling a plan forward from the web: the button, the new draft and what must change.

The demo's ``area`` user works on the first area, whose 2015-16 plan the demo approves and
rolls forward into a 2016-17 draft left for the area to finish.
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

OLD, NEW = "2015-16", "2016-17"
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


def test_an_editor_sees_what_must_change_and_can_start_the_draft_again(
    demo_copy: Engine, area_codes: tuple[str, str], client_for: ClientFor, csrf_of: Csrf
) -> None:
    own, _ = _own_and_other(demo_copy, area_codes)
    path = f"/plans/{NEW}/{own}"
    client = client_for(demo_copy, "area")
    overview = client.get(path)
    check_page(overview.text, "a rolled-forward draft")
    assert f'href="{path}/changes"' in overview.text
    button = parse(overview.text).find(".//button[@id='roll-forward']")
    assert button is not None and OLD in "".join(button.itertext())
    changes = client.get(f"{path}/changes")
    check_page(changes.text, "what must change")
    tree = parse(changes.text)
    must = tree.findall(".//table[@id='must-change-table']/tbody/tr")
    check = tree.findall(".//table[@id='to-check-table']/tbody/tr")
    assert must and check
    assert "NC8: a local action plan to reduce delayed transfers of care" in changes.text
    assert "social_care_capital" in changes.text
    assert f'href="{path}/edit/metrics"' in changes.text
    again = client.post(
        f"{path}/roll-forward",
        data={"csrf_token": csrf_of(overview.text)},
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"] == f"{path}/changes"
    with unit_of_work(demo_copy) as session:
        plan = plans.find(session, NEW, own)
        assert plan is not None and plan.status == "Draft"
        assert [e.action for e in plan.events] == ["roll_forward", "roll_forward"]


def test_nobody_rolls_forward_an_area_they_do_not_edit(
    demo_copy: Engine, area_codes: tuple[str, str], client_for: ClientFor, csrf_of: Csrf
) -> None:
    own, other = _own_and_other(demo_copy, area_codes)
    before = _events(demo_copy, other)
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
    assert _events(demo_copy, other) == before


def _events(engine: Engine, area: str) -> list[str]:
    with unit_of_work(engine) as session:
        plan = plans.find(session, NEW, area)
        return [e.action for e in plan.events] if plan else []
