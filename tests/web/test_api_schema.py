"""The OpenAPI document tells the truth: it declares the bearer tokens the API reads, bounds
every parameter as the code bounds it, and schemathesis, calling every ``/api/v1`` operation
with values drawn from the document and the token it declares, finds no server error and no
response, status or media type that the document does not describe.

The app runs in-process over a copy of the pool world (the demo nation, its plans, pools with
entries and a return); the declared ``bearerToken`` is a national administrator's, so the
protected routes answer with data, not only 401. Examples are derandomised, so the run
repeats. A quarter of them have the year, area and the like set to ones the pool world holds
(``_known``), since random text only reaches the 404 paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine
from test_routes_guard import all_routes

from carepool.accounts import service as accounts
from carepool.domain.roles import SYSTEM
from carepool.store.db import unit_of_work
from carepool.web.app import create_app
from carepool.web.auth import ApiRoute
from carepool.web.params import MAX_ID

if TYPE_CHECKING:
    from pool_fixtures import PoolWorld

pytest_plugins = ("pool_fixtures",)

SECRET = "test-secret-key-for-carepool-web-tests-only"
YEAR = "2015-16"
SCHEME = "bearerToken"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
    negative_data_rejection,
]
READ_CHECKS = [*CHECKS, positive_data_acceptance]
"""A read that the document allows is answered, or is a 404 for something that is not there;
never refused as malformed (400, 422). Writes can be refused by the rules (a plan with
problems cannot be sent for sign-off), which no schema states, so they are not held to it."""
UNPAID = "GET /api/v1/payments/{year}/{area_code}/{quarter}"
"""The pool world has paid no quarter, so a payment's explanation is a 404 there."""
TIMEOUT = 120  # seconds; a national view of every pool is slow on a busy test machine

SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def national_token(pool_engine: Engine) -> str:
    with unit_of_work(pool_engine) as session:
        return accounts.create_token(session, "national", "schemathesis", SYSTEM)


