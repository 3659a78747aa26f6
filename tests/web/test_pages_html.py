"""Every page, for every audience, is valid HTML with one heading, a title and labelled parts.

Each page is parsed by html5lib in strict mode, so any parse error (a stray end tag, a
misnested table, a duplicate attribute) fails the test. The accessibility basics that can be
checked mechanically are checked on every page too: one ``<h1>``, a ``<title>``, a label for
every visible input, a caption on every table, and a title and description on every chart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
import pytest
from sqlalchemy import Engine

from carepool.accounts import service as accounts
from carepool.domain.roles import SYSTEM
from carepool.store.db import engine_for, migrate, unit_of_work

YEAR = "2015-16"
ClientFor = Callable[..., Any]

PUBLIC_PAGES = [
    "/",
    "/frameworks",
    "/frameworks/2015-16",
    "/frameworks/2017-19",
    "/frameworks/2014-15",
    "/frameworks/2016-17",
    "/frameworks/2019-20",
    "/frameworks/2020-21",
    "/frameworks/2021-22",
    "/frameworks/2022-23",
    "/frameworks/2023-25",
    "/frameworks/2025-26",
    "/allocations",
    "/allocations/2015-16",
    "/allocations/2017-19",
    "/areas/{own}?year=2015-16",
    "/areas/{other}?year=2017-19",
    "/areas/{own}",
    "/payments/2015-16",
    "/payments/2017-19",
    "/payments/2015-16/{own}",
    "/substitution",
    "/substitution?sort=change",
    "/substitution/{own}",
    "/pooling",
    "/pooling?year=2017-18",
    "/pooling/{own}",
    "/open-data",
    "/sign-in",
    "/accessibility",
    "/privacy",
    "/contact",
    "/api/docs",
    "/areas",
    "/areas?q=no-such-area",
    "/areas/{own}/scorecard?year=2015-16",
    "/areas/{own}/history",
    "/history",
    "/budgets",
    "/budgets?quarter=2015-16-Q2",
    "/budgets/{own}",
]
SIGNED_IN_PAGES = ["/account"]
NATIONAL_PAGES = [
    "/national",
    "/allocations/2015-16?version=2",
    "/allocations/2015-16?version=1",
    "/pools/2015-16/returns",
]
AREA_PAGES = ["/areas/{own}?year=2015-16&version=2"]
BUDGET_PAGES = [
    "/budgets/{own}",
    "/budgets/{own}/people",
    "/budgets/{own}/people?status=active&holding=direct_payment",
    "/budgets/{own}/people/new",
    "/budgets/{own}/transactions",
]
ERROR_PAGES = [
    ("/no-such-page", 404),
    ("/frameworks/1999-00", 404),
    ("/areas/E99999999?year=2015-16", 404),
    ("/allocations/2015-16?version=99", 404),
    ("/allocations/2015-16?version=many", 400),
]

AUDIENCES = {
    None: PUBLIC_PAGES,
    "national": PUBLIC_PAGES + SIGNED_IN_PAGES + NATIONAL_PAGES,
    "analyst": SIGNED_IN_PAGES + NATIONAL_PAGES,
    "area": PUBLIC_PAGES + SIGNED_IN_PAGES + AREA_PAGES,
    "finance": SIGNED_IN_PAGES + AREA_PAGES + BUDGET_PAGES[2:3],
    "coordinator": SIGNED_IN_PAGES + BUDGET_PAGES,
}


def parse(html: str) -> Element:
    """The page as a tree, or a failure naming the first thing html5lib could not accept."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        return parser.parse(html)  # type: ignore[no-any-return]
    except html5lib.html5parser.ParseError as error:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(error))) else 0
        context = "\n".join(html.splitlines()[max(0, line - 3) : line + 2])
        pytest.fail(f"HTML parse error: {error}\n{context}")


def check_page(html: str, where: str) -> None:
    tree = parse(html)
    h1s = tree.findall(".//h1")
    assert len(h1s) == 1, f"{where}: {len(h1s)} <h1> elements"
    title = tree.find(".//head/title")
    assert title is not None and (title.text or "").strip(), f"{where}: no <title>"
    assert tree.get("lang") == "en"
    assert tree.find(".//a[@href='#main-content']") is not None, f"{where}: no skip link"
    assert tree.find(".//main[@id='main-content']") is not None
    _check_labels(tree, where)
    _check_tables(tree, where)
    _check_charts(tree, where)
    ids = [element.get("id") for element in tree.iter() if element.get("id")]
    assert len(ids) == len(set(ids)), f"{where}: repeated ids"


