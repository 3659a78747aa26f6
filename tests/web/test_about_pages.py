"""The footer's pages: accessibility, privacy, contact, and the API reference built from the
app's own OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine

from carepool.web.api_reference import reference, rules_of, type_of

ClientFor = Any


def test_every_page_links_the_footer_pages_and_the_licence(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    page = client_for(varied_engine).get("/frameworks").text
    footer = page[page.index('<footer class="govuk-footer">') :]
    for href in ("/accessibility", "/privacy", "/contact", "/api/docs"):
        assert f'href="{href}"' in footer, href
    assert "open-government-licence/version/3" in footer


def test_contact_page_shows_the_operators_address_only_when_set(
    varied_engine: Engine, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(varied_engine)
    monkeypatch.delenv("CAREPOOL_CONTACT_EMAIL", raising=False)
    unset = client.get("/contact").text
    assert "has not published a contact address" in unset and "mailto:" not in unset
    monkeypatch.setenv("CAREPOOL_CONTACT_EMAIL", "bcf.team@example.org")
    assert 'href="mailto:bcf.team@example.org"' in client.get("/contact").text


def test_docs_redirects_to_the_api_reference(varied_engine: Engine, client_for: ClientFor) -> None:
    response = client_for(varied_engine).get("/docs", follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == "/api/docs"


def test_the_reference_lists_every_operation_and_schema_the_api_declares(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(varied_engine)
    document = client.get("/api/v1/openapi.json").json()
    page = client.get("/api/docs").text
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert f'id="{operation["operationId"]}"' in page, f"{method} {path}"
            assert f"{method.upper()} {path}" in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page, name
    # Nothing loaded from elsewhere: the one script is the site's own table enhancement.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/tables.js" defer>']


def test_types_read_as_a_person_would_say_them() -> None:
    assert type_of({"type": "integer"}) == "integer"
    assert type_of({"$ref": "#/components/schemas/AreaRow"}) == "AreaRow"
    assert type_of({"type": "array", "items": {"$ref": "#/x/Line"}}) == "list of Line"
    assert type_of({"anyOf": [{"type": "string"}, {"type": "null"}]}) == "string or null"
    assert type_of({"type": "string", "format": "date"}) == "string (date)"
    assert type_of({"type": "string", "enum": ["a", "b"]}) == "one of a, b"


def test_bounds_are_shown_from_the_schema_and_its_options() -> None:
    version = {
        "anyOf": [{"type": "integer", "minimum": 1, "maximum": 2147483647}, {"type": "null"}]
    }
    assert rules_of(version) == "at least 1; at most 2147483647"
    assert rules_of({"type": "integer", "minimum": 1, "maximum": 4, "default": 1}) == (
        "at least 1; at most 4; default 1"
    )
    assert rules_of({"type": "string"}) == ""


def test_the_reference_names_bearer_tokens_only_when_a_scheme_is_declared() -> None:
    plain: dict[str, Any] = {"info": {"title": "t", "version": "1"}, "paths": {}}
    assert not reference(plain).bearer
    declared = {
        **plain,
        "components": {"securitySchemes": {"t": {"type": "http", "scheme": "bearer"}}},
    }
    assert reference(declared).bearer


def test_operations_are_grouped_by_their_first_tag_in_document_order() -> None:
    document = {
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "tags": ["areas"],
                    "summary": "A",
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/b": {"get": {"tags": ["plans"], "summary": "B", "responses": {}}},
            "/c": {"post": {"tags": ["areas"], "summary": "C", "responses": {}}},
        },
    }
    groups = reference(document).groups
    assert [(tag, [op.path for op in ops]) for tag, ops in groups] == [
        ("areas", ["/a", "/c"]),
        ("plans", ["/b"]),
    ]
    assert groups[0][1][0].responses == (("200", "ok", ""),)
