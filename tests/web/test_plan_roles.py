"""Who may see and do what with joint plans, for every demo account and the public.

An area's own people read its draft; other areas' people and the public are told it does not
exist (404, exactly as for a plan that really does not exist); national roles read them all.
Only the area's editors (and the national administrator) change content; signatories sign
only for their own partner; assurers and approvers judge plans but never edit them. Every
refusal is checked for leaking the plan: no money, no narrative, no scheme names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from carepool.accounts import service as accounts
from carepool.domain.money import format_money
from carepool.domain.plan_workflow import Action, PlanStatus
from carepool.domain.roles import SYSTEM
from carepool.plans import service as plans
from carepool.store.db import unit_of_work

YEAR = "2015-16"
ClientFor = Callable[..., Any]

NATIONAL = ("national", "assurer", "health", "localgov", "analyst")
LOCAL = ("area", "signatory", "finance")
EVERYONE: tuple[str | None, ...] = (None, *NATIONAL, *LOCAL)
EDITORS = ("national", "area")


def _status(engine: Engine, area: str) -> tuple[str, int, str]:
    with unit_of_work(engine) as session:
        plan = plans.find(session, YEAR, area)
        assert plan is not None
        return plan.status, plan.lock_version, plans.current_version(plan).content["narrative"]


def _secrets(engine: Engine, area: str) -> list[str]:
    """What a refusal must never show: the draft's money, narrative and schemes."""
    with unit_of_work(engine) as session:
        plan = plans.find(session, YEAR, area)
        assert plan is not None
        content = plans.content_of(plans.current_version(plan))
    return [
        format_money(content.pooled()),
        content.narrative[:60],
        *(s.name for s in content.schemes if not s.name.startswith("Adaptations")),
    ]


def _expected_read(username: str | None, area: str, world: Any) -> int:
    if area == world.other_approved:
        return 200
    if username in NATIONAL:
        return 200
    if username in LOCAL and area == world.own:
        return 200
    return 404


