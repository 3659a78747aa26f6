"""The public finds an area and reads its scorecard: money, plan, results against England,
payments and returns, each as the capability that owns it shows it to the public."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from test_pages_html import check_page, parse

from carepool.domain.benchmark import Verdict
from carepool.domain.metric_catalogue import definition
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.money import format_money
from carepool.domain.payment import RunStatus
from carepool.domain.roles import PUBLIC
from carepool.geography.service import year_geography
from carepool.metrics.service import pages as metric_pages
from carepool.metrics.service import results as metric_results
from carepool.scorecard.routes import matching
from carepool.scorecard.service import metric_card, scorecard
from carepool.store.db import unit_of_work

if TYPE_CHECKING:
    from metric_fixtures import MetricWorld
    from payment_fixtures import PaymentWorld

pytest_plugins = ("metric_fixtures", "payment_fixtures")

YEAR = "2015-16"
ClientFor = Callable[..., Any]


def test_an_area_is_found_by_name_council_or_code(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    with unit_of_work(demo_engine) as session:
        geo = year_geography(session, YEAR)
        area = sorted(geo.areas, key=lambda a: a.name)[10]
    client = client_for(demo_engine)
    every = client.get(f"/areas?year={YEAR}")
    assert every.status_code == 200
    check_page(every.text, "the area finder")
    assert every.text.count("/scorecard?year=") == len(geo.areas)

    found = client.get(
        "/areas", params={"q": area.code.lower(), "year": YEAR}, follow_redirects=False
    )
    assert found.status_code == 303
    assert found.headers["location"] == f"/areas/{area.code}/scorecard?year={YEAR}"
    by_name = client.get(
        "/areas", params={"q": area.name.upper(), "year": YEAR}, follow_redirects=False
    )
    assert by_name.status_code in (200, 303)
    if by_name.status_code == 200:  # the name is part of another area's too
        assert f"/areas/{area.code}/scorecard" in by_name.text

    nothing = client.get("/areas", params={"q": "no such place anywhere", "year": YEAR})
    assert nothing.status_code == 200 and "0 areas matching" in nothing.text
    check_page(nothing.text, "a search that finds nothing")
    assert client.get("/areas", params={"q": "x" * 101}).status_code == 400


def test_matching_ignores_case_accents_and_punctuation(demo_engine: Engine) -> None:
    with unit_of_work(demo_engine) as session:
        areas = list(year_geography(session, YEAR).areas)
    target = areas[0]
    shouted = f"  {target.name.upper()}. "
    assert target in matching(areas, {}, shouted)
    assert matching(areas, {}, "zzzz qqqq") == []


def test_the_scorecard_shows_the_money_plan_and_payments_the_public_may_see(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    own = payment_world.own
    with unit_of_work(payment_engine) as session:
        card = scorecard(session, YEAR, own, PUBLIC)
    client = client_for(payment_engine)
    page = client.get(f"/areas/{own}/scorecard?year={YEAR}")
    assert page.status_code == 200
    check_page(page.text, "a scorecard")
    money = "".join(parse(page.text).find(".//dl[@id='scorecard-money']").itertext())  # type: ignore[union-attr]
    allocation_page = client.get(f"/areas/{own}?year={YEAR}").text
    total = re.search(r'id="area-total">([^<]+)<', allocation_page)
    assert total and total.group(1) in money
    assert card.plan is not None
    if card.plan.approved:
        assert format_money(card.plan.pooled) in money
        assert f"/plans/{YEAR}/{own}/read" in page.text
    paid = [row for row in card.payments if row.run_status == RunStatus.PAID]
    assert paid and len(paid) == len(card.payments)  # the drafted Q2 is not public
    assert format_money(card.earned) in money
    payments = parse(page.text).find(".//table[@id='scorecard-payments']")
    assert payments is not None
    assert [r.line.quarter for r in card.payments] == [
        "".join(th.itertext()) for th in payments.iter("th") if th.get("scope") == "row"
    ]


def test_results_are_compared_with_england_from_englands_counts(
    metric_engine: Engine, metric_world: MetricWorld, client_for: ClientFor
) -> None:
    own = metric_world.own
    with unit_of_work(metric_engine) as session:
        card = scorecard(session, YEAR, own, PUBLIC)
        assert card.metrics, "the metric world has complete years"
        for shown in card.metrics:
            source = metric_pages.provenance(session, shown.definition.id)
            assert source is not None
            every = metric_results.period_values(
                session, shown.definition.id, shown.period, data_vintage=source.data_vintage
            )
            if shown.england is not None:
                scale = 100 if shown.definition.measure.value == "percentage" else 100_000
                expected = (
                    Decimal(sum(v.numerator for v in every))
                    * scale
                    / sum(v.denominator or 0 for v in every)
                )
                places = Decimal(1).scaleb(-shown.definition.decimal_places)
                assert abs(shown.england - expected) <= places
            assert shown.period == source.latest_complete_period(Grain.YEAR)
    page = client_for(metric_engine).get(f"/areas/{own}/scorecard?year={YEAR}")
    check_page(page.text, "a scorecard with metrics")
    table = parse(page.text).find(".//table[@id='spine-table']")
    assert table is not None
    assert len([r for r in table.iter("tr")]) == len(card.metrics) + 1
    assert 'id="spine-title"' in page.text


def test_across_areas_some_do_better_than_england_and_some_worse(
    metric_engine: Engine, metric_world: MetricWorld
) -> None:
    """A scorecard that said "similar" everywhere would hide the method's bugs."""
    verdicts: Counter[Verdict] = Counter()
    with unit_of_work(metric_engine) as session:
        areas = sorted(a.code for a in year_geography(session, YEAR).areas)[:30]
        for code in areas:
            for shown in scorecard(session, YEAR, code, PUBLIC).metrics:
                verdicts[shown.verdict] += 1
    assert verdicts[Verdict.BETTER] and verdicts[Verdict.WORSE] and verdicts[Verdict.SIMILAR]


