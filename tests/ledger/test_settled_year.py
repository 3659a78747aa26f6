"""Settled means closed: a settled year takes no spend, receipts, reversals or payments until
it is reopened, and reopening is recorded and reverses the settlement. On both engines."""

from __future__ import annotations

import datetime as dt

import pytest
import test_payments as payments_test
from ledger_helpers import Area, WriteSpend, finance, spend_rows, the_pool
from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, ImportRejected
from carepool.domain.ledger import EntryKind
from carepool.domain.money import Pence
from carepool.domain.payment import RunStatus
from carepool.domain.roles import SYSTEM
from carepool.payments.service import runs as payments
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger, returns
from carepool.pools.service import settlement as ledger_settle
from carepool.pools.service.ledger import PoolRow
from carepool.store.db import unit_of_work

HOW_TO_REOPEN = "carepool ledger reopen"


def _books(session: Session, pool: PoolRow) -> tuple[int, dict[str, Pence]]:
    return repo.entry_count(session, pool.id), ledger.balances(session, pool)


def _settled_with_spend(area: Area, write_spend: WriteSpend) -> None:
    with unit_of_work(area.engine) as session:
        pool = the_pool(session, area.code)
        ledger.import_spend(session, pool, write_spend("year.csv", spend_rows(20, ["S1"])), SYSTEM)
        ledger_settle.settle(session, pool, finance(area.code))


def _pool_events(session: Session, pool: PoolRow) -> list[tuple[str, object]]:
    return [(e.action, e.after) for e in audit.chain(session, ledger.audit_chain(pool))]


