"""The JSON API: open data without a token, more with one, and one error envelope for all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient  # conftest.py has imported it, quieting its warning
from sqlalchemy import Engine

from carepool.accounts import service as accounts
from carepool.demo.service import DEMO_YEARS
from carepool.domain.roles import SYSTEM
from carepool.frameworks import available_years, load_framework
from carepool.store.db import unit_of_work
from carepool.web.app import create_app
from carepool.web.auth import PublicViewer

YEAR = "2015-16"
ClientFor = Callable[..., Any]


@pytest.fixture(scope="module")
def tokens(varied_engine: Engine) -> dict[str, str]:
    with unit_of_work(varied_engine) as session:
        return {
            name: accounts.create_token(session, name, f"{name} test token", SYSTEM)
            for name in ("national", "area", "analyst")
        }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "problems"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["problems"], list)
    return error


def test_frameworks_are_listed_and_served_whole(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(varied_engine)
    listed = client.get("/api/v1/frameworks").json()["frameworks"]
    assert [f["year"] for f in listed] == available_years()
    one = client.get(f"/api/v1/frameworks/{YEAR}").json()
    framework = load_framework(YEAR)
    assert one == framework.model_dump(mode="json")
    assert one["minimum_total"] == framework.minimum_total == 381_400_000_000


def test_the_published_allocation_adds_up_to_the_framework_total(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    for year in DEMO_YEARS:  # the years the demo allocates and publishes
        report = client_for(varied_engine).get(f"/api/v1/allocations/{year}").json()
        assert report["status"] == "Published" and report["version"] == 1
        assert report["synthetic"] is True
        framework_total = load_framework(year).minimum_total
        assert report["framework_total_pence"] == framework_total
        assert report["total_pence"] == framework_total
        assert sum(area["total_pence"] for area in report["areas"]) == framework_total
        assert sum(s["total_pence"] for s in report["streams"]) == framework_total
        lines = [line["amount_pence"] for area in report["areas"] for line in area["lines"]]
        assert all(isinstance(amount, int) for amount in lines), "money is integer pence"
        assert sum(lines) == framework_total
        assert all(r["difference_pence"] == 0 for r in report["reconciliation"])


def test_an_areas_part_adds_up_to_its_lines(
    varied_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    part = client_for(varied_engine).get(f"/api/v1/allocations/{YEAR}/areas/{own}").json()
    assert part["area"]["code"] == own
    assert part["total_pence"] == sum(line["amount_pence"] for line in part["lines"])
    assert part["total_pence"] == sum(s["total_pence"] for s in part["streams"])
    assert any(line["commissioner_name"] for line in part["lines"])


def test_areas_are_listed_with_populations(varied_engine: Engine, client_for: ClientFor) -> None:
    report = client_for(varied_engine).get(f"/api/v1/areas?year={YEAR}").json()
    assert len(report["areas"]) == 151
    assert all(area["population"]["all"] > 0 for area in report["areas"])


def test_a_token_sees_what_its_owner_may_see(
    varied_engine: Engine, client_for: ClientFor, tokens: dict[str, str]
) -> None:
    client = client_for(varied_engine)
    national = client.get(f"/api/v1/allocations/{YEAR}", headers=bearer(tokens["national"]))
    assert national.json()["version"] == 2 and national.json()["status"] == "Draft"
    public = client.get(f"/api/v1/allocations/{YEAR}")
    assert public.json()["version"] == 1
    runs = client.get(f"/api/v1/allocations/{YEAR}/runs", headers=bearer(tokens["analyst"]))
    assert [r["status"] for r in runs.json()["runs"]] == ["Published", "Draft"]


def test_the_api_ignores_the_session_cookie(varied_engine: Engine, client_for: ClientFor) -> None:
    client = client_for(varied_engine, "national")
    assert client.get("/national").status_code == 200
    assert client.get(f"/api/v1/allocations/{YEAR}").json()["version"] == 1
    assert_envelope(client.get(f"/api/v1/allocations/{YEAR}/runs"), 401, "unauthenticated")


def test_not_found_is_the_envelope(varied_engine: Engine, client_for: ClientFor) -> None:
    client = client_for(varied_engine)
    for path in (
        "/api/v1/frameworks/1999-00",
        "/api/v1/allocations/1999-00",
        f"/api/v1/allocations/{YEAR}/areas/E99999999",
        f"/api/v1/allocations/{YEAR}?version=2",  # unpublished: the public is not told
        f"/api/v1/allocations/{YEAR}?version=99",
        "/api/v1/no-such-thing",
    ):
        assert_envelope(client.get(path), 404, "not_found")


def test_bad_tokens_are_401_envelopes(varied_engine: Engine, client_for: ClientFor) -> None:
    client = client_for(varied_engine)
    for header in ("Bearer cp_not-a-real-token", "Basic bmF0aW9uYWw6eA==", "Bearer "):
        response = client.get("/api/v1/frameworks", headers={"Authorization": header})
        assert_envelope(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert_envelope(client.get(f"/api/v1/allocations/{YEAR}/runs"), 401, "unauthenticated")


def test_wrong_roles_are_403_envelopes_that_leak_nothing(
    varied_engine: Engine,
    client_for: ClientFor,
    tokens: dict[str, str],
    area_codes: tuple[str, str],
    variation: tuple[str, str],
) -> None:
    client = client_for(varied_engine)
    area = bearer(tokens["area"])
    own, _ = area_codes
    other = next(code for code in variation if code != own)
    refused = client.get(f"/api/v1/allocations/{YEAR}/areas/{other}?version=2", headers=area)
    error = assert_envelope(refused, 403, "forbidden")
    assert other not in refused.text and "pence" not in refused.text
    assert error["problems"] == []
    assert_envelope(client.get(f"/api/v1/allocations/{YEAR}/runs", headers=area), 403, "forbidden")
    assert_envelope(
        client.get(f"/api/v1/allocations/{YEAR}?version=2", headers=area), 403, "forbidden"
    )
    mine = client.get(f"/api/v1/allocations/{YEAR}/areas/{own}?version=2", headers=area)
    assert mine.status_code == 200 and mine.json()["status"] == "Draft"


def test_invalid_values_are_422_envelopes_naming_the_problem(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(varied_engine)
    error = assert_envelope(client.get("/api/v1/areas"), 422, "invalid_request")
    assert [p["key"] for p in error["problems"]] == ["query.year"]
    error = assert_envelope(
        client.get(f"/api/v1/allocations/{YEAR}?version=0"), 422, "invalid_request"
    )
    assert error["problems"][0]["key"] == "query.version"


def test_wrong_methods_are_envelopes_too(varied_engine: Engine, client_for: ClientFor) -> None:
    response = client_for(varied_engine).post("/api/v1/frameworks")
    assert_envelope(response, 405, "method_not_allowed")


def test_a_bug_is_a_500_envelope_without_internals(varied_engine: Engine) -> None:
    app = create_app(varied_engine, "secret")
    broken = APIRouter()

    @broken.get("/api/v1/broken")
    def explode(viewer: PublicViewer) -> None:
        raise RuntimeError("database password is hunter2")

    @broken.get("/broken")
    def explode_page(viewer: PublicViewer) -> None:
        raise RuntimeError("database password is hunter2")

    app.include_router(broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        error = assert_envelope(client.get("/api/v1/broken"), 500, "internal_error")
        assert "hunter2" not in error["message"]
        page = client.get("/broken")
        assert page.status_code == 500
        assert "Sorry, there is a problem with the service" in page.text
        assert "hunter2" not in page.text and "Traceback" not in page.text


def test_the_openapi_schema_lists_the_api_and_no_pages(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    schema = client_for(varied_engine).get("/api/v1/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/api/v1/frameworks",
        "/api/v1/frameworks/{year}",
        "/api/v1/areas",
        "/api/v1/allocations/{year}",
        "/api/v1/allocations/{year}/areas/{code}",
    } <= paths
    assert all(path.startswith("/api/v1/") for path in paths)
    responses = schema["paths"]["/api/v1/allocations/{year}"]["get"]["responses"]
    assert responses["404"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorEnvelope"
    )


def test_the_health_check_answers_without_touching_the_database(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    response = client_for(demo_engine).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
