"""The national administrator approves and publishes a new version of an allocation."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from carepool.allocation import service as allocation
from carepool.audit import repository as audit
from carepool.domain.allocation import AllocationStatus
from carepool.store.db import unit_of_work

YEAR = "2015-16"
ClientFor = Callable[..., Any]
CsrfOf = Callable[[str], str]


def _buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit" name="target" value="(\w+)"', html)


def _status(engine: Engine, version: int) -> str:
    with unit_of_work(engine) as session:
        return allocation.run_by_version(session, YEAR, version).status


def _move(client: Any, csrf_of: CsrfOf, target: str, comment: str = "") -> Any:
    page = client.get(f"/allocations/{YEAR}?version=2")
    return client.post(
        f"/allocations/{YEAR}/versions/2/status",
        data={"csrf_token": csrf_of(page.text), "target": target, "comment": comment},
        follow_redirects=False,
    )


def test_approve_then_publish_a_variation(
    fresh_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    admin = client_for(fresh_engine, "national")
    page = admin.get(f"/allocations/{YEAR}")
    assert "This is version 2, which is draft and not published" in page.text
    assert _buttons(page.text) == ["Approved"]

    approved = _move(admin, csrf_of, "Approved", "checked against the published table")
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/allocations/{YEAR}?version=2"
    shown = admin.get(approved.headers["location"])
    assert "Version 2 of the 2015-16 allocation is now approved" in shown.text
    assert _buttons(shown.text) == ["Published", "Draft"]
    assert "checked against the published table" in shown.text  # in the timeline
    assert _status(fresh_engine, 2) == AllocationStatus.APPROVED

    published = _move(admin, csrf_of, "Published")
    assert published.status_code == 303
    assert _status(fresh_engine, 2) == AllocationStatus.PUBLISHED
    assert _status(fresh_engine, 1) == AllocationStatus.SUPERSEDED

    public = client_for(fresh_engine)
    assert public.get(f"/api/v1/allocations/{YEAR}").json()["version"] == 2
    assert "not published" not in public.get(f"/allocations/{YEAR}").text
    superseded = public.get(f"/allocations/{YEAR}?version=1")
    assert superseded.status_code == 200, "a superseded version was published: it stays open"
    assert "which is superseded" in superseded.text

    with unit_of_work(fresh_engine) as session:
        latest = audit.recent(session, limit=1)[0]
    assert latest.actor == "national" and latest.after["status"] == "Published"


def test_a_move_the_workflow_forbids_is_refused_and_changes_nothing(
    fresh_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    admin = client_for(fresh_engine, "national")
    response = _move(admin, csrf_of, "Published")
    assert response.status_code == 409
    assert "cannot become Published" in response.text
    assert _status(fresh_engine, 2) == AllocationStatus.DRAFT
    nonsense = _move(admin, csrf_of, "Shredded")
    assert nonsense.status_code == 400
    assert _status(fresh_engine, 2) == AllocationStatus.DRAFT


def test_a_status_change_without_the_csrf_token_is_refused(
    fresh_engine: Engine, client_for: ClientFor
) -> None:
    admin = client_for(fresh_engine, "national")
    admin.get(f"/allocations/{YEAR}")
    response = admin.post(f"/allocations/{YEAR}/versions/2/status", data={"target": "Approved"})
    assert response.status_code == 403
    assert _status(fresh_engine, 2) == AllocationStatus.DRAFT
