"""The metric pages and API: Making Data Count charts with their figures, for each audience.

An area's page charts each computed metric with its table, names the verdict in words and
tags, draws the plan's ambition as the target, and sets the area beside its most similar
areas. The public sees every figure under publication control (small counts withheld, counts
rounded); national roles see them exactly. The national page spreads every area's latest
values and sets England's published statistics beside them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from test_pages_html import check_page, parse
from test_routes_guard import all_routes

from carepool.accounts import service as accounts
from carepool.domain.metric_catalogue import definition
from carepool.domain.metric_value import Grain
from carepool.domain.roles import SYSTEM
from carepool.domain.similar_areas import profiles, similar_areas
from carepool.domain.spc import analyse, rounded
from carepool.geography.service import year_geography
from carepool.metrics.routes import VARIATION_TAGS
from carepool.metrics.service import results as metric_results
from carepool.plans import service as plans
from carepool.store.db import unit_of_work
from carepool.web.app import create_app
from carepool.web.auth import access_of

if TYPE_CHECKING:
    from metric_fixtures import MetricWorld

pytest_plugins = ("metric_fixtures",)  # metric_world, metric_engine

ClientFor = Callable[..., Any]
YEAR = "2015-16"
CARE_HOMES = "care_home_admissions_65_plus"
REABLEMENT = "reablement_91_days"
EMERGENCY = "non_elective_admissions"
DELAYS = "delayed_transfers_of_care"
SVG = "{http://www.w3.org/2000/svg}"


def _text(element: Element | None) -> str:
    assert element is not None
    return " ".join("".join(element.itertext()).split())


def _by_id(tree: Element, element_id: str) -> Element:
    found = tree.find(f".//*[@id='{element_id}']")
    assert found is not None, f"nothing has the id {element_id!r}"
    return found


def _section(tree: Element, metric: str) -> Element:
    found = tree.find(f".//section[@aria-labelledby='{metric}']")
    assert found is not None, f"no section for {metric}"
    return found


def _row(table: Element, header: str) -> list[str]:
    for row in table.iter("tr"):
        cells = [_text(cell) for cell in row]
        if cells and cells[0] == header:
            return cells
    raise AssertionError(f"no row {header!r}")


# --------------------------------------------------------------------------------------------
# Every page parses, for every audience


@pytest.mark.parametrize("username", [None, "area", "analyst", "national"])
def test_metric_pages_are_valid_html(
    username: str | None,
    metric_engine: Engine,
    metric_world: MetricWorld,
    client_for: ClientFor,
) -> None:
    client = client_for(metric_engine, username)
    own, other = metric_world.own, metric_world.others[0]
    paths = [
        "/metrics",
        f"/areas/{own}/metrics",
        f"/areas/{own}/metrics?grain=month",
        f"/areas/{own}/metrics?grain=quarter",
        f"/areas/{own}/metrics?grain=year",
        f"/areas/{other}/metrics?grain=quarter",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, f"{path} as {username}: {response.status_code}"
        check_page(response.text, f"{path} as {username or 'public'}")


def test_the_new_routes_are_public_and_linked(
    demo_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    app = create_app(demo_engine, "test-secret-key")
    new = {"/metrics", "/areas/{code}/metrics", "/api/v1/metrics/{area_code}"}
    access = {
        route.path: [r for d in route.dependant.dependencies if (r := access_of(d.call))]
        for route in all_routes(app.routes)
        if isinstance(route, APIRoute) and route.path in new
    }
    assert len(access) == 3
    assert all(rules == ["public"] for rules in access.values())
    own, _ = area_codes
    public = client_for(demo_engine)
    assert f'href="/areas/{own}/metrics"' in public.get(f"/areas/{own}").text
    assert 'href="/metrics"' in public.get("/").text
    assert 'href="/metrics"' in client_for(demo_engine, "national").get("/national").text


def test_without_computed_values_the_pages_say_how_to_compute_them(
    demo_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    client = client_for(demo_engine)
    for path in (f"/areas/{own}/metrics", "/metrics"):
        response = client.get(path)
        assert response.status_code == 200
        check_page(response.text, path)
        tree = parse(response.text)
        assert "carepool metrics compute" in _text(_by_id(tree, "no-metrics"))
        assert tree.find(f".//{SVG}svg") is None
    national = parse(client.get("/metrics").text)
    assert "has not been imported" in _text(_by_id(national, "no-delayed-days"))
    assert "have not been imported" in _text(_by_id(national, "no-outcomes"))
    assert client.get(f"/api/v1/metrics/{own}").json()["values"] == []


def test_unknown_areas_and_grains_are_refused(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    client = client_for(metric_engine)
    missing = client.get("/areas/E99999999/metrics")
    assert missing.status_code == 404
    check_page(missing.text, "unknown area")
    bad = client.get(f"/areas/{metric_world.own}/metrics?grain=fortnight")
    assert bad.status_code == 400
    check_page(bad.text, "unknown grain")


# --------------------------------------------------------------------------------------------
# Charts, tables and verdicts


def test_each_metric_has_its_chart_beside_its_table(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    tree = parse(client_for(metric_engine).get(f"/areas/{metric_world.own}/metrics").text)
    for metric in (CARE_HOMES, EMERGENCY, DELAYS):
        section = _section(tree, metric)
        chart = section.find(f".//{SVG}svg")
        assert chart is not None, metric
        assert chart.get("aria-labelledby") == f"spc-{metric}-title spc-{metric}-desc"
        assert len(chart.findall(f".//{SVG}circle[@data-variation]")) == 24
        table = _by_id(section, f"spc-{metric}-table")
        assert len(table.findall(".//tbody/tr")) == 24
        assert _row(table, "2015-04") and _row(table, "2017-03")
        facts = _text(section.find(".//dl"))
        assert definition(metric).description in facts
        assert definition(metric).source in facts
        assert all(difference in facts for difference in definition(metric).differences)
        assert "test-extract-2017-03" in facts and "reference engine" in facts
    care = _text(_section(tree, CARE_HOMES).find(".//dl"))
    # One metric under the labels the years gave it: ASCOF renumbered it 2C from 2023-24.
    assert "ASCOF 2A(2) (2014-15, 2015-16, 2016-17, 2017-19, 2019-20, 2020-21, 2021-22, " in care
    assert "ASCOF 2C (2023-25, 2025-26)" in care
    assert "Lower is better" in care


def _exact_analysis(engine: Engine, area: str, metric: str, grain: Grain) -> Any:
    with unit_of_work(engine) as session:
        values = metric_results.series(session, metric, area, grain).values
    return analyse([(v.period, v.value) for v in values], definition(metric).direction)


@pytest.mark.parametrize("metric", [CARE_HOMES, EMERGENCY, DELAYS, REABLEMENT])
def test_the_variation_tag_is_the_analysis_verdict(
    metric: str, metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    html = client_for(metric_engine, "analyst").get(f"/areas/{metric_world.own}/metrics").text
    verdict = _by_id(_section(parse(html), metric), f"{metric}-verdict")
    expected = _exact_analysis(metric_engine, metric_world.own, metric, Grain.MONTH)
    text, css = VARIATION_TAGS[expected.variation]
    tag = verdict.find(".//strong")
    assert tag is not None and _text(tag) == text and css in (tag.get("class") or "")
    points = [p for p in expected.points if p.variation.value != "common_cause"]
    assert f"{len(points)} of the 24 points show special cause variation" in _text(verdict)


def test_a_shift_in_care_home_admissions_is_special_cause_concern(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    tree = parse(client_for(metric_engine).get(f"/areas/{metric_world.own}/metrics").text)
    verdict = _text(_by_id(tree, f"{CARE_HOMES}-verdict"))
    assert "Special cause concern" in verdict
    assert "a run of 7 or more points on one side of the mean" in verdict
    table = _by_id(tree, f"spc-{CARE_HOMES}-table")
    assert "special cause variation: concern" in _row(table, "2017-03")[1]
    contents = tree.find(".//main/ul")
    assert "Special cause concern" in _text(contents), "the contents list shows each verdict"


# --------------------------------------------------------------------------------------------
# Publication control


def test_the_public_sees_small_counts_withheld_and_counts_rounded(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    for username in (None, "area"):  # an area's own people see published figures too
        tree = parse(
            client_for(metric_engine, username).get(f"/areas/{metric_world.own}/metrics").text
        )
        reablement = _section(tree, REABLEMENT)
        assert reablement.find(f".//{SVG}svg") is None, "a withheld point means no chart"
        assert "withheld to protect privacy" in _text(
            _by_id(reablement, f"{REABLEMENT}-not-charted")
        )
        assert _row(_by_id(reablement, f"{REABLEMENT}-counts"), "2015-07")[1:] == [
            "[c]",
            "[c]",
            "[c]",
        ]
        emergency = _by_id(tree, f"{EMERGENCY}-counts")
        assert _row(emergency, "2015-04")[1] == "1,235"
        assert _row(_by_id(tree, f"spc-{EMERGENCY}-table"), "2015-04")[1].startswith("1,235")
        assert "1,234" not in _text(_section(tree, EMERGENCY))
        assert "counts of 1 to 7 are withheld" in _text(tree.find(".//main"))


def test_national_roles_see_exact_figures(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    tree = parse(
        client_for(metric_engine, "analyst").get(f"/areas/{metric_world.own}/metrics").text
    )
    reablement = _section(tree, REABLEMENT)
    assert reablement.find(f".//{SVG}svg") is not None
    assert _row(_by_id(reablement, f"{REABLEMENT}-counts"), "2015-07")[1:] == ["5", "6", "83.3"]
    assert _row(_by_id(tree, f"{EMERGENCY}-counts"), "2015-04")[1] == "1,234"
    assert "You are seeing exact figures" in _text(tree.find(".//main"))


def test_quarters_count_enough_people_to_be_charted_for_the_public(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    html = client_for(metric_engine).get(f"/areas/{metric_world.own}/metrics?grain=quarter").text
    reablement = _section(parse(html), REABLEMENT)
    assert reablement.find(f".//{SVG}svg") is not None
    assert len(_by_id(reablement, f"spc-{REABLEMENT}-table").findall(".//tbody/tr")) == 8


# --------------------------------------------------------------------------------------------
# Ambitions, similar areas and published statistics


def _planned_q4(engine: Engine, area: str, metric: str) -> Decimal:
    with unit_of_work(engine) as session:
        plan = plans.find(session, YEAR, area)
        assert plan is not None and plan.status == "Approved"
        content = plans.content_of(plans.current_version(plan))
    ambition = next(a for a in content.ambitions if a.metric == metric)
    assert ambition.quarters[3] is not None
    return ambition.quarters[3]


def test_the_plan_ambition_is_the_quarterly_target_line(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    planned = _planned_q4(metric_engine, metric_world.own, EMERGENCY)
    html = client_for(metric_engine).get(f"/areas/{metric_world.own}/metrics?grain=quarter").text
    section = _section(parse(html), EMERGENCY)
    target = section.find(f".//{SVG}line[@class='app-spc__target']")
    assert target is not None, "the quarterly chart draws the ambition"
    shown = f"{rounded(Fraction(planned), 0):,}"  # the chart shows a count's whole number
    assert f"Target {shown}." in _text(section.find(f".//{SVG}desc"))
    words = _text(section)
    assert (
        f"the plan's ambition for 2015-16 Q4, the latest quarter shown that has one: {planned:,}"
        in words
    )
    ambitions = _by_id(section, f"{EMERGENCY}-ambitions")
    assert _row(ambitions, "2015-16 Q4")[1] == f"{planned:,}"
    assert "Assurance:" in _text(_by_id(section, f"{EMERGENCY}-verdict"))

    monthly = _section(
        parse(client_for(metric_engine).get(f"/areas/{metric_world.own}/metrics").text), EMERGENCY
    )
    assert monthly.find(f".//{SVG}line[@class='app-spc__target']") is None
    assert "see the quarterly chart" in _text(monthly)


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except ArithmeticError:
        return None


@pytest.mark.parametrize("metric", [EMERGENCY, REABLEMENT])
def test_each_quarter_says_whether_its_ambition_was_met(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld, metric: str
) -> None:
    """Emergency admissions meet an ambition at or under it, reablement at or over it, as the
    viewer sees the value; a quarter with no value to judge says nothing."""
    html = client_for(metric_engine).get(f"/areas/{metric_world.own}/metrics?grain=quarter").text
    table = _by_id(_section(parse(html), metric), f"{metric}-ambitions")
    lower = metric == EMERGENCY
    assert ("lower is better" if lower else "higher is better") in _text(table.find("caption"))
    judged = 0
    for row in table.iter("tr"):
        cells = [_text(cell) for cell in row]
        if len(cells) != 4 or cells[0] == "Quarter":
            continue
        planned, achieved = _number(cells[1]), _number(cells[2])
        if planned is None or achieved is None:
            assert cells[3] == "", cells
            continue
        met = achieved <= planned if lower else achieved >= planned
        assert cells[3] == ("Met" if met else "Not met"), cells
        judged += 1
    assert judged >= 1


def test_without_an_ambition_the_page_says_so(metric_engine: Engine, client_for: ClientFor) -> None:
    with unit_of_work(metric_engine) as session:
        unapproved = [
            {
                r["area_code"]
                for r in plans.national_status(session, year)["plans"]
                if r["status"] != "Approved"
            }
            for year in (YEAR, "2016-17")  # the years the metrics cover
        ]
    draft = sorted(unapproved[0] & unapproved[1])[0]
    html = client_for(metric_engine).get(f"/areas/{draft}/metrics?grain=quarter").text
    section = _section(parse(html), EMERGENCY)
    assert section.find(f".//{SVG}line[@class='app-spc__target']") is None
    assert "No plan you can see sets an ambition for this metric" in _text(section)


def test_the_area_is_set_beside_its_five_most_similar_areas(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    with unit_of_work(metric_engine) as session:
        geo = year_geography(session, "2017-19")
        kinds = {a.code: a.kind for a in geo.areas}
        nearest = similar_areas(metric_world.own, profiles(kinds, geo.bands))
        names = {a.code: a.name for a in geo.areas}
        latest = {
            v.area_code: v.value
            for v in metric_results.period_values(session, CARE_HOMES, "2016-17")
        }
    html = client_for(metric_engine).get(f"/areas/{metric_world.own}/metrics").text
    table = _by_id(_section(parse(html), CARE_HOMES), f"{CARE_HOMES}-similar-areas")
    assert "2016-17" in _text(table.find("caption"))
    rows = table.findall(".//tbody/tr")
    assert len(rows) == 7  # the area, its 5 neighbours and the median of every area
    assert _row(table, f"{metric_world.own_name} (this area)")[1] == f"{latest[metric_world.own]:,}"
    for code in nearest:
        assert _row(table, names[code])[1] == f"{latest[code]:,}"
        assert table.find(f".//a[@href='/areas/{code}/metrics?grain=month']") is not None
    assert _row(table, f"Median of {len(latest)} areas")[1] != "Not available"


def test_published_statistics_sit_beside_computed_values(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    html = client_for(metric_engine).get(f"/areas/{metric_world.own}/metrics").text
    section = _section(parse(html), REABLEMENT)
    table = _by_id(section, f"{REABLEMENT}-published-table")
    assert _row(table, "2015-16")[2] == "75.5"
    assert _row(table, "2016-17")[2] == "76.0"
    assert re.fullmatch(r"\d+\.\d", _row(table, "2015-16")[1])
    assert "not the same as being at home 91 days" in _text(section)


# --------------------------------------------------------------------------------------------
# The national page


def test_the_national_page_spreads_every_areas_latest_value(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    with unit_of_work(metric_engine) as session:
        values = sorted(
            v.value for v in metric_results.period_values(session, CARE_HOMES, "2016-17")
        )
    tree = parse(client_for(metric_engine).get("/metrics").text)
    section = _section(tree, CARE_HOMES)
    spread = _by_id(section, f"{CARE_HOMES}-spread")
    cells = [_text(td) for td in spread.findall(".//tbody/tr/td")]
    assert cells[0] == str(len(values))
    assert cells[1] == f"{values[0]:,}" and cells[-1] == f"{values[-1]:,}"
    assert section.find(f".//a[@href='/metrics/{CARE_HOMES}']") is not None
    client = client_for(metric_engine)
    drill = client.get(f"/metrics/{CARE_HOMES}")
    check_page(drill.text, "a metric's every-area page")
    areas = _by_id(parse(drill.text), f"{CARE_HOMES}-areas")
    assert areas.get("data-sortable") == areas.get("data-filterable") == ""
    shown = [
        Decimal(_text(row.find("td")).replace(",", "")) for row in areas.findall(".//tbody/tr")
    ]
    assert shown == values, "every area, lowest first"
    assert areas.find(f".//a[@href='/areas/{metric_world.own}/metrics']") is not None
    assert f'href="/open-data/metrics/{CARE_HOMES}.csv"' in drill.text
    assert client.get("/metrics/no_such_metric").status_code == 404


def test_the_national_page_stays_small_enough_to_read(
    metric_engine: Engine, client_for: ClientFor
) -> None:
    """Every area's value of every metric made a 36-page page; they are a click away now."""
    page = client_for(metric_engine).get("/metrics")
    assert len(page.content) < 150_000, f"{len(page.content):,} bytes"


