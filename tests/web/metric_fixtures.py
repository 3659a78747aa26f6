"""Fixtures for the metric pages: the demo with two years of computed values, built once.

``metric_db_file`` copies the demo and stores, for every area, monthly values from April 2015
to March 2017 (with their quarters and years, added up from the months as the engines do) of
four metrics, as if the reference engine had computed them from a data vintage. The values
are invented for the tests, and a few are chosen:

- the ``area`` user's own area admits many more people to care homes in its last eight
  months, a shift that Making Data Count reads as special cause concern;
- in July 2015 the own area discharged only 6 people aged 65+ into reablement, 5 of them at
  home 91 days later: counts the public must never see;
- the own area's April 2015 emergency admissions are 1,234, which the public sees rounded to
  1,235.

It also stores a small Oflog-style ASC5 series for the own area and two others, and an
NHS England-style delayed-days series for England, marked as test figures.

A test module uses them with ``pytest_plugins = ("metric_fixtures",)``, importing names from
here only under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carepool.accounts import service as accounts
from carepool.domain.metric import Measure, round_half_even
from carepool.domain.metric_catalogue import definition
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.periods import month_label, months_between, quarter_label, year_label
from carepool.domain.roles import SYSTEM
from carepool.geography import repository as vintages
from carepool.geography.service import year_geography
from carepool.metrics import repository as statistics_store
from carepool.metrics.repository import Statistic
from carepool.metrics.service import results as metric_results
from carepool.metrics.service.published import ASC_OUTCOMES, DTOC, ENGLAND
from carepool.store.db import engine_for, unit_of_work

YEAR = "2015-16"
DATA_VINTAGE = "test-extract-2017-03"
ENGINE = "reference"
MONTHS = months_between(dt.date(2015, 4, 1), dt.date(2017, 3, 1))

CARE_HOMES = "care_home_admissions_65_plus"
REABLEMENT = "reablement_91_days"
EMERGENCY = "non_elective_admissions"
DELAYS = "delayed_transfers_of_care"

SMALL_MONTH = "2015-07"  # the own area's reablement counts are 5 of 6 this month
ROUNDED_MONTH = "2015-04"  # the own area's emergency admissions are 1,234 this month
OWN_EMERGENCY = 1234
DAYS = "delayed days"


@dataclass(frozen=True, slots=True)
class MetricWorld:
    """What the metric tests look for."""

    own: str  # the ``area`` user's area
    own_name: str
    others: tuple[str, ...]  # areas with published ASC5 figures besides the own area


Counts = dict[str, tuple[int, int | None]]  # month label → (numerator, denominator)


def _values(metric: str, area: str, months: Counts) -> list[MetricValue]:
    """Month, quarter and year values from monthly counts, as :func:`finalise` makes them."""
    found = definition(metric)
    periods: dict[tuple[Grain, str], list[str]] = defaultdict(list)
    for month in MONTHS:
        label = month_label(month)
        for grain, period in (
            (Grain.MONTH, label),
            (Grain.QUARTER, quarter_label(month)),
            (Grain.YEAR, year_label(month)),
        ):
            periods[(grain, period)].append(label)
    values = []
    for (grain, period), inside in periods.items():
        numerator = sum(months[m][0] for m in inside)
        events = [months[m][1] for m in inside]
        denominator = (
            sum(e or 0 for e in events) if found.measure is Measure.PERCENTAGE else events[0]
        )
        values.append(
            MetricValue(
                metric, found.version, area, period, grain, numerator, denominator,
                _value(found.measure, numerator, denominator, found.decimal_places),
            )
        )  # fmt: skip
    return values


def _value(measure: Measure, numerator: int, denominator: int | None, places: int) -> Decimal:
    if measure is Measure.COUNT or denominator is None:
        return Decimal(numerator)
    scale = 100 if measure is Measure.PERCENTAGE else 100_000
    return round_half_even(numerator * scale, denominator, places)


def _area_values(
    area: str, bands: dict[str, int], own: bool, rng: random.Random
) -> list[MetricValue]:
    labels = [month_label(m) for m in MONTHS]
    care: Counts = {
        m: (rng.randint(12, 30) + (30 if own and i >= len(labels) - 8 else 0), bands["65+"])
        for i, m in enumerate(labels)
    }
    reablement: Counts = {}
    for m in labels:
        people = rng.randint(30, 60)
        reablement[m] = (people * rng.randint(70, 90) // 100, people)
    emergency: Counts = {m: (rng.randint(800, 1500), bands["all"]) for m in labels}
    adults = bands["18-64"] + bands["65+"]
    delays: Counts = {m: (rng.randint(200, 600), adults) for m in labels}
    if own:
        reablement[SMALL_MONTH] = (5, 6)
        emergency[ROUNDED_MONTH] = (OWN_EMERGENCY, bands["all"])
    return [
        *_values(CARE_HOMES, area, care),
        *_values(REABLEMENT, area, reablement),
        *_values(EMERGENCY, area, emergency),
        *_values(DELAYS, area, delays),
    ]


def _published(session: Session, own: str, others: tuple[str, ...]) -> None:
    """A small ASC5 series by council and England's delayed days by month, as test figures."""
    asc = [
        Statistic("ASC5", "Outcome of short-term services: sequel to service", code,
                  f"{code} (test figures)", year, Grain.YEAR, Decimal(value), "percentage")
        for code, base in ((own, 75), (others[0], 80), (others[1], 85))
        for year, value in (("2015-16", f"{base}.5"), ("2016-17", f"{base + 1}.0"))
    ]  # fmt: skip
    months = [month_label(m) for m in MONTHS[:12]]
    dtoc = [
        Statistic(code, label, ENGLAND, "England", month, Grain.MONTH, Decimal(days), DAYS)
        for index, month in enumerate(months)
        for code, label, days in (
            ("DTOC_NHS", "Delayed days: NHS", 90_000 + 1_000 * index),
            ("DTOC_SOCIAL_CARE", "Delayed days: social care", 40_000 + 500 * (index % 3)),
            ("DTOC_BOTH", "Delayed days: both", 10_000 - 100 * index),
            ("DTOC_TOTAL", "Delayed days: total",
             90_000 + 1_000 * index + 40_000 + 500 * (index % 3) + 10_000 - 100 * index),
        )
    ]  # fmt: skip
    for kind, rows in ((ASC_OUTCOMES, asc), (DTOC, dtoc)):
        vintage = vintages.add_vintage(
            session, kind=kind, name=f"test-{kind}", source=f"test-{kind}.csv",
            sha256=f"{kind:0<64}"[:64], rows=len(rows), actor="test",
        )  # fmt: skip
        statistics_store.add_statistics(session, vintage, rows)


