"""Payment runs end to end on one pooled area: drafted from stored values, checked, approved,
paid into the pool, re-run and re-paid without effect, trued up on a revised data vintage,
and explained back to the evidence."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledger_helpers import YEAR, Area
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carepool.domain.errors import CarepoolError, NotFound, StateTransitionError
from carepool.domain.ledger import Accounts
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.payment import (
    PaymentStatus,
    RevisionAction,
    RevisionStatus,
    RunAction,
    RunStatus,
)
from carepool.domain.roles import SYSTEM, principal
from carepool.metrics.service.results import save_results
from carepool.payments.service import ambitions
from carepool.payments.service import explain as explanations
from carepool.payments.service import runs as payments
from carepool.payments.service import status as standing
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work

UNIT = 149_000  # £1,490 an admission, in pence
Q1 = "2015-16 Q1"


def ambition(session: Session, area: str) -> tuple[Decimal, Decimal]:
    """The approved plan's non-elective admissions baseline and Q1 ambition."""
    pool = ledger.pool_for(session, YEAR, area, SYSTEM)
    found = ambitions.plan_ambition(ledger.plan_content(session, pool))
    assert found is not None
    return found[0][0], found[1][0]


def store_actual(
    engine: Engine, area: str, admissions: int, vintage: str, *, complete: bool = True
) -> None:
    value = MetricValue(
        metric="non_elective_admissions",
        definition_version=1,
        area_code=area,
        period=Q1,
        grain=Grain.QUARTER,
        numerator=admissions,
        denominator=500_000,
        value=Decimal(admissions),
        complete=complete,
    )
    with unit_of_work(engine) as session:
        save_results(session, [value], SYSTEM, engine="duckdb", data_vintage=vintage)


def approved(engine: Engine) -> int:
    """Draft, check and approve Q1; the run's id."""
    with unit_of_work(engine) as session:
        run = payments.draft(session, YEAR, 1, SYSTEM).run
        payments.move(session, run, RunAction.CHECK, SYSTEM)
        payments.move(session, run, RunAction.APPROVE, SYSTEM)
        return run.id


def performance_balances(engine: Engine, area: str) -> dict[str, int]:
    with unit_of_work(engine) as session:
        pool = ledger.pool_for(session, YEAR, area, SYSTEM)
        found = ledger.balances(session, pool)
    return {k: v for k, v in found.items() if "Performance" in k or k == Accounts.BANK}


def test_a_quarter_is_drafted_approved_and_paid_into_the_pool_once(pool_area: Area) -> None:
    engine, area = pool_area.engine, pool_area.code
    with unit_of_work(engine) as session:
        baseline, plan = ambition(session, area)
    planned_fall = baseline - plan
    assert planned_fall > 0
    half = int(baseline - planned_fall / 2)  # half the planned fall achieved, to the admission
    store_actual(engine, area, half, "v1")
    before = performance_balances(engine, area)

    run_id = approved(engine)
    with unit_of_work(engine) as session:
        paid = payments.pay(session, payments.find(session, run_id), SYSTEM)
        again = payments.pay(session, payments.find(session, run_id), SYSTEM)
        [row] = standing.status(session, YEAR, 1)

    pot = round(planned_fall * UNIT)
    earned = round((baseline - half) * UNIT)
    line = row.line
    assert (line.pot_pence, line.released_pence, line.status) == (
        pot,
        earned,
        PaymentStatus.PARTLY_MET,
    )
    assert line.released_pence + line.retained_pence == line.pot_pence
    assert len(paid.entries[area]) == 2 and again.already and again.entries == {}
    after = performance_balances(engine, area)
    assert after.get(Accounts.PERFORMANCE_HELD, 0) == 0  # all of it released or retained
    assert after[Accounts.BANK] - before.get(Accounts.BANK, 0) == -(pot - earned)
    retained = sum(v for k, v in after.items() if k.startswith("Income:PerformanceRetained"))
    assert retained == pot - earned
    with unit_of_work(engine) as session:
        assert ledger.check(session, YEAR)[0].balanced


def test_the_same_inputs_give_the_same_run_and_a_missing_value_is_named(pool_area: Area) -> None:
    engine, area = pool_area.engine, pool_area.code
    with unit_of_work(engine) as session, pytest.raises(NotFound, match="no non_elective"):
        payments.draft(session, YEAR, 1, SYSTEM)
    store_actual(engine, area, 10, "v1")
    with unit_of_work(engine) as session:
        first = payments.draft(session, YEAR, 1, SYSTEM)
        second = payments.draft(session, YEAR, 1, SYSTEM)
        with pytest.raises(
            NotFound, match=rf"2015-16 Q2: no measured value for 1 areas \({area}\)"
        ):
            payments.draft(session, YEAR, 2, SYSTEM)
    assert first.created and not second.created and first.run.id == second.run.id


def test_a_quarter_the_data_cover_only_in_part_is_not_paid_on(pool_area: Area) -> None:
    """An extract ending in May gives a Q1 of April and May only: not the quarter's count."""
    engine, area = pool_area.engine, pool_area.code
    store_actual(engine, area, 10, "to-2015-05", complete=False)
    with unit_of_work(engine) as session, pytest.raises(NotFound, match="no area can be paid"):
        payments.draft(session, YEAR, 1, SYSTEM)