def test_settling_closes_the_year_and_spend_into_it_is_refused_saying_how_to_reopen(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    _settled_with_spend(pool_area, write_spend)
    late = write_spend(
        "late.csv",
        [
            ("2016-03-20", "S1", "Trust", "5000.00", "LATE-1"),
            ("2016-03-21", "S1", "Trust", "10845.66", "LATE-2"),
        ],
    )
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        assert "2015-16" in {p.label for p in ledger.closed_periods(session, pool)}
        before = _books(session, pool)
        with pytest.raises(ImportRejected) as refused:
            ledger.import_spend(session, pool, late, SYSTEM)
        assert "2015-16 is settled" in refused.value.message
        assert HOW_TO_REOPEN in refused.value.message
        assert "--financial-year 2015-16" in refused.value.message
        assert [(p.row, p.column) for p in refused.value.problems] == [(2, "date"), (3, "date")]
        assert _books(session, pool) == before
        assert [i.file_name for i in ledger.imports(session, pool)] == ["year.csv"]


def test_receipts_and_reversals_into_a_settled_year_are_refused(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    _settled_with_spend(pool_area, write_spend)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        before = _books(session, pool)
        due = repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE)[0].entry
        partner, stream = str(due.source["partner"]), str(due.source["stream"])
        with pytest.raises(Conflict, match="2015-16 is settled") as refused:
            ledger.record_receipt(
                session, pool, partner, stream, 100, dt.date(2016, 3, 1), "BACS-1", SYSTEM
            )
        assert HOW_TO_REOPEN in refused.value.message
        spend = repo.entries(session, pool.id, kind=EntryKind.SPEND)[0]
        with pytest.raises(Conflict, match=HOW_TO_REOPEN):
            ledger.reverse(session, pool, spend.id, "wrong scheme", SYSTEM)
        settled = repo.entries(session, pool.id, kind=EntryKind.SETTLEMENT)[0]
        with pytest.raises(Conflict, match=HOW_TO_REOPEN):
            ledger.reverse(session, pool, settled.id, "wrong rule", SYSTEM)
        with pytest.raises(Conflict, match="already closed, as part of 2015-16"):
            ledger.close_period(session, pool, "2015-16 Q4", SYSTEM)
        assert _books(session, pool) == before


def test_reopening_reverses_the_settlement_and_the_year_takes_spend_and_settles_again(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    _settled_with_spend(pool_area, write_spend)
    late = write_spend("late.csv", [("2016-03-20", "S1", "Trust", "15845.66", "LATE-1")])
    officer = finance(pool_area.code)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        settled = [s.id for s in repo.entries(session, pool.id, kind=EntryKind.SETTLEMENT)]
        reopened = ledger_settle.reopen(session, pool, officer, "late March invoices")
        assert reopened.financial_year == "2015-16" and reopened.reversed_ids == tuple(settled)
        assert len(reopened.reversal_ids) == len(settled)
        assert "2015-16" not in {p.label for p in ledger.closed_periods(session, pool)}
        assert not returns.settlements(session, pool)
        for entry_id in reopened.reversal_ids:
            stored = repo.get_entry(session, pool.id, entry_id)
            assert stored is not None and stored.entry.date == dt.date(2016, 3, 31)
        outcome = ledger.import_spend(session, pool, late, officer)
        assert outcome.posted == 1 and outcome.total_pence == 1_584_566
        again = ledger_settle.settle(session, pool, officer)
        assert "2015-16" in {p.label for p in ledger.closed_periods(session, pool)}
        assert [s.financial_year for s in returns.settlements(session, pool)] == ["2015-16"]
        assert all(c.balanced and c.consistent for c in ledger.check(session))
        events = _pool_events(session, pool)
    actions = [action for action, _ in events]
    assert actions[-6:] == [
        "settle", "close_period", "reopen", "import_spend", "settle", "close_period",
    ]  # fmt: skip
    reopen_event = dict(events[-4][1])  # type: ignore[call-overload]
    assert reopen_event == {
        "financial_year": "2015-16",
        "reason": "late March invoices",
        "reversed_entry_ids": settled,
        "reversal_entry_ids": list(reopened.reversal_ids),
    }
    assert events[-1][1]["because"] == "settled"  # type: ignore[index]
    assert again.entry_ids != tuple(settled)
    with unit_of_work(pool_area.engine) as session:
        verified = list(audit.chain(session, ledger.audit_chain(the_pool(session, pool_area.code))))
        assert verified[-1].actor == officer.username


def test_only_a_settled_year_is_reopened_with_a_reason_by_its_own_people(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        with pytest.raises(Conflict, match="not settled"):
            ledger_settle.reopen(session, pool, SYSTEM, "just in case")
    _settled_with_spend(pool_area, write_spend)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        with pytest.raises(CarepoolError, match="a reason is required"):
            ledger_settle.reopen(session, pool, SYSTEM, "  ")
        with pytest.raises(Forbidden):
            ledger_settle.reopen(session, pool, finance("E99999999"), "not mine")
        with pytest.raises(Conflict, match=r"already settled.*reopen the year"):
            ledger_settle.settle(session, pool, SYSTEM)


def test_a_payment_run_into_a_settled_year_is_refused_naming_the_settlement(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    engine, area = pool_area.engine, pool_area.code
    with unit_of_work(engine) as session:
        baseline, _ = payments_test.ambition(session, area)
    payments_test.store_actual(engine, area, int(baseline), "v1")
    run_id = payments_test.approved(engine)
    _settled_with_spend(pool_area, write_spend)
    with unit_of_work(engine) as session:
        before = _books(session, the_pool(session, area))
    with (
        pytest.raises(Conflict, match="2015-16 is settled") as refused,
        unit_of_work(engine) as session,
    ):
        payments.pay(session, payments.find(session, run_id), SYSTEM)
    assert HOW_TO_REOPEN in refused.value.message
    with unit_of_work(engine) as session:
        pool = the_pool(session, area)
        assert _books(session, pool) == before
        assert payments.find(session, run_id).status == RunStatus.APPROVED
        ledger_settle.reopen(session, pool, SYSTEM, "Q1's performance payment")
        paid = payments.pay(session, payments.find(session, run_id), SYSTEM)
        assert paid.entries[area]
        ledger_settle.settle(session, pool, SYSTEM)
