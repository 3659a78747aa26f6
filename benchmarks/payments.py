"""Payment for performance at national scale, on PostgreSQL.

A published synthetic nation with every one of its 151 areas' plans approved and pools open,
and each area's non-elective admissions stored for the four quarters of 2015-16. Each round
pays one quarter the way the national team does: draft the run from the stored values, check
it, approve it and pay it into all 151 pools (two entries an area), in one unit of work.

Beside it, in the same round, the floor: the least that work can be, which is reading the
same stored values and plans and posting the very same entries straight into the pools in
one batch, in a transaction that is then rolled back. The ratio is the price of the run's
bookkeeping (workflow, lines, audit). The target is a national run in under a second.

Then the what-if: ``ambitions.what_if`` for randomly chosen areas and ambitions, timed one
by one (p50, p95), beside the floor of reading the area's stored monthly series alone. The
what-if page's target is a p95 under 200 ms.

Run: ``python -m benchmarks payments``. It starts its own throwaway PostgreSQL server unless
``CAREPOOL_BENCH_POSTGRES_URL`` names one. Every round is reported, not only the best.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from benchmarks.common import parser, run, throwaway_postgres
from benchmarks.ledger_import import _approve, finance, load, published_nation
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.payment import QuarterResult, RunAction, rule_for
from carepool.domain.roles import SYSTEM, principal
from carepool.frameworks import load_framework
from carepool.geography.service import year_geography
from carepool.metrics.service import results as metric_results
from carepool.payments.service import ambitions
from carepool.payments.service import runs as payments
from carepool.pools.service import ledger
from carepool.store.db import engine_for, unit_of_work

YEAR = "2015-16"
WHAT_IF_CALLS = 200
RUN_TARGET_SECONDS = 1.0
WHAT_IF_TARGET_MS = 200.0
DRAFTER = principal("alice", "Alice", ["national_admin"])
CHECKER = principal("bob", "Bob", ["analyst"])
APPROVER = principal("carol", "Carol", ["health_approver"])


def setup(url: str) -> list[str]:
    """The nation, every plan approved, every pool open, four quarters of admissions stored."""
    engine = published_nation(url)
    with unit_of_work(engine) as session:
        codes = [area.code for area in year_geography(session, YEAR).areas]
    for code in codes:
        with unit_of_work(engine) as session:
            _approve(session, code)
            ledger.open_pool(session, YEAR, code, finance(code))
    with unit_of_work(engine) as session:
        values = _admissions(session, codes)
        metric_results.save_results(
            session, values, SYSTEM, engine="duckdb", data_vintage="bench-2015-16"
        )
    return codes


def _admissions(session: Session, codes: list[str]) -> list[MetricValue]:
    """Each area's quarterly and monthly admissions around its ambition: some meet it, some
    do not."""
    rng = random.Random(2015)
    values = []
    for code in codes:
        pool = ledger.pool_for(session, YEAR, code, SYSTEM)
        found = ambitions.in_force(session, pool)
        assert found is not None
        for number in range(1, 5):
            baseline = found.baselines[number - 1]
            fall = baseline - found.quarters[number - 1]
            actual = int(baseline - fall * Decimal(rng.uniform(-1.0, 2.0)))
            label = f"{YEAR} Q{number}"
            values.append(_value(code, label, Grain.QUARTER, actual))
            for month in range(3):
                name = (
                    f"2015-{(number - 1) * 3 + month + 4:02d}"
                    if number < 4
                    else (f"2016-{month + 1:02d}")
                )
                values.append(_value(code, name, Grain.MONTH, actual // 3 + rng.randint(-20, 20)))
    return values


def _value(code: str, period: str, grain: Grain, count: int) -> MetricValue:
    return MetricValue(
        "non_elective_admissions", 1, code, period, grain, max(0, count), 500_000,
        Decimal(max(0, count)),
    )  # fmt: skip


def pay_quarter(url: str, number: int) -> tuple[float, int, int]:
    """Draft, check, approve and pay one quarter: seconds, areas and entries posted."""
    engine = engine_for(url)
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        run = payments.draft(session, YEAR, number, DRAFTER).run
        payments.move(session, run, RunAction.CHECK, CHECKER)
        payments.move(session, run, RunAction.APPROVE, APPROVER)
        paid = payments.pay(session, run, SYSTEM)
    seconds = time.perf_counter() - started
    return seconds, len(paid.entries), sum(len(ids) for ids in paid.entries.values())


def floor_quarter(url: str, number: int) -> float:
    """Read the same inputs and post the same entries, then roll back: the floor."""
    engine = engine_for(url)
    design = load_framework(YEAR).payment_in_force
    rule = rule_for(design.kind, design.parameters)
    label = ambitions.quarter_period(YEAR, number).label
    nhs = load_framework(YEAR).plan_rules.nhs_stream
    end = ambitions.quarter_period(YEAR, number).end
    with Session(engine) as session:
        started = time.perf_counter()
        found, _missing = payments.gather(session, YEAR, number, label, "bench-2015-16")
        batches = []
        for item in found:
            line = rule.assess(QuarterResult(*_fields(item.result)))
            if not line.pot_pence:
                continue
            ccgs = payments.ccg_weights(ledger.plan_content(session, item.pool), nhs)
            key = f"floor:{label}:{item.pool.area_code}"
            entries = payments.payment_entries(line, ccgs, end, key, "floor", "bench-2015-16")
            batches.append((item.pool, entries))
        ledger.post_across(session, batches, SYSTEM)
        seconds = time.perf_counter() - started
        session.rollback()
    return seconds


def _fields(result: QuarterResult) -> tuple[Any, ...]:
    return (result.area_code, result.quarter, result.baseline, result.plan, result.actual)


def what_ifs(url: str, codes: list[str]) -> tuple[list[float], list[float]]:
    """Milliseconds for each what-if, and for each floor read of the same area's series."""
    engine = engine_for(url)
    rng = random.Random(7)
    timed, floor = [], []
    for _ in range(WHAT_IF_CALLS):
        code, number = rng.choice(codes), rng.randint(1, 4)
        with unit_of_work(engine) as session:
            started = time.perf_counter()
            metric_results.series(session, "non_elective_admissions", code, Grain.MONTH)
            floor.append((time.perf_counter() - started) * 1000)
        with unit_of_work(engine) as session:
            started = time.perf_counter()
            tried = Decimal(rng.randint(500, 5000))
            ambitions.what_if(session, YEAR, code, number, SYSTEM, ambition=tried)
            timed.append((time.perf_counter() - started) * 1000)
    return timed, floor


