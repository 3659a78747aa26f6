"""Fixtures for the payment pages: the demo with two quarters of payment runs, built once.

``payment_db_file`` copies the demo, stores every pooled area's emergency admissions for the
first two quarters of 2015-16 (as if computed from data vintage ``test-extract-2015``) and
takes the runs through the national team's steps as the demo accounts:

- **Q1 is paid**: drafted by ``national``, checked by ``analyst``, approved by ``health`` and
  paid by ``national``. Most areas met their plan. The demo's own area (the ``area``,
  ``finance`` and ``signatory`` users') achieved half its planned fall, so part of its pot is
  retained by its CCGs; one other area admitted more than its baseline and earned nothing; one
  (``small``) measured only 5 admissions, a count the public must never see; and one
  (``missing``) has no measured value, so no line.
- **Q2 is drafted** by ``national`` and waits to be checked.

It adds a second national administrator (``national2``) and a finance officer for another
area (``finance-other``). Passwords are the demo password.

A test module uses them with ``pytest_plugins = ("payment_fixtures",)``, importing names from
here only under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carepool.accounts import service as accounts
from carepool.demo import service as demo
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.payment import RunAction
from carepool.domain.roles import SYSTEM, Principal
from carepool.geography.service import year_geography
from carepool.metrics.service.results import save_results
from carepool.payments.service import runs as payments
from carepool.payments.service.ambitions import plan_ambition
from carepool.pools.service import ledger, settlement
from carepool.store.db import engine_for, unit_of_work

YEAR = "2015-16"
VINTAGE = "test-extract-2015"
SMALL_COUNT = 5
OTHER_ADMIN = "national2"
OTHER_FINANCE = "finance-other"


@dataclass(frozen=True, slots=True)
class PaymentWorld:
    """Areas the payment tests use."""

    own: str  # the demo users' area: Q1 partly met
    own_name: str
    not_met: str  # admitted more than its baseline in Q1
    small: str  # measured 5 admissions in Q1
    missing: str  # no measured value in Q1 (a pool, but no line)
    no_pool: str  # no pool at all
    other_finance: str = OTHER_FINANCE  # finance officer for ``not_met``
    other_admin: str = OTHER_ADMIN


def _user(session: Session, username: str) -> Principal:
    found = accounts.find_user(session, username)
    assert found is not None, username
    return found


def _value(area: str, quarter: str, admissions: int) -> MetricValue:
    return MetricValue(
        metric="non_elective_admissions",
        definition_version=1,
        area_code=area,
        period=f"{YEAR} {quarter}",
        grain=Grain.QUARTER,
        numerator=admissions,
        denominator=250_000,
        value=Decimal(admissions),
    )


def _measure(session: Session, world: PaymentWorld) -> None:
    """Q1 and Q2 admissions: on plan, except the areas the world names."""
    values = []
    for pool in ledger.pools(session, YEAR):
        ambition = plan_ambition(ledger.plan_content(session, pool))
        if ambition is None:
            continue
        baselines, plans = ambition
        for number, plan in enumerate(plans[:2], start=1):
            baseline = baselines[number - 1]
            actual = int(plan)
            if pool.area_code == world.own and number == 1:
                actual = int(baseline - (baseline - plan) / 2)
            elif pool.area_code == world.not_met and number == 1:
                actual = int(baseline) + 40
            elif pool.area_code == world.small and number == 1:
                actual = SMALL_COUNT
            elif pool.area_code == world.missing and number == 1:
                continue
            values.append(_value(pool.area_code, f"Q{number}", actual))
    save_results(session, values, SYSTEM, engine="reference", data_vintage=VINTAGE)


def _world(session: Session) -> PaymentWorld:
    geo = year_geography(session, YEAR)
    own = next(g.area_code for g in _user(session, "finance").grants if g.area_code)
    assert own is not None
    pooled = sorted(p.area_code for p in ledger.pools(session, YEAR))
    others = [code for code in pooled if code != own]
    no_pool = next(a.code for a in geo.areas if a.code not in pooled)
    return PaymentWorld(
        own, geo.area(own).name, not_met=others[0], small=others[1], missing=others[2],
        no_pool=no_pool,
    )  # fmt: skip


def _build(engine: Engine) -> PaymentWorld:
    with unit_of_work(engine) as session:
        world = _world(session)
        _measure(session, world)
        accounts.create_user(
            session, OTHER_ADMIN, demo.DEMO_PASSWORD, ["national_admin"], SYSTEM,
            "Second national administrator",
        )  # fmt: skip
        accounts.create_user(
            session, OTHER_FINANCE, demo.DEMO_PASSWORD, [f"pool_finance:{world.not_met}"], SYSTEM
        )
    with unit_of_work(engine) as session:
        national = _user(session, "national")
        for pool in ledger.pools(session, YEAR):  # a settled year takes no payments
            if ledger.live_settlement(session, pool, YEAR):
                settlement.reopen(session, pool, national, "to take Q1's payments", YEAR)
        run = payments.draft(session, YEAR, 1, national).run
        payments.move(session, run, RunAction.CHECK, _user(session, "analyst"))
        payments.move(session, run, RunAction.APPROVE, _user(session, "health"))
        payments.pay(session, run, national)
        payments.draft(session, YEAR, 2, national)
    return world


def _copy(source: Path, folder: Path) -> Engine:
    target = folder / "carepool.db"
    shutil.copyfile(source, target)
    return engine_for(f"sqlite:///{target}")


@pytest.fixture(scope="session")
def payment_db_file(
    demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, PaymentWorld]:
    folder = tmp_path_factory.mktemp("payments")
    engine = _copy(demo_db_file, folder)
    world = _build(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return folder / "carepool.db", world


@pytest.fixture(scope="session")
def payment_world(payment_db_file: tuple[Path, PaymentWorld]) -> PaymentWorld:
    return payment_db_file[1]


@pytest.fixture(scope="module")
def payment_engine(
    payment_db_file: tuple[Path, PaymentWorld], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The payment world: this module's copy, for tests that only read."""
    engine = _copy(payment_db_file[0], tmp_path_factory.mktemp("payments-copy"))
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_payment_engine(
    payment_db_file: tuple[Path, PaymentWorld], tmp_path: Path
) -> Iterator[Engine]:
    """A copy of the payment world for one test that changes it."""
    engine = _copy(payment_db_file[0], tmp_path)
    yield engine
    engine.dispose()
