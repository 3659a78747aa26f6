"""The OpenAPI document tells the truth: schemathesis calls every ``/api/v1`` operation with
values drawn from the document and checks that none gives a server error and every response
matches the schema the route declares.

The app runs in-process over a copy of the pool world (the demo nation, its plans, pools with
entries and a return), called with a national role's token so the protected routes answer
with data, not only 401. Examples are few and derandomised, so the test is quick and repeats.
Beside the generated values, each operation is also called with real year and area codes
(``_real_paths``), since random text only reaches the 404 paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import Engine

from carepool.accounts import service as accounts
from carepool.domain.roles import SYSTEM
from carepool.store.db import unit_of_work
from carepool.web.app import create_app

if TYPE_CHECKING:
    from pool_fixtures import PoolWorld

pytest_plugins = ("pool_fixtures",)

SECRET = "test-secret-key-for-carepool-web-tests-only"
YEAR = "2015-16"
CHECKS = [not_a_server_error, response_schema_conformance]
TIMEOUT = 120  # seconds; a national view of every pool is slow on a busy test machine


@pytest.fixture(scope="module")
def national_token(pool_engine: Engine) -> str:
    with unit_of_work(pool_engine) as session:
        return accounts.create_token(session, "national", "schemathesis", SYSTEM)


SETTINGS = settings(
    max_examples=4,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def test_every_operation_keeps_to_its_schema(
    pool_engine: Engine, national_token: str, pool_world: PoolWorld
) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(pool_engine, SECRET))
    headers = {"Authorization": f"Bearer {national_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 15

    for operation in operations:

        @SETTINGS
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=TIMEOUT)

        call()
        for real in _real_paths(operation, pool_world):
            real.call_and_validate(headers=headers, checks=CHECKS, timeout=TIMEOUT)


def _real_paths(operation: Any, world: PoolWorld) -> list[Any]:
    """The operation called with a year and area the pool world holds (random text only
    reaches the 404 paths)."""
    names = [p.name for p in operation.path_parameters]
    if not names:
        return []
    known = {"year": YEAR, "area": world.own, "code": world.own, "area_code": world.own}
    if not set(names) <= set(known):
        return []
    return [operation.Case(path_parameters={n: known[n] for n in names})]
