"""``HEAD`` is answered wherever ``GET`` is, and every request is logged once, without its
query string (it can carry what a person typed)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from carepool.web.access import ACCESS_LOGGER, uvicorn_log_config
from carepool.web.app import create_app

PAGES = ("/", "/healthz", "/frameworks", "/frameworks/2015-16", "/sign-in", "/api/v1/frameworks")


@pytest.fixture
def client(sqlite_engine: Engine) -> TestClient:
    return TestClient(create_app(sqlite_engine, "test-secret-key"))


@pytest.mark.parametrize("path", PAGES)
def test_head_is_answered_like_get_without_a_body(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert (got.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["x-frame-options"] == "DENY"


def test_head_where_only_post_is_declared_is_still_refused(client: TestClient) -> None:
    assert client.head("/sign-out").status_code == 405


def test_each_request_is_logged_once_without_its_query(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get("/frameworks?search=Jane+Smith+NHS+9434765919")
        client.head("/")
        client.get("/no-such-page")
    lines = [r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(lines) == 3
    assert lines[0].startswith("GET /frameworks 200 ") and lines[0].endswith("ms")
    assert lines[1].startswith("HEAD / 200 ")
    assert lines[2].startswith("GET /no-such-page 404 ")
    assert not any("Jane" in line or "9434765919" in line or "?" in line for line in lines)


def test_serve_writes_the_access_log_to_standard_error() -> None:
    base = {"handlers": {"default": {}}, "loggers": {"uvicorn": {}}}
    config = uvicorn_log_config(base)
    assert config["loggers"][ACCESS_LOGGER]["handlers"] == ["default"]
    assert config["loggers"][ACCESS_LOGGER]["level"] == "INFO"
    assert ACCESS_LOGGER not in base["loggers"]  # the base is left as it was
