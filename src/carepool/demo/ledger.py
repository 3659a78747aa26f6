"""The demo's pooled budgets: a year of books for every approved 2015-16 plan.

Each pool is opened from its approved plan, then given what a real year looks like: monthly
spend per scheme from the host's finance system (heavier in winter), imported as a file the
way a pool manager would; partners' payments, mostly on time, a few late or short; a
forecast from some pool managers at the end of December; the first three quarters closed;
and the year-end risk share settled. Some pools overspend by 2–8%, some underspend, a few
land on budget, so every traffic light and both directions of settlement have something
true to show. Everything is synthetic and deterministic for the seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.demo.budgets import demo_budgets
from carepool.domain.ledger import EntryKind
from carepool.domain.money import Pence, split_by_weights
from carepool.domain.periods import months, quarters
from carepool.domain.plan import RiskShareKind, Scheme
from carepool.domain.roles import SYSTEM
from carepool.geography.service import YearGeography
from carepool.pools.repository import ledger as repo
from carepool.pools.repository.ledger import PoolRow
from carepool.pools.service import ledger
from carepool.pools.service import reports as ledger_reports
from carepool.pools.service import settlement as ledger_settle

SEASON = (8, 8, 8, 8, 8, 8, 8, 9, 10, 10, 9, 9)
"""Relative spend April to March: winter pressures push December to March up."""


def demo_ledgers(session: Session, geo: YearGeography, rng: random.Random) -> int:
    """Open and run a pool for every approved plan of the year; safe to run again."""
    year = geo.framework.year
    areas = ledger.approved_areas(session, year)
    if not areas or repo.find_pool(session, year, areas[0]) is not None:
        return 0
    with tempfile.TemporaryDirectory(prefix="carepool-demo-spend-") as folder:
        pools = [ledger.open_pool(session, year, code, SYSTEM, geo=geo) for code in areas]
        demo_budgets(session, pools, geo, Path(folder))
        for pool in pools:
            _run_year(session, pool, rng, Path(folder))
    return len(areas)


def _run_year(session: Session, pool: PoolRow, rng: random.Random, folder: Path) -> None:
    factor = _outturn_factor(rng)
    schemes = [s for s in ledger.plan_content(session, pool).schemes if s.planned_spend > 0]
    path = folder / f"spend-{pool.area_code}-{pool.year}.csv"
    _write_spend(path, pool, schemes, factor, rng)
    ledger.import_spend(session, pool, path, SYSTEM)
    _receipts(session, pool, rng)
    if rng.random() < 0.5:
        planned = sum(s.planned_spend for s in schemes)
        forecast = int(planned * factor) // 100_000 * 100_000
        ledger_reports.set_forecast(
            session,
            pool,
            forecast,
            "Month 9 forecast to the board",
            SYSTEM,
            as_at=dt.date(pool.starts.year, 12, 31),
        )
    for quarter in quarters(pool.year)[:3]:
        ledger.close_period(session, pool, quarter.label, SYSTEM)
    _complete_terms(session, pool)
    ledger_settle.settle(session, pool, SYSTEM)


def _complete_terms(session: Session, pool: PoolRow) -> None:
    """Fill in risk-share parameters the synthetic plans leave out, as a recorded variation."""
    kind = RiskShareKind(pool.risk_share_kind or RiskShareKind.PROPORTIONAL)
    parameters = dict(pool.risk_share_parameters or {})
    if kind is RiskShareKind.FIXED_PERCENTAGES and not parameters.get("percentages"):
        pooled = {c: 1 for c in pool.partners} if pool.partners else {pool.area_code: 1}
        council = {pool.area_code: 2} if pool.area_code in pooled else {}
        basis_points = split_by_weights(10_000, {**pooled, **council})
        parameters["percentages"] = {p: str(Decimal(bp) / 100) for p, bp in basis_points.items()}
    elif kind is RiskShareKind.HOST_FIRST and "cap" not in parameters:
        parameters["cap"] = "£250,000"
    else:
        return
    ledger_settle.vary_risk_share(
        session,
        pool,
        kind,
        parameters,
        "Parameters agreed by the partners' finance directors",
        SYSTEM,
    )


def _outturn_factor(rng: random.Random) -> Fraction:
    """Spend as a share of budget: over by 2–8%, under by 1–8%, or within half a percent."""
    roll = rng.random()
    if roll < 0.4:
        return 1 + Fraction(rng.randint(200, 800), 10_000)
    if roll < 0.8:
        return 1 - Fraction(rng.randint(100, 800), 10_000)
    return 1 + Fraction(rng.randint(-50, 50), 10_000)


def _write_spend(
    path: Path, pool: PoolRow, schemes: list[Scheme], factor: Fraction, rng: random.Random
) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("date", "scheme", "provider", "amount", "reference"))
        for scheme in schemes:
            wobble = factor * (1 + Fraction(rng.randint(-150, 150), 10_000))
            total = int(scheme.planned_spend * wobble)
            weights = {i: w * rng.randint(90, 110) for i, w in enumerate(SEASON)}
            for index, amount in split_by_weights(total, weights).items():
                month = months(scheme.financial_year)[index]
                day = month.end - dt.timedelta(days=rng.randint(0, 3))
                reference = f"{pool.area_code}-{scheme.ref}-{month.label}"
                writer.writerow(
                    (
                        day.isoformat(),
                        scheme.ref,
                        scheme.provider,
                        f"{amount // 100}.{amount % 100:02d}",
                        reference,
                    )
                )


def _receipts(session: Session, pool: PoolRow, rng: random.Random) -> None:
    """Pay most instalments on time; a few late, a few short, one in fifty not at all."""
    entries = []
    for stored in repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE):
        due = stored.entry
        roll = rng.random()
        if roll < 0.02:
            continue
        amount = due.postings[0].amount
        delay = rng.randint(35, 75) if roll < 0.10 else rng.randint(0, 10)
        if 0.10 <= roll < 0.15:
            amount = Pence(amount * rng.randint(90, 98) // 100)
        partner, stream = str(due.source["partner"]), str(due.source["stream"])
        reference = f"BACS-{pool.area_code}-{stored.id}"
        entries.append(
            ledger.receipt_entry(
                pool,
                partner,
                stream,
                amount,
                due.date + dt.timedelta(days=delay),
                reference,
                due.correlation,
            )
        )
    ids = ledger.post_many(session, pool, entries, SYSTEM)
    ledger.record_for_pool(
        session,
        pool,
        actor=SYSTEM.username,
        action="record_receipts",
        after={"receipts": len(ids), "total_pence": sum(e.postings[0].amount for e in entries)},
    )