def _p(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (it takes no options; ``--help`` says what it does)."""
    parser("benchmarks.payments", __doc__).parse_args(argv or [])
    return run(measure)


def measure() -> int:
    with throwaway_postgres("bench-payments") as url:
        print("setting up: 151 approved plans and open pools (a few minutes)")
        codes = setup(url)
        failed = False
        print(f"{len(codes)} areas; load {load():.2f}")
        for number in range(1, 5):
            floor = floor_quarter(url, number)
            seconds, areas, entries = pay_quarter(url, number)
            ok = seconds < RUN_TARGET_SECONDS
            failed |= not ok
            print(
                f"round Q{number}: national run {seconds:.3f} s ({areas} areas, {entries} "
                f"entries) vs floor {floor:.3f} s = {seconds / floor:.2f}x; target < "
                f"{RUN_TARGET_SECONDS:.0f} s {'met' if ok else 'MISSED'}; load {load():.2f}"
            )
        timed, floor_ms = what_ifs(url, codes)
        p95 = _p(timed, 0.95)
        ok = p95 < WHAT_IF_TARGET_MS
        failed |= not ok
        print(
            f"what-if: p50 {_p(timed, 0.5):.1f} ms, p95 {p95:.1f} ms vs floor p95 "
            f"{_p(floor_ms, 0.95):.1f} ms = {p95 / _p(floor_ms, 0.95):.2f}x; target p95 < "
            f"{WHAT_IF_TARGET_MS:.0f} ms {'met' if ok else 'MISSED'} ({WHAT_IF_CALLS} calls)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
