"""A period the data cover only in part is labelled so, and is never shown as the period's figure.

Here emergency admissions are computed, as an engine would count them, from an extract that
runs from April 2014 to April 2016: the years 2014-15 and 2015-16 are whole, but "2016-17" is
April 2016 alone. Its row in the table says so; the chart, the similar areas, the published
figures and England's spread use whole years only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from sqlalchemy import Engine
from test_pages_html import check_page, parse

from carepool.domain.metric import CountKey, EventCounts, Tally, finalise
from carepool.domain.metric_catalogue import NON_ELECTIVE_ADMISSIONS
from carepool.domain.periods import months_between
from carepool.domain.roles import SYSTEM
from carepool.geography import service as geography
from carepool.metrics.service import results as metric_results
from carepool.store.db import unit_of_work

ClientFor = Callable[..., Any]
EMERGENCY = NON_ELECTIVE_ADMISSIONS.id
FIRST, LAST = dt.date(2014, 4, 1), dt.date(2016, 4, 1)
APRIL_2016 = 1_000 + 24  # each area admits 1,000 people in April 2014, one more each month
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def partial_year(demo_engine: Engine) -> Engine:
    """This module's copy of the demo, with admissions computed from April 2014 to April 2016."""
    with unit_of_work(demo_engine) as session:
        population = geography.denominators(session, "2015-16").counts
        areas = sorted({count.geo_code for count in population})
        tallies = {
            CountKey(EMERGENCY, area, month): Tally(1_000 + index)
            for area in areas
            for index, month in enumerate(months_between(FIRST, LAST))
        }
        counts = EventCounts(tallies, {EMERGENCY: (FIRST, LAST)})
        values = finalise([NON_ELECTIVE_ADMISSIONS], counts, population)
        metric_results.save_results(
            session, values, SYSTEM, engine="reference", data_vintage="extract-to-2016-04"
        )
    return demo_engine


def _text(element: Element | None) -> str:
    assert element is not None
    return " ".join("".join(element.itertext()).split())


def _by_id(tree: Element, element_id: str) -> Element:
    found = tree.find(f".//*[@id='{element_id}']")
    assert found is not None, f"nothing has the id {element_id!r}"
    return found


def _periods(table: Element) -> list[str]:
    return [_text(row.find("th")) for row in table.findall(".//tbody/tr")]


def _row(table: Element, header: str) -> list[str]:
    for row in table.findall(".//tbody/tr"):
        cells = [_text(cell) for cell in row]
        if cells[0] == header:
            return cells
    raise AssertionError(f"no row {header!r}")


def test_an_incomplete_year_is_labelled_and_left_out_of_the_chart_and_comparison(
    partial_year: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    response = client_for(partial_year, "national").get(f"/areas/{own}/metrics?grain=year")
    check_page(response.text, "an area's yearly metrics with an incomplete year")
    tree = parse(response.text)
    section = tree.find(f".//section[@aria-labelledby='{EMERGENCY}']")
    assert section is not None

    counts = _by_id(section, f"{EMERGENCY}-counts")
    assert _periods(counts) == ["2014-15", "2015-16", "2016-17: April 2016 only — incomplete"]
    assert _row(counts, "2016-17: April 2016 only — incomplete")[1] == f"{APRIL_2016:,}"

    chart = section.find(f".//{SVG}svg")
    assert chart is not None
    assert len(chart.findall(f".//{SVG}circle[@data-variation]")) == 2
    assert _periods(_by_id(section, f"spc-{EMERGENCY}-table")) == ["2014-15", "2015-16"]
    note = _text(_by_id(section, f"{EMERGENCY}-incomplete"))
    assert "2016-17 (April 2016 only)" in note and "Not charted" in note

    similar = _by_id(section, f"{EMERGENCY}-similar-areas")
    assert "2015-16" in _text(similar.find("caption"))
    assert "2016-17" not in _text(similar)
    cells = [_text(cell) for cell in section.iter() if cell.tag in ("th", "td", "caption")]
    assert "2015-16" in cells
    assert "2016-17" not in cells, "an incomplete year is never shown as the year's figure"


def test_an_incomplete_quarter_is_labelled_and_not_charted(
    partial_year: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    html = client_for(partial_year).get(f"/areas/{own}/metrics?grain=quarter").text
    check_page(html, "an area's quarterly metrics with an incomplete quarter")
    section = parse(html).find(f".//section[@aria-labelledby='{EMERGENCY}']")
    assert section is not None
    periods = _periods(_by_id(section, f"{EMERGENCY}-counts"))
    assert periods[-1] == "2016-17 Q1: April 2016 only — incomplete"
    assert len(periods) == 9
    charted = _periods(_by_id(section, f"spc-{EMERGENCY}-table"))
    assert charted[0] == "2014-15 Q1" and charted[-1] == "2015-16 Q4" and len(charted) == 8


def test_englands_spread_is_of_the_latest_whole_year_and_says_what_it_leaves_out(
    partial_year: Engine, client_for: ClientFor
) -> None:
    html = client_for(partial_year).get("/metrics").text
    check_page(html, "every area's metrics with an incomplete year")
    tree = parse(html)
    assert "2015-16" in _text(_by_id(tree, f"{EMERGENCY}-spread").find("caption"))
    assert "2015-16" in _text(_by_id(tree, f"{EMERGENCY}-drill"))
    every = parse(client_for(partial_year).get(f"/metrics/{EMERGENCY}").text)
    assert "2015-16:" in _text(_by_id(every, f"{EMERGENCY}-areas").find("caption"))
    assert _text(_by_id(tree, f"{EMERGENCY}-incomplete")) == (
        "2016-17 (April 2016 only) is not shown as a year's figure: the data do not cover "
        "the whole year."
    )


def test_the_api_says_which_periods_are_complete(
    partial_year: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    report = (
        client_for(partial_year)
        .get(f"/api/v1/metrics/{own}", params={"metric": EMERGENCY, "grain": "year"})
        .json()
    )
    assert [(v["period"], v["complete"]) for v in report["values"]] == [
        ("2014-15", True),
        ("2015-16", True),
        ("2016-17", False),
    ]
