"""History across years: every programme year side by side, for an area and for England."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from test_pages_html import check_page, parse

from carepool.allocation import service as allocation
from carepool.domain.metric_catalogue import definition
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.money import format_millions
from carepool.domain.roles import PUBLIC, SYSTEM
from carepool.metrics.service.results import save_results
from carepool.plans import service as plans
from carepool.store.db import unit_of_work

ClientFor = Callable[..., Any]
YEARS = ["2015-16", "2016-17", "2017-19", "2019-20"]


def _rows(html: str) -> dict[str, list[str]]:
    table = parse(html).find(".//table[@id='history-money-table']")
    assert table is not None
    found = {}
    for row in table.iter("tr"):
        cells = ["".join(c.itertext()).strip() for c in row]
        if cells and cells[0] in YEARS:
            found[cells[0]] = cells
    return found


def test_england_year_by_year_adds_up_what_was_published(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    page = client_for(demo_engine).get("/history")
    assert page.status_code == 200
    check_page(page.text, "/history")
    rows = _rows(page.text)
    assert list(rows) == YEARS
    with unit_of_work(demo_engine) as session:
        for year in YEARS:
            run = allocation.visible_run(session, year, PUBLIC)
            status = plans.national_status(session, year)
            assert rows[year][2] == format_millions(run.total_pence)
            approved = status["by_status"]["Approved"]
            assert rows[year][3].startswith(f"{approved} of {status['areas']} plans approved")
            pooled = parse(page.text).find(".//table[@id='history-pooled-table']")
            assert pooled is not None
            assert format_millions(int(status["pooled_pence"])) in "".join(pooled.itertext())
    assert "Payment for performance (fewer emergency admissions)" in rows["2015-16"][7]
    assert rows["2016-17"][7] == "Risk share on emergency admissions"


def test_an_area_year_by_year_shows_only_approved_pooling(
    demo_engine: Engine, area_codes: tuple[str, str], client_for: ClientFor
) -> None:
    own, _ = area_codes
    page = client_for(demo_engine).get(f"/areas/{own}/history")
    assert page.status_code == 200
    check_page(page.text, "an area's history")
    rows = _rows(page.text)
    assert list(rows) == YEARS
    assert rows["2015-16"][3] == "Approved" and rows["2015-16"][4] != "—"
    assert rows["2016-17"][3] == "Draft" and rows["2016-17"][4] == "—"  # rolled, not finished
    assert "No metric has been computed yet." in page.text  # the test demo measures none
    scorecard = client_for(demo_engine).get(f"/areas/{own}/scorecard?year=2015-16").text
    assert f'href="/areas/{own}/history"' in scorecard
    assert client_for(demo_engine).get("/areas/E99999999/history").status_code == 404


def test_a_metric_is_one_series_across_years_whatever_its_label(
    demo_db_file: Path,
    sqlite_copy: Callable[[Path], Engine],
    area_codes: tuple[str, str],
    client_for: ClientFor,
) -> None:
    engine = sqlite_copy(demo_db_file)
    own, other = area_codes
    metric = definition("care_home_admissions_65_plus")
    counts = {
        (own, "2015-16"): (400, 50_000),
        (own, "2016-17"): (380, 51_000),
        (other, "2015-16"): (100, 30_000),
    }
    with unit_of_work(engine) as session:
        values = [
            MetricValue(
                metric.id,
                metric.version,
                area,
                period,
                Grain.YEAR,
                n,
                d,
                (Decimal(n) * 100_000 / d).quantize(Decimal("0.1")),
            )
            for (area, period), (n, d) in counts.items()
        ]
        save_results(session, values, SYSTEM, engine="reference", data_vintage="history-test")
    page = client_for(engine).get(f"/areas/{own}/history").text
    check_page(page, "an area's history with a metric")
    assert 'id="metric-care_home_admissions_65_plus"' in page
    # One series, whatever the year's framework calls it (ASCOF 2A(2) became 2C).
    assert "ASCOF 2A(2) in 2014-15, 2015-16, 2016-17" in page
    assert "ASCOF 2C in 2023-25" in page
    table = parse(page).find(".//table[@id='history-metric-1-table']")
    assert table is not None
    years = ["".join(th.itertext()) for th in table.iter("th") if th.get("scope") == "row"]
    assert years == ["2015-16", "2016-17"]
    national = client_for(engine).get("/history").text
    check_page(national, "England's history with a metric")
    england = parse(national).find(".//table[@id='history-metric-1-table']")
    assert england is not None
    cells = ["".join(td.itertext()) for td in england.iter("td")]
    assert cells[0] == f"{(Decimal(500) * 100_000 / 80_000).quantize(Decimal('0.1')):,}"
