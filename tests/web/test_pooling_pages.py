"""The public pooling pages over the demo: England's share pooled with the areas furthest
behind and what is counted in scope, an area's years as a chart beside their table, and the
API giving the command's shape."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from carepool.domain.money import format_money
from carepool.pooling import service
from carepool.store.db import unit_of_work

ClientFor = Callable[..., Any]
YEAR = "2015-16"


def test_the_national_page_shows_the_share_the_furthest_behind_and_the_scope(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    with unit_of_work(demo_engine) as session:
        report = service.status(session, YEAR)
        counted = report.counted
        lowest = min(counted, key=lambda a: (a.figures.share_pooled, a.figures.area_code))
        behind = [a for a in counted if (a.figures.behind_plan or 0) > 0]
        ahead = [a for a in counted if (a.figures.behind_plan or 0) < 0]
    assert behind and ahead  # the demo's story: some areas behind their plans, some ahead
    page = client_for(demo_engine).get(f"/pooling?year={YEAR}").text
    share = report.totals.share_pooled
    assert share is not None
    assert f"{(share * 100).quantize(Decimal('0.01'))}%" in page
    furthest = page.split('id="furthest-behind"', 1)[1].split("</ol>", 1)[0]
    assert lowest.name in furthest.split("</li>", 1)[0]
    assert f"{len(behind)} of {len(counted)} areas pool less than their own trajectory" in page
    assert 'id="pooling-chart-table"' in page and "<svg" in page
    assert "public health" in page.split('id="not-counted"', 1)[1].split("</ul>", 1)[0]
    assert "revised gross current expenditure" in page
    assert 'id="synthetic-figures"' in page


def test_a_year_without_plans_says_why_it_has_no_share(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    page = client_for(demo_engine).get("/pooling?year=2026-27").text
    assert 'id="no-share"' in page and "no programme year" in page
    assert client_for(demo_engine).get("/pooling?year=2016").status_code == 404


def test_an_area_page_draws_its_years_beside_their_table(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    with unit_of_work(demo_engine) as session:
        area = next(a for a in service.status(session, YEAR).counted if a.figures.planned_share)
    page = client_for(demo_engine).get(f"/pooling/{area.figures.area_code}").text
    assert area.name in page and 'id="pooling-area-chart-table"' in page
    assert 'id="years-table"' in page and "2018-19" in page
    row = page.split('id="years-table"', 1)[1].split(YEAR, 1)[1].split("</tr>", 1)[0]
    in_scope = area.figures.in_scope
    assert in_scope is not None and format_money(in_scope, pence_shown=False) in row
    assert client_for(demo_engine).get("/pooling/E99999999").status_code == 404


def test_the_api_keeps_the_command_shape(demo_engine: Engine, client_for: ClientFor) -> None:
    client = client_for(demo_engine)
    body = client.get(f"/api/v1/pooling/years/{YEAR}").json()
    row = body["areas"][0]
    assert {
        "area_code",
        "in_scope_pence",
        "pooled_pence",
        "minimum_pence",
        "share_pooled",
        "planned_share",
    } <= set(row)
    assert isinstance(row["in_scope_pence"], int) and isinstance(row["share_pooled"], str)
    assert body["target_year"] == "2018-19" and body["scope"]["not_counted"]
    history = client.get(f"/api/v1/pooling/areas/{row['area_code']}").json()
    first = next(y for y in history["years"] if y["financial_year"] == YEAR)
    assert first["share_pooled"] == row["share_pooled"]
    assert client.get("/api/v1/pooling/areas/E99999999").status_code == 404
    assert client.get("/api/v1/pooling/years/2015").status_code == 404


def test_an_approved_plan_shows_its_declared_trajectory(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    with unit_of_work(demo_engine) as session:
        area = next(a for a in service.status(session, YEAR).counted if a.figures.planned_share)
    planned = area.figures.planned_share
    assert planned is not None
    page = client_for(demo_engine).get(f"/plans/{YEAR}/{area.figures.area_code}/read").text
    table = page.split('id="trajectory-table"', 1)[1].split("</table>", 1)[0]
    assert f"{planned * 100:.2f}%" in table and "2018-19" in table
