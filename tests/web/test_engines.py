"""The web shell on every database engine: SQLite and PostgreSQL (when the test server runs).

The demo-based tests run on SQLite because the demo takes a while to build; this one starts
from an empty migrated database on each engine, so every query the web layer makes on its
own (accounts, tokens, audit, vintages, allocation runs) runs on PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from carepool.domain.roles import SYSTEM
from carepool.services import accounts
from carepool.store.db import unit_of_work

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
