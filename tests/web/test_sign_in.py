"""Signing in and out: passwords, the session cookie, CSRF and the limit on guessing."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from carepool.accounts import service as accounts
from carepool.demo.service import DEMO_PASSWORD
from carepool.domain.roles import SYSTEM
from carepool.store.db import unit_of_work
from carepool.web.app import create_app
from carepool.web.auth import SignInLimiter
from carepool.web.errors import TooManyAttempts

ClientFor = Callable[..., Any]
CsrfOf = Callable[[str], str]


def _post_sign_in(client: Any, csrf_of: CsrfOf, username: str, password: str, **extra: str) -> Any:
    token = csrf_of(client.get("/sign-in").text)
    data = {"csrf_token": token, "username": username, "password": password, **extra}
    return client.post("/sign-in", data=data, follow_redirects=False)


def _error_summary(html: str) -> list[str]:
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    return re.findall(r'<a href="#\w+">([^<]+)</a>', summary.group(1)) if summary else []


def test_the_right_password_signs_in_with_a_safe_cookie(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(demo_engine)
    response = _post_sign_in(client, csrf_of, "national", DEMO_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/tasks", "signing in lands on the person's tasks"
    cookie = response.headers["set-cookie"].lower()
    assert "carepool_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie
    account = client.get("/account")
    assert account.status_code == 200
    assert "National team administrator" in account.text
    assert "National administrator" in account.text  # the role's label


def test_signing_in_returns_to_the_page_asked_for_but_never_off_site(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(demo_engine)
    first = client.get("/national", follow_redirects=False)
    assert first.headers["location"] == "/sign-in?next=%2Fnational"
    assert 'name="next" value="/national"' in client.get(first.headers["location"]).text
    back = _post_sign_in(client, csrf_of, "national", DEMO_PASSWORD, next="/national")
    assert back.headers["location"] == "/national"
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        other = client_for(demo_engine)
        response = _post_sign_in(other, csrf_of, "national", DEMO_PASSWORD, next=hostile)
        assert response.headers["location"] == "/tasks", hostile


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(demo_engine)
    for username, password in (("national", "not-the-password"), ("nobody", DEMO_PASSWORD)):
        response = _post_sign_in(client, csrf_of, username, password)
        assert response.status_code == 400
        assert _error_summary(response.text) == ["The username or password is not right"]
        assert "<title>Error: Sign in" in response.text
        assert f'value="{username}"' in response.text, "the username is kept for a retry"
        assert password not in response.text, "a password is never sent back"
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_blank_fields_are_named_in_the_error_summary_and_beside_each_field(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    response = _post_sign_in(client_for(demo_engine), csrf_of, "  ", "")
    assert response.status_code == 400
    assert _error_summary(response.text) == ["Enter your username", "Enter your password"]
    assert 'id="username-error"' in response.text and 'id="password-error"' in response.text
    assert 'aria-describedby="username-error"' in response.text
    assert "govuk-input--error" in response.text


def test_a_form_without_this_sessions_csrf_token_is_refused(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(demo_engine)
    client.get("/sign-in")
    credentials = {"username": "national", "password": DEMO_PASSWORD}
    missing = client.post("/sign-in", data=credentials)
    wrong = client.post("/sign-in", data={**credentials, "csrf_token": "forged"})
    other_session = csrf_of(client_for(demo_engine).get("/sign-in").text)
    borrowed = client.post("/sign-in", data={**credentials, "csrf_token": other_session})
    for response in (missing, wrong, borrowed):
        assert response.status_code == 403
        assert "did not come from this service" in response.text
        assert "govuk-heading-l" in response.text  # a GOV.UK error page, not a bare error
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_signing_in_starts_a_new_session_with_a_new_csrf_token(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(demo_engine)
    before = csrf_of(client.get("/sign-in").text)
    _post_sign_in(client, csrf_of, "analyst", DEMO_PASSWORD)
    after = csrf_of(client.get("/account").text)
    assert before != after


def test_failed_sign_ins_are_limited_per_username_and_client(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(demo_engine)
    for _ in range(5):
        assert _post_sign_in(client, csrf_of, "assurer", "guess").status_code == 400
    blocked = _post_sign_in(client, csrf_of, "assurer", DEMO_PASSWORD)
    assert blocked.status_code == 429
    assert _error_summary(blocked.text) == [
        "There have been too many failed attempts to sign in. Wait 5 minutes and try again."
    ]
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert _post_sign_in(client, csrf_of, "health", DEMO_PASSWORD).status_code == 303


def test_the_limit_lifts_after_the_window_and_a_success_clears_it() -> None:
    now = [1000.0]
    limiter = SignInLimiter(max_failures=3, window_seconds=300, clock=lambda: now[0])
    for _ in range(3):
        limiter.check("Ann", "10.0.0.1")
        limiter.failed("Ann", "10.0.0.1")
    with pytest.raises(TooManyAttempts) as refused:
        limiter.check("ann", "10.0.0.1")  # usernames are compared without case
    assert refused.value.retry_after == 301
    with pytest.raises(TooManyAttempts):
        limiter.check("ann", "10.0.0.2")  # the account is locked whichever address asks
    limiter.check("bob", "10.0.0.1")  # another account from the same client is not
    now[0] += 301
    limiter.check("ann", "10.0.0.1")
    limiter.failed("ann", "10.0.0.1")
    limiter.succeeded("ann", "10.0.0.1")
    for _ in range(2):
        limiter.failed("ann", "10.0.0.1")
    limiter.check("ann", "10.0.0.1")


def test_one_client_cannot_try_a_password_against_many_usernames() -> None:
    limiter = SignInLimiter(max_failures=5, max_client_failures=10, clock=lambda: 0.0)
    for number in range(10):
        limiter.failed(f"user{number}", "10.0.0.9")
    with pytest.raises(TooManyAttempts):
        limiter.check("someone-else", "10.0.0.9")


def test_signing_out_ends_the_session(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(demo_engine, "national")
    page = client.get("/account").text
    assert "Sign out" in page
    refused = client.post("/sign-out", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert client.get("/account").status_code == 200, "a forged sign-out changes nothing"
    response = client.post("/sign-out", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert response.status_code == 303
    home = client.get("/")
    assert "You have signed out" in home.text
    assert "Sign out" not in home.text
    assert client.get("/account", follow_redirects=False).status_code == 303


def _cookie_payload(client: Any) -> dict[str, Any]:
    """What anyone holding the cookie can read: it is signed, not encrypted."""
    value = client.cookies.get("carepool_session")
    assert value
    data = value.split(".")[0]
    return json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))


def test_a_copied_cookie_stops_working_when_its_owner_signs_out(
    fresh_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    owner = client_for(fresh_engine, "national")
    token = csrf_of(owner.get("/account").text)
    stolen = owner.cookies.get("carepool_session")
    thief = client_for(fresh_engine)
    thief.cookies.set("carepool_session", stolen)
    assert thief.get("/account", follow_redirects=False).status_code == 200  # the copy works
    signed_out = owner.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert signed_out.status_code == 303

    thief.cookies.set("carepool_session", stolen)
    home = thief.get("/")
    assert "Sign out" not in home.text and "Sign in" in home.text
    thief.cookies.set("carepool_session", stolen)
    assert thief.get("/account", follow_redirects=False).status_code == 303
    thief.cookies.set("carepool_session", stolen)
    refused = thief.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 403
    assert "did not come from this service" in refused.text


def test_a_password_change_ends_every_session_of_the_account(
    fresh_engine: Engine, client_for: ClientFor
) -> None:
    first = client_for(fresh_engine, "analyst")
    second = client_for(fresh_engine, "analyst")
    other = client_for(fresh_engine, "national")
    with unit_of_work(fresh_engine) as session:
        accounts.set_password(session, "analyst", "a new password, long", SYSTEM)
    for client in (first, second):
        assert client.get("/account", follow_redirects=False).status_code == 303
    assert other.get("/account", follow_redirects=False).status_code == 200
    again = client_for(fresh_engine)
    assert again.get("/account", follow_redirects=False).status_code == 303


def test_deactivating_an_account_ends_its_sessions(
    fresh_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(fresh_engine, "analyst")
    with unit_of_work(fresh_engine) as session:
        accounts.deactivate_user(session, "analyst", SYSTEM)
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_the_cookie_does_not_hold_the_csrf_token(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(demo_engine)
    anonymous = csrf_of(client.get("/sign-in").text)
    assert anonymous not in json.dumps(_cookie_payload(client))
    _post_sign_in(client, csrf_of, "analyst", DEMO_PASSWORD)
    token = csrf_of(client.get("/account").text)
    payload = _cookie_payload(client)
    assert payload["user"] == "analyst"
    assert token not in json.dumps(payload)
    assert "csrf" not in payload


def _cookie_payload(client: Any) -> dict[str, Any]:
    """What anyone holding the cookie can read: it is signed, not encrypted."""
    value = client.cookies.get("carepool_session")
    assert value
    data = value.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))
    return decoded


def test_a_locked_account_stays_locked_from_another_address(
    demo_engine: Engine, csrf_of: CsrfOf
) -> None:
    """Changing address, or sending X-Forwarded-For (which is not believed), does not help."""
    app = create_app(demo_engine, "a secret key for the limiter test, long enough")

    def client(number: int) -> TestClient:
        made = TestClient(app, client=(f"10.9.0.{number}", 5000))
        made.headers["X-Forwarded-For"] = f"192.0.2.{number}"
        return made

    for number in range(5):
        with client(number) as guesser:
            assert _post_sign_in(guesser, csrf_of, "area", "guess").status_code == 400
    with client(9) as owner:
        blocked = _post_sign_in(owner, csrf_of, "area", DEMO_PASSWORD)
        assert blocked.status_code == 429
        assert "Retry-After" in blocked.headers
        assert owner.get("/account", follow_redirects=False).status_code == 303
        assert _post_sign_in(owner, csrf_of, "analyst", DEMO_PASSWORD).status_code == 303


def test_serve_believes_forwarded_addresses_only_from_configured_proxies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn

    from carepool.cli import app as cli

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    monkeypatch.setattr(cli, "migrate", lambda engine: None)
    monkeypatch.setattr(cli, "default_engine", lambda: None)
    monkeypatch.setenv("CAREPOOL_SECRET_KEY", "a secret key for the serve test, long enough")
    monkeypatch.setenv("CAREPOOL_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.delenv("CAREPOOL_TRUSTED_PROXIES", raising=False)
    cli.serve(host=None, port=None)
    monkeypatch.setenv("CAREPOOL_TRUSTED_PROXIES", "10.0.0.5, 10.0.0.6")
    cli.serve(host=None, port=None)
    assert runs[0]["proxy_headers"] is False
    assert runs[1]["proxy_headers"] is True
    assert runs[1]["forwarded_allow_ips"] == "10.0.0.5,10.0.0.6"


def test_a_refused_sign_in_says_when_to_try_again(
    demo_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(demo_engine)
    for _ in range(5):
        _post_sign_in(client, csrf_of, "signatory", "guess")
    blocked = _post_sign_in(client, csrf_of, "signatory", DEMO_PASSWORD)
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 301


def test_the_password_and_deactivate_commands_end_sessions(
    sqlite_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    from typer.testing import CliRunner

    from carepool.cli.app import app as cli

    with unit_of_work(sqlite_engine) as session:
        accounts.create_user(session, "pat", "first password", ["analyst"], SYSTEM)
    client = client_for(sqlite_engine)
    assert _post_sign_in(client, csrf_of, "pat", "first password").status_code == 303
    assert client.get("/account", follow_redirects=False).status_code == 200
    changed = CliRunner().invoke(cli, ["users", "password", "pat"], input="second password\n")
    assert changed.exit_code == 0, changed.output
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert _post_sign_in(client, csrf_of, "pat", "first password").status_code == 400
    assert _post_sign_in(client, csrf_of, "pat", "second password").status_code == 303
    deactivated = CliRunner().invoke(cli, ["users", "deactivate", "pat"])
    assert deactivated.exit_code == 0, deactivated.output
    assert client.get("/account", follow_redirects=False).status_code == 303
