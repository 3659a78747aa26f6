"""The demo's payment for performance: 2015-16 paid quarter by quarter, then trued up.

The national team pays each quarter's performance element through its four-eyes steps, with
the demo's own accounts: the administrator drafts the run, the analyst checks it, the
national approver for health approves it and the administrator pays it into every pool.

A real quarter is paid a few weeks after it ends, on provisional data, so the demo pays all
four on a provisional vintage: an extract of its person-level data in which some emergency
admissions from the last days of each quarter are not coded yet
(:data:`LATE_CODING`). Then the full data is computed again as the final, revised vintage,
and Q1 is drafted on it as final: paying that run trues the provisional one up, reversing the
entries of each area whose payment changes and posting the new amounts. The metric pages
show the final vintage, the one computed last.

A settled year takes no payments, so the pools the demo settled are reopened first, as the
national team would have to, and settled again once the year is paid.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.demo.metrics import DEMO_METRICS_YEAR
from carepool.demo.service import national_principal
from carepool.domain.payment import RunAction, TrueUp
from carepool.domain.roles import Principal
from carepool.metrics.service import compute as metric_compute
from carepool.payments.service import runs as payments
from carepool.person_data import service as person_data
from carepool.person_data.service import LateCoding
from carepool.pools.service import ledger, settlement

LATE_CODING = LateCoding(days=7, every=4)
"""One in four emergency spells admitted in a quarter's last week is not in the provisional
extract: about 2% of a quarter's emergency admissions, all of them late in the quarter."""
TRUED_UP = 1
"""The quarter the demo pays again on the final data."""
DEMO_PAYMENTS_STEPS = 5
"""How many progress messages :func:`build_demo_payments` sends."""


@dataclass(frozen=True)
class DemoPayments:
    """What the demo's payments step did (nothing when the year's runs were already made)."""

    created: bool
    provisional_vintage: str = ""
    final_vintage: str = ""
    paid: tuple[str, ...] = ()
    true_ups: tuple[TrueUp, ...] = ()


@dataclass(frozen=True, slots=True)
class NationalTeam:
    """Who takes each step of a run: four eyes between drafting, checking and approving."""

    drafter: Principal
    checker: Principal
    approver: Principal
    payer: Principal


def national_team() -> NationalTeam:
    """The demo's national accounts, each acting in its own role."""
    admin = national_principal("national")
    return NationalTeam(
        drafter=admin,
        checker=national_principal("analyst"),
        approver=national_principal("health"),
        payer=admin,
    )


def build_demo_payments(
    session: Session, data_dir: Path, progress: Callable[[str], None] | None = None
) -> DemoPayments:
    """Pay the demo year's four quarters on a provisional vintage, then true Q1 up on the
    final one (the data directory's); safe to run again: once the year has runs, nothing
    is done."""
    say = progress or (lambda _message: None)
    if payments.runs(session, DEMO_METRICS_YEAR):
        return DemoPayments(created=False)
    team = national_team()
    settled = _reopen_settled(session, team.payer)
    final = metric_compute.data_vintage(data_dir)
    provisional = _compute_provisional(session, data_dir, say)
    say(f"Paying {DEMO_METRICS_YEAR}'s performance element quarter by quarter (provisional)")
    paid = [pay_quarter(session, number, team, provisional, final=False) for number in range(1, 5)]
    say("Computing every metric again from the final data")
    _compute(session, data_dir)
    say(f"Truing up Q{TRUED_UP} on the final data")
    outcome = payments.draft(
        session, DEMO_METRICS_YEAR, TRUED_UP, team.drafter, data_vintage=final, final=True
    )
    paid.append(_take_through(session, outcome, team))
    for pool in settled:
        settlement.settle(session, pool, team.payer, DEMO_METRICS_YEAR)
    return DemoPayments(True, provisional, final, tuple(paid), outcome.true_ups)


def _reopen_settled(session: Session, admin: Principal) -> list[ledger.PoolRow]:
    """Reopen each pool whose demo year is settled, so the year's runs can be paid into it;
    the pools reopened."""
    reopened = []
    for pool in ledger.pools(session, DEMO_METRICS_YEAR):
        if ledger.live_settlement(session, pool, DEMO_METRICS_YEAR):
            reason = "to take the year's performance payments, paid after it was settled"
            settlement.reopen(session, pool, admin, reason, DEMO_METRICS_YEAR)
            reopened.append(pool)
    return reopened


def pay_quarter(
    session: Session, number: int, team: NationalTeam, vintage: str, *, final: bool
) -> str:
    """Draft, check, approve and pay one quarter's run on ``vintage``; the run's label."""
    outcome = payments.draft(
        session, DEMO_METRICS_YEAR, number, team.drafter, data_vintage=vintage, final=final
    )
    return _take_through(session, outcome, team)


def _take_through(session: Session, drafted: payments.RunOutcome, team: NationalTeam) -> str:
    """Check, approve and pay a drafted run, each step by its own person; the run's label."""
    run = drafted.run
    payments.move(session, run, RunAction.CHECK, team.checker)
    payments.move(session, run, RunAction.APPROVE, team.approver)
    payments.pay(session, run, team.payer)
    return payments.run_label(run)


def _compute_provisional(session: Session, data_dir: Path, say: Callable[[str], None]) -> str:
    """Extract the provisional data beside the data directory and compute its metrics; the
    extract is deleted once computed, its vintage kept with the values."""
    extract = data_dir.with_name(f"{data_dir.name}-provisional")
    say("Extracting provisional data: some late emergency admissions not coded yet")
    try:
        vintage = person_data.provisional_extract(data_dir, extract, LATE_CODING).vintage
        say("Computing every metric from the provisional data")
        _compute(session, extract)
    finally:
        shutil.rmtree(extract, ignore_errors=True)
    return vintage


def _compute(session: Session, data_dir: Path) -> None:
    metric_compute.compute(
        session,
        engine="duckdb",
        data_dir=data_dir,
        year=DEMO_METRICS_YEAR,
        actor=national_principal("analyst"),
    )
