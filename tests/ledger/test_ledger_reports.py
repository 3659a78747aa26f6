"""Budget against actual, forecasts, and the substitution check, on both engines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ledger_helpers import YEAR, Area, WriteSpend, the_pool
from sqlalchemy.orm import Session

from carepool.domain.errors import CarepoolError, Forbidden, ImportRejected
from carepool.domain.ledger import Light
from carepool.domain.money import split_by_weights
from carepool.domain.roles import SYSTEM, principal
from carepool.geography.service import year_geography
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


def test_own_spend_falling_while_the_nhs_transfer_rises_is_flagged(
    pool_area: Area, tmp_path: Path
) -> None:
    with unit_of_work(pool_area.engine) as session:
        other = year_geography(session, YEAR).areas[1].code
    path = tmp_path / "asc.csv"
    path.write_text(
        "area_code,financial_year,amount\n"
        f'{pool_area.code},2014-15,"£100,000,000"\n'
        f"{pool_area.code},2015-16,95000000.00\n"
        f"{other},2014-15,50000000\n"
        f"{other},2015-16,49000000\n",
        encoding="utf-8",
    )
    with unit_of_work(pool_area.engine) as session:
        outcome = ledger_reports.import_council_spend(session, path, SYSTEM)
        assert (outcome.created, outcome.updated) == (4, 0)
        report = ledger_reports.substitution(session, pool_area.code)
        assert report.baseline_year == "2014-15"
        base, year = report.years
        assert (base.own_spend, base.nhs_transfer, base.flagged) == (10_000_000_000, 0, False)
        assert year.own_change == -500_000_000 and year.transfer_change > 0 and year.flagged
        assert report.flagged
        plan_social_care = sum(
            s.planned_spend
            for s in ledger.plan_content(session, the_pool(session, pool_area.code)).schemes
            if s.funding_source == "ccg_minimum" and s.area_of_spend == "Social care"
        )
        assert year.nhs_transfer == plan_social_care
        assert not ledger_reports.substitution(session, other).flagged  # no pooled transfer
    path.write_text(f"area_code,financial_year,amount\n{other},2015-16,51000000\n", "utf-8")
    with unit_of_work(pool_area.engine) as session:
        revised = ledger_reports.import_council_spend(session, path, SYSTEM)
        assert (revised.created, revised.updated, revised.unchanged) == (0, 1, 0)


def test_a_bad_council_spend_file_is_refused_whole(pool_area: Area, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "area_code,financial_year,amount\n"
        "E1,2015/16,10\n"
        "E1,2014-15,lots\n"
        "E2,2014-15,10\n"
        "E2,2014-15,11\n",
        encoding="utf-8",
    )
    with unit_of_work(pool_area.engine) as session:
        with pytest.raises(ImportRejected, match="3 problems") as caught:
            ledger_reports.import_council_spend(session, path, SYSTEM)
        assert [(p.row, p.column) for p in caught.value.problems] == [
            (2, "financial_year"),
            (3, "amount"),
            (5, "financial_year"),
        ]
        assert ledger_reports.substitution(session, "E1").years == ()
