"""Every route says who may use it, and nobody sees more than their role allows.

The first tests read the application's route table: a route without an access dependency, or
a form post without the CSRF check, fails here before anyone can ship it. The rest ask as the
wrong person and check both the status and that the body gives nothing away.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.routing import BaseRoute, Mount, Route

from carepool.accounts import service as accounts
from carepool.allocation import service as allocation
from carepool.domain.allocation import AllocationStatus
from carepool.domain.money import format_money
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.store.db import unit_of_work
from carepool.web.app import create_app
from carepool.web.auth import AdminViewer, PublicViewer, access_of, csrf_protect

SECRET = "test-secret-key"
YEAR = "2015-16"
ClientFor = Callable[..., Any]
Variation = tuple[str, str]

NOT_ROUTED_BY_US = {"/static", "/assets", "/api/v1/openapi.json"}
"""Static files and the OpenAPI schema: public by nature, added by the framework."""


def all_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, looking inside included routers (FastAPI >= 0.16x keeps them nested)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from all_routes(included.routes)
        else:
            yield route


def test_the_route_table_is_read_whole(demo_engine: Engine) -> None:
    paths = {getattr(r, "path", "") for r in all_routes(create_app(demo_engine, SECRET).routes)}
    assert {"/", "/sign-in", "/national", "/areas/{code}", "/api/v1/frameworks"} <= paths


def access_problems(app: FastAPI) -> list[str]:
    """Routes declaring no access rule, or more than one; and routes we did not expect."""
    problems = []
    for route in all_routes(app.routes):
        if isinstance(route, APIRoute):
            rules = [r for d in route.dependant.dependencies if (r := access_of(d.call))]
            if len(rules) != 1:
                problems.append(f"{sorted(route.methods or ())} {route.path}: {rules or 'none'}")
        elif not (isinstance(route, Mount | Route) and route.path in NOT_ROUTED_BY_US):
            problems.append(f"unexpected route {getattr(route, 'path', route)!r}")
    return problems


def test_every_route_declares_exactly_one_access_rule(demo_engine: Engine) -> None:
    app = create_app(demo_engine, SECRET)
    assert len([r for r in all_routes(app.routes) if isinstance(r, APIRoute)]) >= 15
    assert access_problems(app) == []


def test_the_guard_catches_a_route_that_forgot_its_access_rule(demo_engine: Engine) -> None:
    app = create_app(demo_engine, SECRET)
    careless = APIRouter()

    @careless.get("/forgotten")
    def forgotten() -> None:
        """A route someone added without saying who may call it."""

    @careless.get("/both")
    def both(viewer: PublicViewer, admin: AdminViewer) -> None:
        """A route that says two contradictory things."""

    app.include_router(careless)
    problems = access_problems(app)
    assert len(problems) == 2
    assert "/forgotten: none" in problems[0] and "/both" in problems[1]


def test_every_form_post_checks_the_csrf_token(demo_engine: Engine) -> None:
    app = create_app(demo_engine, SECRET)
    posts = [
        r for r in all_routes(app.routes) if isinstance(r, APIRoute) and "POST" in (r.methods or ())
    ]
    assert posts, "there should be form posts to check"
    for route in posts:
        calls = [d.call for d in route.dependant.dependencies]
        if route.path.startswith("/api/"):
            # The API authenticates by bearer token only and never reads the session cookie,
            # so a forged cross-site request carries no credentials to abuse.
            assert csrf_protect not in calls
            continue
        assert csrf_protect in calls, f"{route.path} accepts a form without checking CSRF"


def test_the_public_is_sent_to_sign_in_for_national_pages(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(varied_engine)
    for path in ("/national", "/account"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in?next=")
        assert response.text == ""


NATIONAL_ONLY_PAGES = ("/national", f"/pools/{YEAR}/returns")
"""Pages for national roles alone: an area's people are refused, whatever they hold."""


