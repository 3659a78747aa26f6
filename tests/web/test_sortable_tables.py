"""The long tables are marked for sorting and filtering, and the page loads the script that
does it; without the script they are the same tables, whole, in the page's own order.

A metric's every-area table needs a complete year of values, which the payment world has not:
its mark is checked with the page in ``test_metric_pages``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine
from test_pages_html import check_page, parse

pytest_plugins = ("payment_fixtures",)

YEAR = "2015-16"
ClientFor = Callable[..., Any]

MARKED = [
    (None, f"/allocations/{YEAR}", "area-table"),
    (None, f"/plans/{YEAR}", "approved-table"),
    ("analyst", f"/plans/{YEAR}", "area-table"),
    (None, f"/payments/{YEAR}", "payments-table"),
    ("analyst", f"/payments/{YEAR}", "payments-table"),
    (None, "/substitution", "councils-table"),
    ("analyst", f"/pools/{YEAR}/returns", "returns-table"),
]


@pytest.mark.parametrize(("username", "path", "table_id"), MARKED)
def test_each_long_table_is_marked_sortable_and_filterable(
    username: str | None, path: str, table_id: str, payment_engine: Engine, client_for: ClientFor
) -> None:
    response = client_for(payment_engine, username).get(path)
    assert response.status_code == 200, path
    check_page(response.text, path)
    tree = parse(response.text)
    table = tree.find(f".//table[@id='{table_id}']")
    assert table is not None, f"{path}: no table {table_id}"
    assert table.get("data-sortable") == "" and table.get("data-filterable") == ""
    assert len(table.findall(".//tbody/tr")) > 1, f"{path}: {table_id} has no rows to sort"
    scripts = [s.get("src") for s in tree.iter("script")]
    assert scripts == ["/static/tables.js"]


def test_the_script_is_served_from_the_site_itself(
    payment_engine: Engine, client_for: ClientFor
) -> None:
    served = client_for(payment_engine).get("/static/tables.js")
    assert served.status_code == 200
    assert "javascript" in served.headers["content-type"]
    assert "data-sortable" in served.text and "aria-sort" in served.text
