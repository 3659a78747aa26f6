"""Whole numbers in a URL beyond what the database holds: refused saying why, never a 500.

The API answers 422 and a page 400, each naming the largest number allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine

from carepool.web.params import MAX_ID

if TYPE_CHECKING:
    from pool_fixtures import PoolWorld

pytest_plugins = ("pool_fixtures",)

YEAR = "2015-16"
ClientFor = Callable[..., Any]
HUGE = 2**63  # one more than a signed 64-bit integer holds
TOO_BIG = (HUGE, MAX_ID + 1)


@pytest.mark.parametrize("number", TOO_BIG)
def test_an_allocation_version_too_large_is_refused(
    number: int, varied_engine: Engine, area_codes: tuple[str, str], client_for: ClientFor
) -> None:
    client = client_for(varied_engine, raise_server_exceptions=False)
    own, _ = area_codes
    for path in (
        f"/allocations/{YEAR}",
        f"/allocations/{YEAR}.csv",
        f"/allocations/{YEAR}.xlsx",
        f"/areas/{own}",
        f"/api/v1/allocations/{YEAR}",
        f"/api/v1/allocations/{YEAR}/areas/{own}",
    ):
        response = client.get(f"{path}?version={number}")
        refused = 422 if path.startswith("/api/") else 400  # a page's bad values are a 400
        assert response.status_code == refused, f"{path}: {response.status_code}"
        assert f"{MAX_ID}" in response.text, path
    assert client.get(f"/allocations/{YEAR}?version={MAX_ID}").status_code == 404


@pytest.mark.parametrize("number", TOO_BIG)
def test_a_ledger_entry_id_too_large_is_refused(
    number: int, pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    client = client_for(pool_engine, "finance", raise_server_exceptions=False)
    base = f"/pools/{YEAR}/{pool_world.own}/entries"
    response = client.get(f"{base}/{number}")
    assert response.status_code == 400 and f"{MAX_ID}" in response.text
    assert client.get(f"{base}/{MAX_ID}").status_code == 404