def test_a_withheld_value_is_never_coloured() -> None:
    """Three care home admissions are withheld from the public, so the comparison that would
    reveal roughly how many there were is withheld too."""
    metric = definition("care_home_admissions_65_plus")
    values = [
        MetricValue(metric.id, metric.version, f"E0600000{i}", "2015-16", Grain.YEAR, n, 20_000,
                    Decimal(n * 100_000) / 20_000)
        for i, n in enumerate([3, 400, 150, 120, 90])
    ]  # fmt: skip
    card = metric_card(metric, "2015-16", "v", values[0], values, {}, (), False, None)
    assert card.value.withheld
    assert card.verdict is Verdict.NOT_COMPARED and card.quarter is None
    shown = metric_card(metric, "2015-16", "v", values[1], values, {}, (), False, None)
    assert shown.verdict is Verdict.WORSE and shown.quarter == 4  # 2,000 per 100,000


def test_the_scorecard_answers_the_substitution_question_for_the_areas_councils(
    demo_engine: Engine, client_for: ClientFor
) -> None:
    flags: Counter[bool] = Counter()
    with unit_of_work(demo_engine) as session:
        areas = list(year_geography(session, YEAR).areas)
        for area in areas:
            card = scorecard(session, YEAR, area.code, PUBLIC)
            assert {c.code for c in card.substitution} <= set(area.councils)
            flags.update(c.flagged for c in card.substitution)
        shown = next(a for a in areas if scorecard(session, YEAR, a.code, PUBLIC).substitution)
    assert flags[True] and flags[False], "the demo has councils flagged and not"
    page = client_for(demo_engine).get(f"/areas/{shown.code}/scorecard?year={YEAR}").text
    section = parse(page).find(".//dl[@id='scorecard-substitution']")
    assert section is not None and "lagged" in "".join(section.itertext())