def test_the_national_page_sets_englands_published_statistics_beside_computed_ones(
    metric_engine: Engine, client_for: ClientFor
) -> None:
    public = parse(client_for(metric_engine).get("/metrics").text)
    for chart_id in ("dtoc-nhs", "dtoc-social-care", "dtoc-both"):
        chart = public.find(f".//{SVG}svg[@aria-labelledby='{chart_id}-title {chart_id}-desc']")
        assert chart is not None, chart_id
        assert len(_by_id(public, f"{chart_id}-table").findall(".//tbody/tr")) == 12
    check = _by_id(public, "delayed-days-check-table")
    published, computed = _row(check, "2015-04")[1:]
    assert published == "140,000"
    assert int(computed.replace(",", "")) % 5 == 0, "the public sees the computed sum rounded"
    outcomes = _by_id(public, "outcome-spreads")
    asc5 = "ASC5: Outcome of short-term services: sequel to service (percentage)"
    assert _row(outcomes, asc5)[1:] == ["2016-17", "3", "78.5", "81.0", "83.5"]


# --------------------------------------------------------------------------------------------
# The API


@pytest.fixture(scope="module")
def analyst_token(metric_engine: Engine) -> str:
    with unit_of_work(metric_engine) as session:
        return accounts.create_token(session, "analyst", "metrics test token", SYSTEM)


