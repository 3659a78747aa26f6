"""The public substitution pages over the demo's synthetic returns: the national list sorts
and counts the flagged, a council's page draws its chart beside the table of the same
figures and says its years are synthetic, and the API gives the command's shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from carepool.store.db import unit_of_work
from carepool.substitution import service

ClientFor = Callable[..., Any]


def test_the_national_list_counts_the_flagged_and_sorts(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(demo_engine)
    with unit_of_work(demo_engine) as session:
        report = service.report(session)
    flagged = [c for c in report.councils if c.flagged]
    assert flagged and len(flagged) < len(report.councils)  # some flagged, most not

    page = client.get("/substitution").text
    assert f"{len(flagged)} of {len(report.councils)} councils flagged" in page
    assert 'aria-sort="descending"' in page
    first_row = page.split("<tbody", 1)[1]
    assert "govuk-tag--red" in first_row.split("</tr>", 1)[0]  # flagged councils first
    by_name = client.get("/substitution?sort=name").text
    names = sorted(c.name for c in report.councils)
    assert by_name.index(names[0]) < by_name.index(names[-1])
    assert "Synthetic years" in page


def test_a_flagged_council_page_shows_the_chart_table_and_warning(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    with unit_of_work(demo_engine) as session:
        council = next(c for c in service.report(session).councils if c.flagged)
    page = client_for(demo_engine).get(f"/substitution/{council.code}").text
    assert 'id="substitution-chart-table"' in page and "<svg" in page
    assert 'id="years-table"' in page and 'id="flag"' in page
    assert 'id="synthetic-years"' in page and "2018-19" in page
    assert "Own-funded spend is gross current expenditure" in page


def test_the_api_keeps_the_command_shape_and_unknown_councils_are_404(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(demo_engine)
    body = client.get("/api/v1/substitution").json()
    year = body["councils"][0]["years"][1]
    assert {
        "year",
        "gross_current_expenditure_pence",
        "nhs_income_pence",
        "bcf_income_pence",
        "own_funded_real_pence",
        "flagged",
    } <= set(year)
    assert isinstance(year["own_funded_real_pence"], int)
    code = body["councils"][0]["code"]
    assert client.get(f"/api/v1/substitution/{code}").json()["code"] == code
    assert client.get("/api/v1/substitution/E99999999").status_code == 404
    assert client.get("/substitution/E99999999").status_code == 404
