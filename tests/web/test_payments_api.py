"""Payments in the JSON API: where they stand and every run for national roles, an explanation
for everyone (the public's under publication control, and only once paid), and the national
team's steps, each needing a token whose owner may take it.

The world (``payment_fixtures``): 2015-16 Q1 paid, Q2 drafted by ``national``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import Engine

from carepool.accounts import service as accounts
from carepool.domain.disclosure import round_to_base
from carepool.domain.roles import SYSTEM
from carepool.payments.schemas import ExplanationOut, StatusOut
from carepool.payments.service import explain as explanations
from carepool.payments.service import status as standing
from carepool.store.db import unit_of_work
from carepool.web.app import create_app

if TYPE_CHECKING:
    from payment_fixtures import PaymentWorld

pytest_plugins = ("payment_fixtures",)

YEAR = "2015-16"
ClientFor = Callable[..., Any]
USERS = ("national", "national2", "analyst", "health", "finance")
SECRET = "test-secret-key-for-carepool-web-tests-only"
CHECKS = [not_a_server_error, response_schema_conformance]
SETTINGS = settings(
    max_examples=3,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _tokens(engine: Engine) -> dict[str, str]:
    with unit_of_work(engine) as session:
        return {name: accounts.create_token(session, name, "api test", SYSTEM) for name in USERS}


@pytest.fixture(scope="module")
def tokens(payment_engine: Engine) -> dict[str, str]:
    return _tokens(payment_engine)


@pytest.fixture
def fresh(fresh_payment_engine: Engine) -> Iterator[tuple[Engine, dict[str, str]]]:
    yield fresh_payment_engine, _tokens(fresh_payment_engine)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_of(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    return message


def test_the_status_is_the_commands_shape_for_national_roles_only(
    payment_engine: Engine, tokens: dict[str, str], client_for: ClientFor
) -> None:
    client = client_for(payment_engine)
    found = client.get(f"/api/v1/payments/{YEAR}", headers=bearer(tokens["analyst"]))

    assert found.status_code == 200
    with unit_of_work(payment_engine) as session:
        expected = StatusOut.of(YEAR, standing.status(session, YEAR))
    assert found.json() == expected.model_dump(mode="json")
    assert {p["quarter"] for p in found.json()["payments"]} == {f"{YEAR} Q1", f"{YEAR} Q2"}
    error_of(client.get(f"/api/v1/payments/{YEAR}"), 401, "unauthenticated")
    forbidden = client.get(f"/api/v1/payments/{YEAR}", headers=bearer(tokens["finance"]))
    error_of(forbidden, 403, "forbidden")


def test_every_run_is_listed_with_its_status(
    payment_engine: Engine, tokens: dict[str, str], client_for: ClientFor
) -> None:
    found = client_for(payment_engine).get(
        f"/api/v1/payments/{YEAR}/runs", headers=bearer(tokens["health"])
    )

    assert found.status_code == 200
    runs = found.json()["runs"]
    assert [(r["label"], r["status"]) for r in runs] == [
        (f"{YEAR} Q1 v1", "Paid"),
        (f"{YEAR} Q2 v1", "Draft"),
    ]
    assert all(r["totals"]["released_pence"] <= r["totals"]["pot_pence"] for r in runs)


def test_an_explanation_is_whole_for_the_area_and_published_for_the_public(
    payment_engine: Engine,
    payment_world: PaymentWorld,
    tokens: dict[str, str],
    client_for: ClientFor,
) -> None:
    path = f"/api/v1/payments/{YEAR}/{payment_world.own}/Q1"
    client = client_for(payment_engine)
    whole = client.get(path, headers=bearer(tokens["finance"])).json()
    public = client.get(path).json()

    with unit_of_work(payment_engine) as session:
        expected = ExplanationOut.of(explanations.explain(session, YEAR, payment_world.own, 1))
    assert whole == expected.model_dump(mode="json")
    assert whole["reproduced"] and public["reproduced"]
    assert "ledger_entries" not in public and "audit_events" not in public
    assert all(set(step) == {"action", "at"} for step in public["run_steps"])
    exact = int(whole["payment"]["actual"])
    assert public["payment"]["actual"] == round_to_base(exact)
    for amount in ("pot_pence", "released_pence", "retained_pence"):
        assert public["payment"][amount] == whole["payment"][amount]
    assert public["posted_on"] == sorted({e["date"] for e in whole["ledger_entries"]})


def test_the_public_never_sees_a_small_count_or_an_unpaid_payment(
    payment_engine: Engine,
    payment_world: PaymentWorld,
    tokens: dict[str, str],
    client_for: ClientFor,
) -> None:
    client = client_for(payment_engine)
    small = client.get(f"/api/v1/payments/{YEAR}/{payment_world.small}/Q1").json()
    unpaid = client.get(f"/api/v1/payments/{YEAR}/{payment_world.own}/Q2")
    drafted = client.get(
        f"/api/v1/payments/{YEAR}/{payment_world.own}/Q2", headers=bearer(tokens["finance"])
    )

    assert small["payment"]["actual"] is None and small["payment"]["withheld"] is True
    assert "− [c])" in small["working"] and "− 5)" not in small["working"]
    assert "published once it has been paid" in error_of(unpaid, 404, "not_found")
    assert drafted.status_code == 200 and drafted.json()["run_status"] == "Draft"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/payments/1999-00/E06000052/Q1", "there is no programme year"),
        (f"/api/v1/payments/{YEAR}/E99999999/Q1", "no HWB area 'E99999999'"),
        (f"/api/v1/payments/{YEAR}/{{own}}/Q9", "'Q9' is not a quarter"),
    ],
)
def test_a_bad_year_area_or_quarter_is_not_found(
    path: str,
    message: str,
    payment_engine: Engine,
    payment_world: PaymentWorld,
    client_for: ClientFor,
) -> None:
    response = client_for(payment_engine).get(path.format(own=payment_world.own))
    assert message in error_of(response, 404, "not_found")


def test_the_national_team_takes_a_quarter_through_its_steps_with_four_eyes(
    fresh: tuple[Engine, dict[str, str]], client_for: ClientFor
) -> None:
    engine, tokens = fresh
    client = client_for(engine)
    runs = f"/api/v1/payments/{YEAR}/runs"

    def step(user: str, action: str, **body: Any) -> Any:
        return client.post(f"{runs}/Q2/{action}", json=body or None, headers=bearer(tokens[user]))

    own_check = step("national", "check")
    assert "national drafted this run" in error_of(own_check, 409, "illegal_transition")
    error_of(step("health", "check"), 403, "forbidden")
    stale = step("analyst", "check", version=2)
    assert "you acted on version 2" in error_of(stale, 409, "conflict")
    checked = step("analyst", "check", version=1)
    assert checked.status_code == 200 and checked.json()["status"] == "Checked"
    error_of(step("analyst", "approve"), 403, "forbidden")
    error_of(step("national2", "send-back", version=1, reason=" "), 409, "illegal_transition")
    approved = step("health", "approve")
    assert approved.json()["status"] == "Approved"
    error_of(step("analyst", "pay"), 403, "forbidden")
    paid = step("national", "pay", version=1)
    assert paid.status_code == 200, paid.text
    body = paid.json()
    assert body["run"]["status"] == "Paid" and not body["already"]
    assert sum(len(ids) for ids in body["entries"].values()) > 0
    again = step("national", "pay")
    assert again.json()["already"] is True and again.json()["entries"] == {}


def test_drafting_needs_an_administrator_and_gives_back_the_same_run_for_the_same_inputs(
    fresh: tuple[Engine, dict[str, str]], client_for: ClientFor
) -> None:
    engine, tokens = fresh
    client = client_for(engine)
    runs = f"/api/v1/payments/{YEAR}/runs"

    refused = client.post(runs, json={"quarter": "Q2"}, headers=bearer(tokens["analyst"]))
    same = client.post(runs, json={"quarter": "Q2"}, headers=bearer(tokens["national2"]))
    nothing = client.post(runs, json={"quarter": "Q3"}, headers=bearer(tokens["national"]))
    bad = client.post(runs, json={"quarter": "Q7"}, headers=bearer(tokens["national"]))

    error_of(refused, 403, "forbidden")
    assert same.status_code == 200 and same.json()["created"] is False
    assert same.json()["run"]["label"] == f"{YEAR} Q2 v1"
    assert "no area can be paid" in error_of(nothing, 404, "not_found")
    assert "'Q7' is not a quarter" in error_of(bad, 404, "not_found")
    error_of(client.post(runs, json={"quarter": "Q2"}), 401, "unauthenticated")


def test_every_payment_operation_keeps_to_its_schema_with_real_runs(
    fresh: tuple[Engine, dict[str, str]], payment_world: PaymentWorld
) -> None:
    """As ``test_api_schema``, but over runs that exist: generated values, then the real year,
    areas and quarters, as a national administrator and as the public."""
    engine, tokens = fresh
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(engine, SECRET))
    operations = [
        result.ok() for result in schema.get_all_operations() if "/payments" in result.ok().path
    ]
    assert len(operations) == 8
    known = {"year": YEAR, "area_code": payment_world.own}
    for operation in operations:
        for headers in (bearer(tokens["national"]), {}):
            _generated(operation, headers)
            names = [p.name for p in operation.path_parameters]
            for quarter in ("Q1", "Q2"):
                values = {**known, "quarter": quarter}
                real = operation.Case(path_parameters={n: values[n] for n in names})
                real.call_and_validate(headers=headers, checks=CHECKS)


def _generated(operation: Any, headers: dict[str, str]) -> None:
    @SETTINGS
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()