def test_a_run_is_paid_only_once_approved_and_steps_keep_four_eyes(pool_area: Area) -> None:
    engine, area = pool_area.engine, pool_area.code
    store_actual(engine, area, 10, "v1")
    alice = principal("alice", "Alice", ["national_admin"])
    bob = principal("bob", "Bob", ["national_admin"])
    with unit_of_work(engine) as session:
        run = payments.draft(session, YEAR, 1, alice).run
        with pytest.raises(StateTransitionError, match="Draft cannot be paid"):
            payments.pay(session, run, bob)
        with pytest.raises(StateTransitionError, match="alice drafted this run"):
            payments.move(session, run, RunAction.CHECK, alice)
        payments.move(session, run, RunAction.CHECK, bob)
        with pytest.raises(StateTransitionError, match="bob checked this run"):
            payments.move(session, run, RunAction.APPROVE, bob)
        with pytest.raises(CarepoolError, match="paid with 'pay'"):
            payments.move(session, run, RunAction.PAY, alice)
        payments.move(session, run, RunAction.APPROVE, alice)
        assert run.status == RunStatus.APPROVED


def test_a_revised_vintage_trues_up_the_paid_run_and_the_explanation_reproduces_it(
    pool_area: Area,
) -> None:
    engine, area = pool_area.engine, pool_area.code
    with unit_of_work(engine) as session:
        baseline, plan = ambition(session, area)
    store_actual(engine, area, int(baseline) + 50, "provisional")  # a rise: nothing earned
    first = approved(engine)
    with unit_of_work(engine) as session:
        payments.pay(session, payments.find(session, first), SYSTEM)

    store_actual(engine, area, int(plan) - 10, "revised")  # the revised data: all earned
    with unit_of_work(engine) as session:
        drafted = payments.draft(session, YEAR, 1, SYSTEM, final=True)
        [change] = drafted.true_ups
        assert (change.before.released_pence, change.after.released_pence) == (
            0,
            change.after.pot_pence,
        )
    second = approved(engine)
    with unit_of_work(engine) as session:
        paid = payments.pay(session, payments.find(session, second), SYSTEM)
        assert paid.trued_up is not None and paid.trued_up.id == first
        assert payments.find(session, first).status == RunStatus.TRUED_UP
        assert len(paid.entries[area]) == 4  # two reversals, two replacements
        found = explanations.explain(session, YEAR, area, 1)
        [row] = standing.status(session, YEAR, 1)

    assert found.reproduced and found.final and found.data_vintage == "revised"
    assert row.line.status is PaymentStatus.MET and row.final
    pot = row.line.pot_pence
    after = performance_balances(engine, area)
    assert after.get(Accounts.PERFORMANCE_HELD, 0) == 0
    assert sum(v for k, v in after.items() if k.startswith("Income:PerformanceRetained")) == 0
    assert [e.postings for e in found.ledger_entries] == [
        ((Accounts.PERFORMANCE_HELD, pot), (Accounts.BANK, -pot)),
        ((Accounts.PERFORMANCE_HELD, -pot), (Accounts.BANK, pot)),
    ]
    assert [s.action for s in found.audit_events][-1] == "performance_payment"


def test_a_revised_ambition_needs_both_national_approvers_and_resizes_the_pot(
    pool_area: Area,
) -> None:
    engine, area = pool_area.engine, pool_area.code
    with unit_of_work(engine) as session:
        baseline, _plan = ambition(session, area)
    store_actual(engine, area, int(baseline), "v1")
    steeper = tuple(baseline - 40 for _ in range(4))
    health = principal("h", "Health", ["health_approver"])
    local = principal("l", "Local government", ["lg_approver"])
    with unit_of_work(engine) as session:
        revision = ambitions.propose(session, YEAR, area, steeper, "rebased", SYSTEM)
        ambitions.decide(session, revision, RevisionAction.APPROVE, health)
        with pytest.raises(StateTransitionError, match="already approved"):
            ambitions.decide(session, revision, RevisionAction.APPROVE, health)
        pending = payments.draft(session, YEAR, 1, SYSTEM).run
        assert pending.lines[0].ambition_revision_id is None  # not in force yet
        ambitions.decide(session, revision, RevisionAction.APPROVE, local)
        assert revision.status == RevisionStatus.APPROVED
        revised = payments.draft(session, YEAR, 1, SYSTEM).run
        rejected = ambitions.propose(session, YEAR, area, (baseline,) * 4, "flat", SYSTEM)
        with pytest.raises(StateTransitionError, match="say why"):
            ambitions.decide(session, rejected, RevisionAction.REJECT, local)
        ambitions.decide(session, rejected, RevisionAction.REJECT, local, "no evidence")

    assert revised.id != pending.id
    assert revised.lines[0].ambition_revision_id == revision.id
    assert revised.lines[0].pot_pence == 40 * UNIT  # the pot resized by the revision
    with unit_of_work(engine) as session:
        history = [r.status for r in ambitions.repo.revisions(session, YEAR, area)]
        in_force = ambitions.in_force(session, ledger.pool_for(session, YEAR, area, SYSTEM))
    assert history == [RevisionStatus.APPROVED, RevisionStatus.REJECTED]
    assert in_force is not None and in_force.revision_id == revision.id


def test_what_if_shows_the_pot_and_flags_an_ambition_beyond_natural_variation(
    pool_area: Area,
) -> None:
    engine, area = pool_area.engine, pool_area.code
    with unit_of_work(engine) as session:
        baseline, plan = ambition(session, area)
        tried = ambitions.what_if(session, YEAR, area, 1, SYSTEM, unit_cost_pence=100_000)
        steep = ambitions.what_if(session, YEAR, area, 1, SYSTEM, ambition=baseline / 2)
    assert tried.outlook.pot_pence == round((baseline - plan) * 100_000)
    assert steep.outlook.pot_pence == round(baseline / 2 * UNIT)
    # No monthly history is stored here: the spread is Poisson and nothing is flagged.
    assert steep.months_of_history == 0 and steep.outlook.credible