def _value(report: dict[str, Any], metric: str, period: str) -> dict[str, Any]:
    return next(v for v in report["values"] if v["metric"] == metric and v["period"] == period)


def test_the_api_gives_values_under_publication_control(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld, analyst_token: str
) -> None:
    client = client_for(metric_engine)
    path = f"/api/v1/metrics/{metric_world.own}"
    public = client.get(path).json()
    assert public["disclosure"] == "published" and public["grain"] == "month"
    assert {m["metric"] for m in public["metrics"]} == {CARE_HOMES, REABLEMENT, EMERGENCY, DELAYS}
    small = _value(public, REABLEMENT, "2015-07")
    assert small == {
        "metric": REABLEMENT,
        "area_code": metric_world.own,
        "period": "2015-07",
        "numerator": None,
        "denominator": None,
        "value": None,
        "withheld": True,
        "complete": True,
    }
    assert _value(public, EMERGENCY, "2015-04")["value"] == "1235"

    exact = client.get(path, headers={"Authorization": f"Bearer {analyst_token}"}).json()
    assert exact["disclosure"] == "exact"
    assert _value(exact, REABLEMENT, "2015-07") | {"withheld": False} == {
        "metric": REABLEMENT,
        "area_code": metric_world.own,
        "period": "2015-07",
        "numerator": 5,
        "denominator": 6,
        "value": "83.3",
        "withheld": False,
        "complete": True,
    }
    assert _value(exact, EMERGENCY, "2015-04")["value"] == "1234"


