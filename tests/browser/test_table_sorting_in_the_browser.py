"""A long public table sorted and filtered in a real browser, with JavaScript on.

The allocation's every-area table is marked ``data-sortable data-filterable``; ``tables.js``
turns its headers into buttons and puts a labelled filter above it. Sorting by the total (a
money column) must order the rows by amount both ways, not as text, and say so in
``aria-sort``; the filter must hide every row that does not contain what is typed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from browser_support import CHROMIUM_ARGS, chromium, serving
from playwright.sync_api import Page, expect, sync_playwright

from carepool.store.db import engine_for
from carepool.web.app import create_app

pytestmark = pytest.mark.browser

YEAR = "2015-16"
TABLE = "#area-table"


@pytest.fixture(scope="module")
def base_url(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("browser-tables") / "demo.db"
    shutil.copyfile(demo_db_file, path)
    engine = engine_for(f"sqlite:///{path}")
    with serving(create_app(engine, "browser-test-secret")) as url:
        yield url
    engine.dispose()


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Page]:
    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url)
        yield context.new_page()
        context.close()
        browser.close()


def _pounds(text: str) -> Decimal:
    return Decimal(text.replace("£", "").replace(",", ""))


def _column(page: Page, index: int) -> list[str]:
    cells = page.locator(f"{TABLE} tbody tr:visible > :nth-child({index})")
    return [text.strip() for text in cells.all_inner_texts()]


def test_a_money_column_sorts_by_amount_both_ways(page: Page) -> None:
    page.goto(f"/allocations/{YEAR}")
    headers = page.locator(f"{TABLE} thead th")
    total = headers.last
    count = headers.count()
    expect(total.locator("button")).to_have_count(1)
    expect(total).to_have_attribute("aria-sort", "none")
    rows = page.locator(f"{TABLE} tbody tr").count()
    assert rows > 100

    total.locator("button").click()
    expect(total).to_have_attribute("aria-sort", "ascending")
    ascending = [_pounds(t) for t in _column(page, count)]
    assert len(ascending) == rows
    assert ascending == sorted(ascending)
    assert ascending != sorted(ascending, key=str), "sorted as amounts, not as text"

    total.locator("button").click()
    expect(total).to_have_attribute("aria-sort", "descending")
    descending = [_pounds(t) for t in _column(page, count)]
    assert descending == sorted(ascending, reverse=True)

    area = headers.first
    area.locator("button").click()
    expect(area).to_have_attribute("aria-sort", "ascending")
    expect(total).to_have_attribute("aria-sort", "none")
    names = _column(page, 1)
    assert names == sorted(names, key=str.casefold)


def test_the_filter_shows_only_matching_rows(page: Page) -> None:
    page.goto(f"/allocations/{YEAR}")
    every = page.locator(f"{TABLE} tbody tr").count()
    chosen = _column(page, 1)[0]
    box = page.get_by_label("Show only rows containing")
    box.fill(chosen.lower())
    shown = _column(page, 1)
    assert chosen in shown and 0 < len(shown) < every
    assert all(chosen.lower() in name.lower() for name in shown)
    expect(page.locator(f"{TABLE}-filter-status")).to_have_text(
        f"Showing {len(shown)} of {every} rows"
    )
    box.fill("")
    assert len(_column(page, 1)) == every
