"""What the national administrator may change for an area, and that it is recorded so.

The national team may write an area's draft plan and keep its pool's books on its behalf
(``NATIONAL_POWERS``); the forms tell a national user they act for the area, and each change
is marked "Changed by the national team" on the plan's timeline or the pool's ledger page.
The area's own people make the same changes unmarked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from carepool.accounts import service as accounts
from carepool.demo.service import national_principal
from carepool.domain.roles import Role, acting_as, principal
from carepool.plans import service as plans
from carepool.store.db import unit_of_work

ClientFor = Callable[..., Any]
YEAR = "2015-16"
MARK = "Changed by the national team"


def test_the_national_powers_are_the_local_roles_the_administrator_may_act_as() -> None:
    admin = principal("n", "n", ["national_admin"])
    editor = principal("e", "e", ["area_editor:E06000001"])
    assert acting_as(Role.AREA_EDITOR) == (Role.AREA_EDITOR, Role.NATIONAL_ADMIN)
    assert acting_as(Role.AREA_SIGNATORY) == (Role.AREA_SIGNATORY,)
    assert admin.may_act_as(Role.POOL_FINANCE, "E06000001")
    assert admin.acts_for_area(Role.AREA_EDITOR, "E06000001")
    assert not admin.may_act_as(Role.AREA_SIGNATORY, "E06000001")
    assert editor.may_act_as(Role.AREA_EDITOR, "E06000001")
    assert not editor.acts_for_area(Role.AREA_EDITOR, "E06000001")
    assert not editor.may_act_as(Role.AREA_EDITOR, "E06000002")
    analyst = principal("a", "a", ["analyst"])
    assert not analyst.may_act_as(Role.AREA_EDITOR, "E06000001")


def _draft_area(engine: Engine) -> str:
    with unit_of_work(engine) as session:
        rows = plans.national_status(session, YEAR)["plans"]
    return next(str(r["area_code"]) for r in rows if r["status"] == "Draft")  # type: ignore[attr-defined]


def _save(engine: Engine, area: str, actor: Any) -> None:
    with unit_of_work(engine) as session:
        plan = plans.find(session, YEAR, area)
        assert plan is not None
        content = plans.content_of(plans.current_version(plan))
        plans.save(session, plan, content, plan.lock_version, actor)


def test_a_national_change_to_a_plan_is_marked_on_its_timeline(
    fresh_engine: Engine, client_for: ClientFor
) -> None:
    area = _draft_area(fresh_engine)
    url = f"/plans/{YEAR}/{area}"
    _save(fresh_engine, area, principal("ed", "Editor", [f"area_editor:{area}"]))
    national = client_for(fresh_engine, "national")
    before = national.get(url).text
    assert MARK not in before, "the area's own editor's change is not the national team's"
    assert "You are acting for" in before, "a national user is told they act for the area"

    _save(fresh_engine, area, national_principal("national"))
    after = national.get(url).text
    assert after.count(MARK) == 1
    assert "You are acting for" not in client_for(fresh_engine, "analyst").get(url).text


def test_a_national_change_to_a_pool_is_marked_on_its_ledger_page(
    fresh_engine: Engine, client_for: ClientFor, csrf_of: Callable[[str], str]
) -> None:
    finance = client_for(fresh_engine, "finance")
    national = client_for(fresh_engine, "national")
    with unit_of_work(fresh_engine) as session:
        officer = accounts.find_user(session, "finance")
        assert officer is not None
        own = next(g.area_code for g in officer.grants if g.area_code)
    base = f"/pools/{YEAR}/{own}"
    summary = finance.get(base).text
    assert "You are acting for" not in summary
    data = {"csrf_token": csrf_of(summary), "forecast": "1,000.00", "note": ""}
    assert finance.post(f"{base}/forecast", data=data).status_code == 200
    assert 'id="no-national-changes"' in finance.get(f"{base}/ledger").text

    shown = national.get(base).text
    assert "You are acting for" in shown
    data = {"csrf_token": csrf_of(shown), "forecast": "2,000.00", "note": ""}
    assert national.post(f"{base}/forecast", data=data).status_code == 200
    ledger_page = finance.get(f"{base}/ledger").text
    assert ledger_page.count(MARK) == 1
    assert "recorded a forecast outturn of £2,000.00" in ledger_page
