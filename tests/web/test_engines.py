"""The web shell on every database engine: SQLite and PostgreSQL (when the test server runs).

The demo-based tests run on SQLite because the demo takes a while to build; this one starts
from an empty migrated database on each engine, so every query the web layer makes on its
own (accounts, tokens, audit, vintages, allocation runs) runs on PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select

from carepool.accounts import service as accounts
from carepool.domain.allocation import AllocationStatus
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.store.db import unit_of_work
from carepool.store.models import AllocationRun

ClientFor = Callable[..., Any]
PASSWORD = "a-long-enough-password"


def test_the_web_shell_on_an_empty_database(
    engine: Engine,
    client_for: ClientFor,
    sign_in: Callable[..., None],
    csrf_of: Callable[[str], str],
) -> None:
    with unit_of_work(engine) as session:
        accounts.create_user(session, "admin", PASSWORD, ["national_admin"], SYSTEM, "Admin")
        token = accounts.create_token(session, "admin", "script", SYSTEM)

    public = client_for(engine)
    assert public.get("/").status_code == 200
    assert public.get("/frameworks/2015-16").status_code == 200
    assert public.get("/allocations/2015-16").status_code == 404
    assert public.get("/api/v1/allocations/2015-16").json()["error"]["code"] == "not_found"

    admin = client_for(engine)
    sign_in(admin, "admin", PASSWORD)
    dashboard = admin.get("/national")
    assert dashboard.status_code == 200
    assert "user admin" in dashboard.text and "api token script" in dashboard.text
    assert admin.get("/allocations/2015-16").status_code == 200  # how to make one
    runs = public.get(
        "/api/v1/allocations/2015-16/runs", headers={"Authorization": f"Bearer {token}"}
    )
    assert runs.status_code == 200 and runs.json()["runs"] == []

    signed_out = admin.post("/sign-out", data={"csrf_token": csrf_of(dashboard.text)})
    assert signed_out.status_code == 200
    assert admin.get("/national", follow_redirects=False).status_code == 303


def test_a_server_starts_on_a_blank_or_empty_database(
    empty_engine: Engine, engine: Engine, client_for: ClientFor
) -> None:
    """Warming the caches at start must not stop a server whose database has nothing yet."""
    for database in (empty_engine, engine):
        with client_for(database) as client:  # as a context manager it runs start-up
            assert client.get("/healthz").status_code == 200


def test_start_up_works_out_every_area_s_facts(demo_engine: Engine, client_for: ClientFor) -> None:
    plans._FACTS.clear()
    with client_for(demo_engine):
        warmed = dict(plans._FACTS)
    with unit_of_work(demo_engine) as session:
        published = {
            run.year
            for run in session.scalars(select(AllocationRun))
            if run.status == AllocationStatus.PUBLISHED
        }
        expected = {(y, a.code) for y in published for a in year_geography(session, y).areas}
        assert len(published) >= 4 and len(expected) > len(published) * 150
        assert {(key[1], key[2]) for key in warmed} == expected
        assert plans.warm(session) == len(expected)
    assert all(plans._FACTS[key] is facts for key, facts in warmed.items())  # nothing redone