def test_local_roles_cannot_see_the_national_pages(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    for username in ("area", "finance", "signatory"):
        for path in NATIONAL_ONLY_PAGES:
            response = client_for(varied_engine, username).get(path)
            assert response.status_code == 403, (username, path)
            assert "audit" not in response.text.lower()
            assert "Version 2" not in response.text


def test_every_national_role_can_see_the_national_dashboard(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    for username in ("national", "assurer", "health", "localgov", "analyst"):
        response = client_for(varied_engine, username).get("/national")
        assert response.status_code == 200, username
        assert "Recent changes" in response.text


def _area_total(engine: Engine, version: int, code: str) -> int:
    with unit_of_work(engine) as session:
        shown = allocation.view(session, allocation.run_by_version(session, YEAR, version))
        return shown.area_total(code)


def test_an_area_user_cannot_see_another_areas_draft(
    varied_engine: Engine,
    client_for: ClientFor,
    area_codes: tuple[str, str],
    variation: Variation,
) -> None:
    own, _ = area_codes
    other = next(code for code in variation if code != own)
    with unit_of_work(varied_engine) as session:
        other_name = year_geography(session, YEAR).area(other).name
    draft_total = format_money(_area_total(varied_engine, 2, other))
    client = client_for(varied_engine, "area")

    page = client.get(f"/areas/{other}?year={YEAR}&version=2")
    assert page.status_code == 403
    assert other_name not in page.text
    assert draft_total not in page.text
    assert not re.search(r"£\d", page.text), "a refusal must not show any amount"

    whole = client.get(f"/allocations/{YEAR}?version=2")
    assert whole.status_code == 403
    assert draft_total not in whole.text

    for download in (f"/allocations/{YEAR}.csv?version=2", f"/allocations/{YEAR}.xlsx?version=2"):
        assert client.get(download).status_code == 403


def test_an_area_user_sees_their_own_areas_draft(
    varied_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    page = client_for(varied_engine, "area").get(f"/areas/{own}?year={YEAR}&version=2")
    assert page.status_code == 200
    assert "Draft" in page.text
    assert format_money(_area_total(varied_engine, 2, own)) in page.text


def test_the_public_never_sees_the_unpublished_version(
    varied_engine: Engine, client_for: ClientFor, variation: Variation
) -> None:
    client = client_for(varied_engine)
    published = format_money(_area_total(varied_engine, 1, variation[0]))
    draft = format_money(_area_total(varied_engine, 2, variation[0]))
    assert published != draft

    page = client.get(f"/allocations/{YEAR}")
    assert page.status_code == 200
    assert published in page.text and draft not in page.text
    assert "one penny moved" not in page.text, "the draft's reason must not show"
    assert "version=2" not in page.text

    area = client.get(f"/areas/{variation[0]}?year={YEAR}")
    assert published in area.text and draft not in area.text

    hidden = client.get(f"/allocations/{YEAR}?version=2")
    missing = client.get(f"/allocations/{YEAR}?version=99")
    assert hidden.status_code == missing.status_code == 404
    assert "one penny moved" not in hidden.text and draft not in hidden.text
    same = _main(hidden.text).replace("version 2 ", "version N ")
    assert same == _main(missing.text).replace("version 99 ", "version N "), (
        "a hidden version must read exactly like one that does not exist"
    )

    csv_text = client.get(f"/allocations/{YEAR}.csv").text
    assert csv_text.count("\n") > 100
    assert client.get(f"/allocations/{YEAR}.csv?version=2").status_code == 404


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def test_national_roles_see_the_draft_with_its_status(
    varied_engine: Engine, client_for: ClientFor, variation: Variation
) -> None:
    page = client_for(varied_engine, "analyst").get(f"/allocations/{YEAR}")
    assert page.status_code == 200
    assert "Draft" in page.text and "not published" in page.text
    assert format_money(_area_total(varied_engine, 2, variation[0])) in page.text
    assert "Approve" not in page.text, "only the national administrator may approve"


def test_only_the_national_administrator_may_change_a_status(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    for username in ("analyst", "area"):
        client = client_for(varied_engine, username)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text)
        assert token
        response = client.post(
            f"/allocations/{YEAR}/versions/2/status",
            data={"csrf_token": token.group(1), "target": AllocationStatus.APPROVED.value},
        )
        assert response.status_code == 403
    with unit_of_work(varied_engine) as session:
        assert allocation.run_by_version(session, YEAR, 2).status == AllocationStatus.DRAFT


def test_a_deactivated_account_loses_its_session(
    fresh_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(fresh_engine, "analyst")
    assert client.get("/national").status_code == 200
    with unit_of_work(fresh_engine) as session:
        accounts.deactivate_user(session, "analyst", SYSTEM)
    response = client.get("/national", follow_redirects=False)
    assert response.status_code == 303