def _check_labels(tree: Element, where: str) -> None:
    labelled = {label.get("for") for label in tree.iter("label")}
    for field in [*tree.iter("input"), *tree.iter("textarea"), *tree.iter("select")]:
        if field.get("type") in ("hidden", "submit"):
            continue
        assert field.get("id") in labelled, f"{where}: {field.get('name')} has no label"


def _check_tables(tree: Element, where: str) -> None:
    for table in tree.iter("table"):
        caption = table.find("caption")
        assert caption is not None and "".join(caption.itertext()).strip(), (
            f"{where}: a table without a caption"
        )


def _check_charts(tree: Element, where: str) -> None:
    svg = "{http://www.w3.org/2000/svg}"
    for chart in tree.iter(f"{svg}svg"):
        assert chart.get("role") == "img", f"{where}: chart without role=img"
        title, desc = chart.find(f"{svg}title"), chart.find(f"{svg}desc")
        assert title is not None and title.text and desc is not None and desc.text
        assert chart.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        chart_id = (title.get("id") or "").removesuffix("-title")
        table = tree.find(f".//table[@id='{chart_id}-table']")
        assert table is not None, f"{where}: a chart without its table of figures"


@pytest.mark.parametrize("username", list(AUDIENCES), ids=lambda u: u or "public")
def test_every_page_is_valid_html(
    username: str | None,
    varied_engine: Engine,
    client_for: ClientFor,
    area_codes: tuple[str, str],
) -> None:
    own, other = area_codes
    client = client_for(varied_engine, username)
    for template in AUDIENCES[username]:
        path = template.format(own=own, other=other)
        response = client.get(path)
        assert response.status_code == 200, f"{path} as {username}: {response.status_code}"
        assert response.headers["content-type"].startswith("text/html")
        check_page(response.text, f"{path} as {username or 'public'}")


def test_error_pages_are_valid_html(varied_engine: Engine, client_for: ClientFor) -> None:
    client = client_for(varied_engine)
    for path, status in ERROR_PAGES:
        response = client.get(path)
        assert response.status_code == status, path
        check_page(response.text, path)


def test_refusals_are_valid_html(
    varied_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    _, other = area_codes
    client = client_for(varied_engine, "area")
    for path in ("/national", f"/areas/{other}?year={YEAR}&version=2"):
        response = client.get(path)
        assert response.status_code == 403
        check_page(response.text, path)


def test_sign_in_errors_are_valid_html(
    varied_engine: Engine, client_for: ClientFor, csrf_of: Callable[[str], str]
) -> None:
    client = client_for(varied_engine)
    token = csrf_of(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"csrf_token": token, "username": "", "password": ""})
    assert response.status_code == 400
    check_page(response.text, "sign-in with errors")
    assert parse(response.text).find(".//head/title").text.startswith("Error: ")  # type: ignore[union-attr]


def test_pages_on_a_database_without_allocations_are_valid_html(
    tmp_path: Path, client_for: ClientFor, sign_in: Callable[..., None]
) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate(engine)
    with unit_of_work(engine) as session:
        accounts.create_user(session, "admin", "a-long-password", ["national_admin"], SYSTEM)
    public = client_for(engine)
    missing = public.get(f"/allocations/{YEAR}")
    assert missing.status_code == 404
    assert "has not been published yet" in missing.text
    check_page(missing.text, "no allocation, public")

    national = client_for(engine)
    sign_in(national, "admin", "a-long-password")
    helpful = national.get(f"/allocations/{YEAR}")
    assert helpful.status_code == 200
    assert f"carepool allocate {YEAR}" in helpful.text
    check_page(helpful.text, "no allocation, national")
    for path in ("/", "/frameworks/2015-16", "/national", "/account", "/budgets"):
        response = national.get(path)
        assert response.status_code == 200, path
        check_page(response.text, f"{path} on an empty database")
