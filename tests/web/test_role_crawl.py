"""Every link a person is shown opens for them: a crawl of the app as each demo account.

Starting from the start page and the task page, the crawl follows every link on every page
it reaches, as each of the demo's accounts (one per role). Per-area pages share a route, so
it fetches one address per route pattern (``/pools/{year}/{area}``), which covers every kind
of page without fetching thousands. A link that answers 403 means the page's links and its
route disagree about who may open it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from test_routes_guard import all_routes
from test_tasks import DEMO_USERNAMES

from carepool.domain.roles import PUBLIC, Principal, principal
from carepool.web.navigation import menu

ClientFor = Callable[..., Any]
HREF = re.compile(r'<a [^>]*href="([^"#]*)(?:#[^"]*)?"')
STARTS = ("/", "/tasks")
NOT_PAGES = ("/static/", "/assets/")


def _patterns(app: FastAPI) -> list[APIRoute]:
    return [r for r in all_routes(app.routes) if isinstance(r, APIRoute) and "GET" in r.methods]


def pattern_of(routes: list[APIRoute], path: str) -> str | None:
    """The route pattern that serves ``path`` (the first that matches, as the app picks)."""
    return next((r.path for r in routes if r.path_regex.match(path)), None)


def links(html: str, base: str) -> Iterator[str]:
    """This service's addresses the page links to, without fragments."""
    for href in HREF.findall(html):
        target = urljoin(base, href.replace("&amp;", "&"))
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if parts.path.startswith(NOT_PAGES):
            continue
        yield parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client: Any, routes: list[APIRoute]) -> tuple[dict[str, int], list[str]]:
    """Fetch one address per route pattern reachable by links; the status of each pattern
    and the refused links as ``page -> link``."""
    seen: dict[str, int] = {}
    refused: list[str] = []
    queue: deque[tuple[str, str]] = deque((start, "(start)") for start in STARTS)
    while queue:
        target, source = queue.popleft()
        pattern = pattern_of(routes, urlsplit(target).path)
        if pattern is None or pattern in seen:
            continue
        response = client.get(target)
        seen[pattern] = response.status_code
        if response.status_code == 403:
            refused.append(f"{source} -> {target}")
        if "text/html" in response.headers.get("content-type", ""):
            queue.extend((link, target) for link in links(response.text, target))
    return seen, refused


MUST_REACH = {
    "national": {"/national", "/pools/{year}", "/pools/{year}/returns", "/tasks"},
    "analyst": {"/national", "/pools/{year}/returns"},
    "finance": {"/pools/{year}", "/pools/{year}/{area}/returns/{quarter}"},
    "chair": {"/pools/{year}"},
    "coordinator": {"/budgets/{area}/people", "/budgets/{area}/people/{reference}"},
}
"""Pages each account must reach by links, so the crawl cannot pass by going nowhere."""
MUST_NOT_REACH = {
    "area": {"/national", "/pools/{year}"},
    "signatory": {"/national", "/pools/{year}"},
    "finance": {"/national"},
    "chair": {"/national"},
    "coordinator": {"/national", "/pools/{year}"},
}
"""Pages whose links these accounts must not be shown at all."""


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_no_demo_account_is_shown_a_link_it_may_not_open(
    demo_engine: Engine, client_for: ClientFor, username: str
) -> None:
    client = client_for(demo_engine, username)
    seen, refused = crawl(client, _patterns(client.app))
    assert refused == []
    assert {"/tasks", "/plans/{year}", "/plans/{year}/{area}"} <= set(seen)
    assert MUST_REACH.get(username, set()) <= set(seen)
    assert not MUST_NOT_REACH.get(username, set()) & set(seen)


def _menu(viewer: Principal, signed_in: bool = True) -> list[str]:
    return [link.text for link in menu(viewer, signed_in)]


def test_the_menu_shows_each_role_the_pages_it_may_open() -> None:
    commissioner = principal("s", "s", ["area_signatory:E06000001:E38000001"])
    chair = principal("c", "c", ["area_signatory:E06000001:HWB"])
    assert "Pooled budgets" not in _menu(commissioner)
    assert "Pooled budgets" in _menu(chair)
    assert "National dashboard" in _menu(principal("a", "a", ["analyst"]))
    assert "National dashboard" not in _menu(principal("f", "f", ["pool_finance:E06000001"]))
    assert "Sign in" in _menu(PUBLIC, signed_in=False)
    assert "Your tasks" not in _menu(PUBLIC, signed_in=False)
    # An error page is rendered without its viewer: someone signed in still gets their own
    # links, and no role's.
    after_error = _menu(PUBLIC, signed_in=True)
    assert "Your tasks" in after_error and "Sign in" not in after_error
    assert "Pooled budgets" not in after_error


def test_a_signed_in_persons_error_page_does_not_offer_to_sign_in(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    missing = client_for(demo_engine, "finance").get("/frameworks/1999-00")
    assert missing.status_code == 404
    assert 'href="/tasks"' in missing.text and 'href="/sign-in"' not in missing.text