@pytest.mark.parametrize("username", EVERYONE, ids=lambda u: u or "public")
def test_who_may_read_which_plan(
    username: str | None, plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    client = client_for(plan_engine, username)
    secrets = _secrets(plan_engine, plan_world.other_draft)
    for area in (plan_world.own, plan_world.other_draft, plan_world.other_approved):
        expected = _expected_read(username, area, plan_world)
        for path in (f"/plans/{YEAR}/{area}", f"/plans/{YEAR}/{area}/versions"):
            response = client.get(path)
            assert response.status_code == expected, (username, path)
        api = client.get(f"/api/v1/plans/{YEAR}/{area}")  # no token: the API sees the public
        assert api.status_code == (200 if area == plan_world.other_approved else 404)
        if expected == 404:
            body = client.get(f"/plans/{YEAR}/{area}").text
            assert not any(secret in body for secret in secrets if area == plan_world.other_draft)
            assert "Draft" not in body


def _expected_edit(username: str | None, area: str, world: Any) -> int:
    if username is None:
        return 303  # sent to sign in
    if username not in EDITORS:
        return 403
    if username == "area" and area != world.own:
        return 404  # another area's draft is not told to exist
    return 200


@pytest.mark.parametrize("username", EVERYONE, ids=lambda u: u or "public")
def test_only_the_areas_editors_and_the_national_team_open_edit_pages(
    username: str | None, plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    client = client_for(plan_engine, username)
    secrets = _secrets(plan_engine, plan_world.other_draft)
    for area in (plan_world.own, plan_world.other_draft):
        expected = _expected_edit(username, area, plan_world)
        for page in ("edit/contributions", "edit/schemes", "edit/schemes/1", "check"):
            path = f"/plans/{YEAR}/{area}/{page}"
            response = client.get(path, follow_redirects=False)
            assert response.status_code == expected, (username, path)
            if expected != 200:
                assert not any(secret in response.text for secret in secrets)
                assert not re.search(r"£\d", response.text), "a refusal shows no money"
        upload = client.get(f"/plans/{YEAR}/upload", follow_redirects=False)
        assert upload.status_code == (200 if username in EDITORS else 403 if username else 303)


def test_the_approved_plan_on_another_area_is_open_but_not_editable(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    client = client_for(plan_engine, "area")
    page = client.get(f"/plans/{YEAR}/{plan_world.other_approved}")
    assert page.status_code == 200
    assert "/edit/" not in page.text and "Send back" not in page.text
    edit = client.get(f"/plans/{YEAR}/{plan_world.other_approved}/edit/narrative")
    assert edit.status_code == 403, "it is open to read, but not theirs to change"
    national = client_for(plan_engine, "national")
    frozen = national.get(f"/plans/{YEAR}/{plan_world.other_approved}/edit/narrative")
    assert frozen.status_code == 409, "an approved plan cannot be edited by anyone"
    assert "can be changed only in draft" in frozen.text


def test_a_local_user_sees_only_their_own_area_on_the_national_view(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    for username in LOCAL:
        page = client_for(plan_engine, username).get(f"/plans/{YEAR}")
        assert page.status_code == 200
        assert f"/plans/{YEAR}/{plan_world.own}" in page.text
        assert f'/plans/{YEAR}/{plan_world.other_draft}"' not in page.text
        assert "To chase" not in page.text and "area-table" not in page.text
    national = client_for(plan_engine, "analyst").get(f"/plans/{YEAR}")
    assert "To chase" in national.text
    assert f'/plans/{YEAR}/{plan_world.other_draft}"' in national.text


def test_the_public_sees_only_approved_plans(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    client = client_for(plan_engine)
    page = client.get(f"/plans/{YEAR}")
    assert page.status_code == 200
    assert f'/plans/{YEAR}/{plan_world.other_approved}"' in page.text
    for hidden in (plan_world.own, plan_world.other_draft):
        assert f'/plans/{YEAR}/{hidden}"' not in page.text
    for status in PlanStatus:
        if status is not PlanStatus.APPROVED:
            assert f">{status.value}<" not in page.text, status

    rows = client.get(f"/plans/{YEAR}.csv").text.splitlines()[1:]
    assert rows and all(",Approved," in row for row in rows)

    report = client.get(f"/api/v1/plans/{YEAR}").json()
    assert {row["status"] for row in report["plans"]} == {"Approved"}
    assert set(report["by_status"]) == {"Approved"}
    assert report["areas"] == 151
    assert all(row["area_code"] != plan_world.other_draft for row in report["plans"])


@pytest.fixture(scope="module")
def tokens(plan_engine: Engine) -> dict[str, str]:
    with unit_of_work(plan_engine) as session:
        return {
            name: accounts.create_token(session, name, "plan role test", SYSTEM)
            for name in (*NATIONAL, *LOCAL)
        }


def test_tokens_read_what_their_owners_may_read(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor, tokens: dict[str, str]
) -> None:
    client = client_for(plan_engine)
    for username, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for area in (plan_world.own, plan_world.other_draft, plan_world.other_approved):
            expected = _expected_read(username, area, plan_world)
            for suffix in ("", "/events", "/problems", "/versions/1"):
                response = client.get(f"/api/v1/plans/{YEAR}/{area}{suffix}", headers=headers)
                assert response.status_code == expected, (username, area, suffix)
                if expected == 404:
                    assert response.json()["error"]["code"] == "not_found"


def test_only_editors_may_put_content(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor, tokens: dict[str, str]
) -> None:
    client = client_for(plan_engine)
    before = _status(plan_engine, plan_world.own)
    report = client.get(
        f"/api/v1/plans/{YEAR}/{plan_world.own}",
        headers={"Authorization": f"Bearer {tokens['area']}"},
    ).json()
    body = {"lock_version": report["lock_version"], "content": report["content"]}
    for username in ("assurer", "health", "localgov", "analyst", "signatory", "finance"):
        response = client.put(
            f"/api/v1/plans/{YEAR}/{plan_world.own}/content",
            json=body,
            headers={"Authorization": f"Bearer {tokens[username]}"},
        )
        assert response.status_code == 403, username
        assert response.json()["error"]["code"] == "forbidden"
        assert report["content"]["narrative"] not in response.text
    other = client.put(
        f"/api/v1/plans/{YEAR}/{plan_world.other_draft}/content",
        json=body,
        headers={"Authorization": f"Bearer {tokens['area']}"},
    )
    assert other.status_code == 404
    anonymous = client.put(f"/api/v1/plans/{YEAR}/{plan_world.own}/content", json=body)
    assert anonymous.status_code == 401
    assert _status(plan_engine, plan_world.own) == before


def test_assurers_and_approvers_cannot_edit_through_the_pages(
    plan_engine: Engine,
    plan_world: Any,
    client_for: ClientFor,
    csrf_of: Callable[[str], str],
) -> None:
    before = _status(plan_engine, plan_world.own)
    for username in ("assurer", "health", "localgov", "analyst", "signatory", "finance"):
        client = client_for(plan_engine, username)
        token = csrf_of(client.get("/account").text)
        response = client.post(
            f"/plans/{YEAR}/{plan_world.own}/edit/narrative",
            data={"csrf_token": token, "lock_version": before[1], "narrative": "Rewritten " * 20},
        )
        assert response.status_code == 403, username
        check = client.post(
            f"/plans/{YEAR}/{plan_world.own}/check",
            data={"csrf_token": token, "lock_version": before[1]},
        )
        assert check.status_code == 403, username
    assert _status(plan_engine, plan_world.own) == before


def _send_for_sign_off(engine: Engine, area: str) -> None:
    with unit_of_work(engine) as session:
        editor = accounts.find_user(session, "area")
        plan = plans.find(session, YEAR, area)
        assert editor is not None and plan is not None
        plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)


def test_a_signatory_signs_only_for_their_own_partner(
    fresh_plan_engine: Engine,
    plan_world: Any,
    client_for: ClientFor,
    csrf_of: Callable[[str], str],
) -> None:
    _send_for_sign_off(fresh_plan_engine, plan_world.own)
    client = client_for(fresh_plan_engine, "signatory")
    page = client.get(f"/plans/{YEAR}/{plan_world.own}")
    assert page.text.count('action="/plans/' + YEAR + f'/{plan_world.own}/actions/sign"') == 1
    assert f'name="partner" value="{plan_world.demo_partner}"' in page.text
    token, lock = csrf_of(page.text), _status(fresh_plan_engine, plan_world.own)[1]
    someone_else = next(p for p in plan_world.signers if p != plan_world.demo_partner)

    refused = client.post(
        f"/plans/{YEAR}/{plan_world.own}/actions/sign",
        data={"csrf_token": token, "lock_version": lock, "partner": someone_else},
    )
    assert refused.status_code == 403
    assert "There is a problem" in refused.text and "needs the role" in refused.text

    signed = client.post(
        f"/plans/{YEAR}/{plan_world.own}/actions/sign",
        data={"csrf_token": token, "lock_version": lock, "partner": plan_world.demo_partner},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    with unit_of_work(fresh_plan_engine) as session:
        plan = plans.find(session, YEAR, plan_world.own)
        assert plan is not None
        assert plans.progress(plan).signed_by == {plan_world.demo_partner}
        assert plan.status == PlanStatus.SIGN_OFF

    again = client.get(f"/plans/{YEAR}/{plan_world.own}")
    assert '/actions/sign"' not in again.text, "nothing left for this signatory to sign"
    for username in ("area", "finance", "analyst", "assurer"):
        other = client_for(fresh_plan_engine, username)
        response = other.post(
            f"/plans/{YEAR}/{plan_world.own}/actions/sign",
            data={
                "csrf_token": csrf_of(other.get("/account").text),
                "lock_version": _status(fresh_plan_engine, plan_world.own)[1],
                "partner": someone_else,
            },
        )
        assert response.status_code == 403, username


def test_local_users_cannot_act_on_another_areas_plan(
    fresh_plan_engine: Engine,
    plan_world: Any,
    client_for: ClientFor,
    csrf_of: Callable[[str], str],
) -> None:
    secrets = _secrets(fresh_plan_engine, plan_world.other_draft)
    before = _status(fresh_plan_engine, plan_world.other_draft)
    for username in LOCAL:
        client = client_for(fresh_plan_engine, username)
        token = csrf_of(client.get("/account").text)
        for action in ("send_back", "sign", "reopen"):
            response = client.post(
                f"/plans/{YEAR}/{plan_world.other_draft}/actions/{action}",
                data={"csrf_token": token, "comment": "no", "lock_version": before[1]},
            )
            assert response.status_code == 404, (username, action)
            assert not any(secret in response.text for secret in secrets)
    assert _status(fresh_plan_engine, plan_world.other_draft) == before


def test_the_public_is_sent_to_sign_in_for_every_plan_step(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    client = client_for(plan_engine)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert token
    for path in (
        f"/plans/{YEAR}/{plan_world.own}/actions/sign",
        f"/plans/{YEAR}/{plan_world.own}/edit/narrative",
        f"/plans/{YEAR}/{plan_world.own}/check",
        f"/plans/{YEAR}/{plan_world.own}/start",
    ):
        response = client.post(path, data={"csrf_token": token.group(1)}, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in")