def test_the_api_narrows_to_a_metric_and_grain(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    client = client_for(metric_engine)
    report = client.get(
        f"/api/v1/metrics/{metric_world.own}", params={"metric": CARE_HOMES, "grain": "year"}
    ).json()
    assert [v["period"] for v in report["values"]] == ["2015-16", "2016-17"]
    assert {v["metric"] for v in report["values"]} == {CARE_HOMES}
    assert all(isinstance(v["value"], str) for v in report["values"])


def test_api_errors_are_the_envelope(
    metric_engine: Engine, client_for: ClientFor, metric_world: MetricWorld
) -> None:
    client = client_for(metric_engine)
    unknown_metric = client.get(f"/api/v1/metrics/{metric_world.own}?metric=nonsense")
    assert unknown_metric.status_code == 404
    assert unknown_metric.json()["error"]["code"] == "not_found"
    assert CARE_HOMES in unknown_metric.json()["error"]["message"]
    bad_grain = client.get(f"/api/v1/metrics/{metric_world.own}?grain=fortnight")
    assert bad_grain.status_code == 422
    assert bad_grain.json()["error"]["code"] == "invalid_request"
    unknown_area = client.get("/api/v1/metrics/E99999999")
    assert unknown_area.status_code == 404
    assert unknown_area.json()["error"]["code"] == "not_found"
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/metrics/{area_code}" in schema["paths"]