def _seed(engine: Engine) -> MetricWorld:
    rng = random.Random(2015)
    with unit_of_work(engine) as session:
        user = accounts.find_user(session, "area")
        assert user is not None
        own = next(g.area_code for g in user.grants if g.area_code)
        assert own is not None
        geo = year_geography(session, YEAR)
        values: list[MetricValue] = []
        for area in geo.areas:
            bands = geo.bands.get(area.code)
            if bands:
                values += _area_values(area.code, bands, area.code == own, rng)
        metric_results.save_results(
            session, values, SYSTEM, engine=ENGINE, data_vintage=DATA_VINTAGE
        )
        others = tuple(a.code for a in geo.areas if a.code != own)[:2]
        _published(session, own, others)
        return MetricWorld(own, geo.area(own).name, others)


def _copy(source: Path, folder: Path) -> Engine:
    target = folder / "carepool.db"
    shutil.copyfile(source, target)
    return engine_for(f"sqlite:///{target}")


@pytest.fixture(scope="session")
def metric_db_file(
    demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, MetricWorld]:
    folder = tmp_path_factory.mktemp("metrics")
    engine = _copy(demo_db_file, folder)
    world = _seed(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return folder / "carepool.db", world


@pytest.fixture(scope="session")
def metric_world(metric_db_file: tuple[Path, MetricWorld]) -> MetricWorld:
    return metric_db_file[1]


@pytest.fixture(scope="module")
def metric_engine(
    metric_db_file: tuple[Path, MetricWorld], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The demo with computed values and published statistics: this module's copy, read only."""
    engine = _copy(metric_db_file[0], tmp_path_factory.mktemp("metrics-copy"))
    yield engine
    engine.dispose()