@pytest.fixture(scope="module")
def client(pool_engine: Engine) -> Iterator[TestClient]:
    made = TestClient(create_app(pool_engine, SECRET))
    yield made
    made.close()


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    found: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    return found


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _whole_numbers(
    document: dict[str, Any], schema: dict[str, Any], where: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every integer schema inside ``schema``, named by where it is."""
    schema = _resolve(document, schema)
    if schema.get("type") == "integer":
        yield where, schema
    for choice in schema.get("anyOf", []):
        yield from _whole_numbers(document, choice, where)
    for name, inner in schema.get("properties", {}).items():
        yield from _whole_numbers(document, inner, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _whole_numbers(document, schema["items"], f"{where}[]")


def test_the_document_declares_the_bearer_token(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"][SCHEME]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    security = {name: op.get("security") for name, op in _operations(document)}
    assert all({SCHEME: []} in declared for declared in security.values() if declared), security
    assert None not in security.values()
    # A route open to the public also answers without a token; one that is not needs it.
    assert security["GET /api/v1/frameworks"] == [{SCHEME: []}, {}]
    assert security["GET /api/v1/plans/{year}/{area}"] == [{SCHEME: []}, {}]
    assert security["GET /api/v1/pools/{year}"] == [{SCHEME: []}]
    assert security["PUT /api/v1/plans/{year}/{area}/content"] == [{SCHEME: []}]


def test_a_malformed_authorization_header_is_still_refused(client: TestClient) -> None:
    for header in ("Basic bmF0aW9uYWw6eA==", "Bearer ", "cp_token-without-a-scheme"):
        response = client.get("/api/v1/frameworks", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["error"]["code"] == "unauthenticated"
    assert client.get("/api/v1/frameworks").status_code == 200


def _open(schema: dict[str, Any]) -> bool:
    """Whether an integer schema lets through a number no database column holds (2**63)."""
    if "enum" in schema:
        return False
    return not ("minimum" in schema and "maximum" in schema and schema["maximum"] < 2**63)


def test_every_whole_number_the_api_reads_is_bounded(document: dict[str, Any]) -> None:
    unbounded = []
    for name, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            where = f"{name} {parameter['name']}"
            unbounded += [
                w for w, s in _whole_numbers(document, parameter["schema"], where) if _open(s)
            ]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            where = f"{name} body"
            unbounded += [w for w, s in _whole_numbers(document, body["schema"], where) if _open(s)]
    assert unbounded == []
    ids = document["paths"]["/api/v1/plans/{year}/{area}/versions/{number}"]["get"]["parameters"]
    assert ids[-1]["schema"]["maximum"] == MAX_ID  # an id or version: what an INTEGER holds


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/plans/{year}/{area}/versions/9223372036854775808", None),
        ("get", "/api/v1/plans/{year}/{area}/compare?from=1&to=9223372036854775808", None),
        ("get", "/api/v1/allocations/{year}?version=9223372036854775808", None),
        ("post", "/api/v1/plans/{year}/{area}/actions/sign", {"condition_id": 2**63}),
        ("post", "/api/v1/plans/{year}/{area}/actions/sign", {"lock_version": 2**63}),
        ("post", "/api/v1/payments/{year}/runs/Q1/check", {"version": 2**63}),
    ],
)
def test_a_version_or_id_past_the_largest_is_refused_at_the_edge(
    client: TestClient,
    pool_world: PoolWorld,
    national_token: str,
    method: str,
    path: str,
    body: dict[str, int] | None,
) -> None:
    url = path.format(year=YEAR, area=pool_world.own)
    headers = {"Authorization": f"Bearer {national_token}"}
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_quarter_is_declared_as_the_code_reads_it(
    document: dict[str, Any], client: TestClient, pool_world: PoolWorld, national_token: str
) -> None:
    path = "/api/v1/pools/{year}/{area}/returns/{quarter}"
    [quarter] = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "quarter"]
    assert "pattern" in quarter["schema"]
    url = f"/api/v1/pools/{YEAR}/{pool_world.own}/returns"
    headers = {"Authorization": f"Bearer {national_token}"}
    refused = client.get(f"{url}/0", headers=headers)  # not a quarter's form, as the schema says
    assert refused.status_code == 422, refused.text
    for missing in ("2015-17-Q2", "2016-17-Q1"):  # the form, but no quarter of this pool
        assert client.get(f"{url}/{missing}", headers=headers).status_code == 404, missing
    assert client.get(f"{url}/2015-16 Q2", headers=headers).status_code == 200


def test_plan_content_is_declared_whole_with_no_other_keys(document: dict[str, Any]) -> None:
    update = document["components"]["schemas"]["ContentUpdate"]
    content = _resolve(document, update["properties"]["content"])
    assert content["additionalProperties"] is False
    assert {"contributions", "schemes", "ambitions", "section75", "narrative"} <= set(
        content["properties"]
    )
    section75 = _resolve(document, content["properties"]["section75"])
    assert section75["additionalProperties"] is False


def test_every_operation_keeps_to_its_schema(
    pool_engine: Engine, national_token: str, pool_world: PoolWorld
) -> None:
    config = SchemathesisConfig.from_dict(
        {"auth": {"openapi": {SCHEME: {"bearer": national_token}}}}
    )
    schema = schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", create_app(pool_engine, SECRET), config=config
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 15
    answered = {operation.label: _fuzz(operation, pool_world) for operation in operations}

    # The declared token was sent: every read the pool world can answer answered with data.
    unanswered = {
        label
        for label, statuses in answered.items()
        if label.startswith("GET") and not any(200 <= status < 300 for status in statuses)
    }
    assert unanswered == {UNPAID}


def _fuzz(operation: Any, world: PoolWorld) -> set[int]:
    """Call one operation with generated values and the declared token; the statuses it gave."""
    checks = READ_CHECKS if operation.method.upper() == "GET" else CHECKS
    path = _known(operation.path_parameters, operation, world)
    query = _known(operation.query, operation, world)
    statuses: set[int] = set()

    @SETTINGS
    @given(case=operation.as_strategy(), real=st.integers(0, 3).map(lambda n: n == 3))
    def call(case: Any, real: bool) -> None:
        if real:
            case.path_parameters = {**(case.path_parameters or {}), **path}
            case.query = {**(case.query or {}), **query}
        statuses.add(case.call_and_validate(checks=checks, timeout=TIMEOUT).status_code)

    call()
    return statuses


def _known(parameters: Any, operation: Any, world: PoolWorld) -> dict[str, object]:
    """Values the pool world holds for ``parameters``, for a quarter of the calls: random text
    only reaches the 404 paths. Names not listed here (a plan action, a version) keep their
    generated values."""
    named = "/returns/" in operation.path or "/budgets/" in operation.path
    quarter = "2015-16-Q4" if named else "Q1"
    known: dict[str, object] = {
        "year": YEAR,
        "area": world.own,
        "code": world.own,
        "area_code": world.own,
        "number": 1,
        "quarter": quarter,
        "from": 1,
        "to": 1,
    }
    return {p.name: known[p.name] for p in parameters if p.name in known}


def test_every_api_route_declares_whether_it_needs_the_token(pool_engine: Engine) -> None:
    """A router made without ``ApiRoute`` would describe a public route as needing a token."""
    app = create_app(pool_engine, SECRET)
    plain = [
        route.path
        for route in all_routes(app.routes)
        if isinstance(route, APIRoute)
        and route.path.startswith("/api/v1")
        and not isinstance(route, ApiRoute)
    ]
    assert not plain
