"""Joint plans through the JSON API, with per-user tokens: read, write, sign, assure, approve.

A stale ``lock_version`` is a 409 in the one error envelope; content that is not a plan is a
422 naming every field that is wrong; and a plan goes all the way from draft to approved with
nothing but tokens, each step recorded on its timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from carepool.accounts import service as accounts
from carepool.domain.roles import SYSTEM
from carepool.store.db import unit_of_work

YEAR = "2015-16"
ClientFor = Callable[..., Any]


def _tokens(engine: Engine, *usernames: str) -> dict[str, dict[str, str]]:
    with unit_of_work(engine) as session:
        made = {
            name: accounts.create_token(session, name, "api test", SYSTEM) for name in usernames
        }
    return {name: {"Authorization": f"Bearer {token}"} for name, token in made.items()}


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "problems"}
    assert body["error"]["code"] == code
    return dict(body["error"])


def test_a_stale_lock_version_is_a_conflict(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    headers = _tokens(fresh_plan_engine, "area")["area"]
    client = client_for(fresh_plan_engine)
    url = f"/api/v1/plans/{YEAR}/{plan_world.own}"
    report = client.get(url, headers=headers).json()
    content = report["content"] | {"narrative": report["content"]["narrative"] + " Updated."}
    first = client.put(
        f"{url}/content",
        json={"lock_version": report["lock_version"], "content": content},
        headers=headers,
    )
    assert first.status_code == 200
    assert first.json()["lock_version"] == report["lock_version"] + 1
    assert first.json()["content"]["narrative"].endswith("Updated.")

    stale = client.put(
        f"{url}/content",
        json={"lock_version": report["lock_version"], "content": report["content"]},
        headers=headers,
    )
    error = assert_envelope(stale, 409, "conflict")
    assert "someone else saved this plan" in error["message"]
    assert client.get(url, headers=headers).json()["content"]["narrative"].endswith("Updated.")


def test_content_that_is_not_a_plan_is_refused_with_every_location(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    headers = _tokens(fresh_plan_engine, "area")["area"]
    client = client_for(fresh_plan_engine)
    url = f"/api/v1/plans/{YEAR}/{plan_world.own}"
    report = client.get(url, headers=headers).json()
    content = report["content"]
    content["schemes"][0]["planned_spend"] = 12.5  # money is whole pence, never a float
    content["contributions"][1]["additional"] = -100
    content["section75"]["instalments"] = 3
    content["colour"] = "blue"
    response = client.put(
        f"{url}/content",
        json={"lock_version": report["lock_version"], "content": content},
        headers=headers,
    )
    error = assert_envelope(response, 422, "invalid_plan")
    keys = {problem["key"] for problem in error["problems"]}
    assert keys == {
        "schemes.0.planned_spend",
        "contributions.1.additional",
        "section75.instalments",
        "colour",
    }
    assert all(problem["file"] == "content" for problem in error["problems"])
    assert client.get(url, headers=headers).json()["lock_version"] == report["lock_version"]

    shapeless = client.put(f"{url}/content", json={"content": {}}, headers=headers)
    assert_envelope(shapeless, 422, "invalid_request")


def test_reading_a_plan_its_versions_problems_and_events(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    client = client_for(plan_engine)
    url = f"/api/v1/plans/{YEAR}/{plan_world.other_approved}"
    report = client.get(url).json()
    assert report["status"] == "Approved" and report["version"] >= 1
    assert isinstance(report["pooled_pence"], int)
    version = client.get(f"{url}/versions/1").json()
    assert version["number"] == 1 and version["content"]["schemes"]
    assert client.get(f"{url}/compare?from=1&to=1").json()["changes"] == []
    assert_envelope(client.get(f"{url}/compare?from=1&to=7"), 404, "not_found")
    assert_envelope(client.get(f"{url}/compare?from=1"), 422, "invalid_request")
    problems = client.get(f"{url}/problems").json()
    assert problems["errors"] == 0 and isinstance(problems["problems"], list)
    events = client.get(f"{url}/events").json()["events"]
    assert events[0]["action"] == "start" and events[-1]["to_status"] == "Approved"
    assert_envelope(client.get(f"/api/v1/plans/1999-00/{plan_world.own}"), 404, "not_found")
    assert_envelope(client.get(f"/api/v1/plans/{YEAR}/E99999999"), 404, "not_found")


def test_problems_are_located(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    headers = _tokens(fresh_plan_engine, "area")["area"]
    client = client_for(fresh_plan_engine)
    url = f"/api/v1/plans/{YEAR}/{plan_world.own}"
    report = client.get(url, headers=headers).json()
    content = report["content"] | {"narrative": "Short."}
    client.put(
        f"{url}/content",
        json={"lock_version": report["lock_version"], "content": content},
        headers=headers,
    )
    problems = client.get(f"{url}/problems", headers=headers).json()
    assert problems["errors"] == 1
    [found] = problems["problems"]
    assert found["section"] == "Narrative" and found["field"] == "narrative"
    assert found["rule"] == "narrative_written" and found["severity"] == "error"
    refused = client.post(f"{url}/actions/request_sign_off", headers=headers)
    error = assert_envelope(refused, 400, "invalid_request")
    assert "problems to fix before sign-off" in error["message"]
    assert len(error["problems"]) == 1


def test_a_plan_from_draft_to_approved_with_tokens(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    signers = list(plan_world.signers.values())
    tokens = _tokens(fresh_plan_engine, "area", "assurer", "health", "localgov", *signers)
    client = client_for(fresh_plan_engine)
    url = f"/api/v1/plans/{YEAR}/{plan_world.own}"

    def act(username: str, action: str, **body: Any) -> dict[str, Any]:
        response = client.post(f"{url}/actions/{action}", json=body, headers=tokens[username])
        assert response.status_code == 200, (username, action, response.text)
        return dict(response.json())

    assert act("area", "request_sign_off", comment="Ready")["status"] == "Awaiting local sign-off"
    wrong = client.post(f"{url}/actions/sign", json={"partner": "HWB"}, headers=tokens[signers[0]])
    assert signers[0] != plan_world.signers["HWB"]
    assert_envelope(wrong, 403, "forbidden")
    for partner, username in plan_world.signers.items():
        report = act(username, "sign", partner=partner)
    assert report["status"] == "Submitted"
    early = client.post(f"{url}/actions/approve", headers=tokens["health"])
    assert_envelope(early, 409, "illegal_transition")

    act("assurer", "start_assurance")
    stale = client.post(
        f"{url}/actions/record_category",
        json={"category": "Approved", "lock_version": 1},
        headers=tokens["assurer"],
    )
    assert_envelope(stale, 409, "conflict")
    report = act(
        "assurer",
        "record_category",
        category="Approved subject to conditions",
        conditions=["Publish the seven-day rota"],
        key_lines_of_enquiry="Is social care protected?",
    )
    assert report["status"] == "Awaiting national decision"
    assert act("health", "approve")["status"] == "Awaiting national decision"
    twice = client.post(f"{url}/actions/approve", headers=tokens["health"])
    assert_envelope(twice, 409, "conflict")
    report = act("localgov", "approve", comment="Agreed for local government")
    assert report["status"] == "Approved" and report["category"] == (
        "Approved subject to conditions"
    )
    [condition] = report["conditions"]
    report = act("assurer", "mark_condition_met", condition_id=condition["id"])
    assert report["conditions"][0]["met"] is True

    public = client.get(url).json()
    assert public["status"] == "Approved"
    steps = [e["action"] for e in client.get(f"{url}/events").json()["events"]]
    assert steps == [
        "start",
        "request_sign_off",
        *["sign"] * len(signers),
        "start_assurance",
        "record_category",
        "approve",
        "approve",
        "mark_condition_met",
    ]
    assert_envelope(client.post(f"{url}/actions/fly", headers=tokens["area"]), 404, "not_found")


def test_the_api_ignores_the_session_cookie_for_plan_steps(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    client = client_for(plan_engine, "area")
    assert client.get(f"/plans/{YEAR}/{plan_world.own}").status_code == 200
    url = f"/api/v1/plans/{YEAR}/{plan_world.own}"
    assert_envelope(client.get(url), 404, "not_found")
    assert_envelope(client.post(f"{url}/actions/request_sign_off"), 401, "unauthenticated")
    assert_envelope(client.put(f"{url}/content", json={}), 401, "unauthenticated")


def test_the_plan_api_is_in_the_openapi_schema(plan_engine: Engine, client_for: ClientFor) -> None:
    schema = client_for(plan_engine).get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/plans/{year}/{area}/content" in paths
    assert "409" in paths["/api/v1/plans/{year}/{area}/content"]["put"]["responses"]
    assert "/api/v1/plans/{year}/{area}/actions/{action}" in paths
    assert not any(path.startswith("/plans") for path in paths), "pages stay out of the API"
