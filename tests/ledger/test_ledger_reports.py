"""Budget against actual and forecasts, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from ledger_helpers import Area, WriteSpend, the_pool
from sqlalchemy.orm import Session

from carepool.domain.errors import CarepoolError, Forbidden
from carepool.domain.ledger import Light
from carepool.domain.money import split_by_weights
from carepool.domain.roles import SYSTEM, principal
from carepool.pools.service import ledger
from carepool.pools.service import reports as ledger_reports
from carepool.store.db import unit_of_work

Q1_END = dt.date(2015, 6, 30)


def pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def spend_q1(session: Session, area: Area, write_spend: WriteSpend) -> dict[str, int]:
    """S1 spends a quarter of its budget in Q1, S2 26%, S3 nothing: returns the amounts."""
    pool = the_pool(session, area.code)
    schemes = {s.ref: s for s in ledger.plan_content(session, pool).schemes}
    spent = {"S1": schemes["S1"].planned_spend // 4, "S2": schemes["S2"].planned_spend * 26 // 100}
    rows = [
        ("2015-04-30", "S1", "Council", pounds(spent["S1"] - 1000), "Q1-A"),
        ("2015-06-30", "S1", "Council", pounds(1000), "Q1-B"),
        ("2015-05-31", "S2", "Trust", pounds(spent["S2"]), "Q1-C"),
        ("2015-07-01", "S2", "Trust", "500.00", "Q2-A"),  # after the report date
    ]
    ledger.import_spend(session, pool, write_spend("q1.csv", rows), SYSTEM)
    return spent


def test_budget_against_actual_projects_the_run_rate_and_lights_it(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    with unit_of_work(pool_area.engine) as session:
        spent = spend_q1(session, pool_area, write_spend)
        pool = the_pool(session, pool_area.code)
        report = ledger_reports.budget_vs_actual(session, pool, as_at=Q1_END)
        lines = {line.key: line for line in report.group("scheme")}
        s1, s2, s3 = lines["S1"], lines["S2"], lines["S3"]
        assert s1.actual_to_date == spent["S1"] and s1.forecast == 4 * spent["S1"]
        assert s1.light is Light.GREEN and s1.forecast_basis.startswith("run rate")
        assert s2.forecast == 4 * spent["S2"] and s2.light is Light.AMBER  # 4% over
        assert s2.actual_by_quarter == (spent["S2"], 50_000, 0, 0)
        assert (s3.actual_to_date, s3.forecast, s3.light) == (0, 0, Light.RED)
        assert sum(s1.budget_by_quarter) == s1.budget
        assert s1.budget_to_date == split_by_weights(s1.budget, {0: 3, 1: 9})[0]
        total = report.total
        assert total.budget == sum(line.budget for line in report.group("scheme"))
        assert total.budget == sum(line.budget for line in report.group("area_of_spend"))
        assert total.forecast == sum(line.forecast for line in report.group("funding_stream"))
        assert {line.key for line in report.group("area_of_spend")} >= {"Social care"}


def test_the_pool_managers_forecast_replaces_the_run_rate(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    with unit_of_work(pool_area.engine) as session:
        spend_q1(session, pool_area, write_spend)
        pool = the_pool(session, pool_area.code)
        budget = ledger.plan_content(session, pool).schemes[2].planned_spend
        ledger_reports.set_forecast(
            session,
            pool,
            budget,
            "S3 starts in July",
            SYSTEM,
            scheme="S3",
            as_at=dt.date(2015, 6, 1),
        )
        ledger_reports.set_forecast(
            session, pool, 123_456_789, "board paper", SYSTEM, as_at=dt.date(2015, 6, 2)
        )
        ledger_reports.set_forecast(
            session, pool, 1, "too late for this report", SYSTEM, as_at=dt.date(2015, 7, 2)
        )
        report = ledger_reports.budget_vs_actual(session, pool, as_at=Q1_END)
        s3 = next(line for line in report.group("scheme") if line.key == "S3")
        assert (s3.forecast, s3.light) == (budget, Light.GREEN)
        assert s3.forecast_basis == "the pool manager's latest forecast"
        assert report.total.forecast == 123_456_789
        with pytest.raises(CarepoolError, match="cannot be negative"):
            ledger_reports.set_forecast(session, pool, -1, "", SYSTEM)
        with pytest.raises(CarepoolError, match="'S99' is not in pool"):
            ledger_reports.set_forecast(session, pool, 1, "", SYSTEM, scheme="S99")
        analyst = principal("an", "Analyst", ["analyst"])
        with pytest.raises(Forbidden):
            ledger_reports.set_forecast(session, pool, 1, "", analyst)
