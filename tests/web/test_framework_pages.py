"""A framework page shows where each figure comes from and marks the unconfirmed ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

ClientFor = Callable[..., Any]


def test_figures_show_their_source_and_unconfirmed_ones_are_marked(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    page = client_for(demo_engine).get("/frameworks/2019-20")
    assert page.status_code == 200
    html = page.text
    assert "Source: NHS England, Better Care Fund grants and funding" in html  # the iBCF total
    assert html.count("govuk-tag--yellow") >= 4  # each unconfirmed figure beside its value
    assert 'id="unconfirmed"' in html
    assert "streams.disabled_facilities_grant.totals.2019-20" in html
    assert "inferred from a secondary source" in html
    assert "Improved Better Care Fund grant conditions" in html


def test_a_year_says_on_its_page_what_carepool_cannot_yet_do(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    html = client_for(demo_engine).get("/frameworks/2014-15").text
    assert "carepool cannot yet do this: rule kind &#39;transfer_to_social_care&#39;" in html
