"""A pool's books in Beancount: ``bean-check`` accepts them and agrees with carepool.

Beancount is an independent implementation of double-entry bookkeeping; the export carries
carepool's running balance for every account as a ``balance`` assertion, so agreement here
means carepool's incremental balances, its postings and Beancount's arithmetic all match.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from beancount import loader
from beancount.core import realization
from ledger_helpers import YEAR, Area, WriteSpend, spend_rows, the_pool
from sqlalchemy import update
from sqlalchemy.orm import Session

from carepool.domain.ledger import Accounts, EntryKind
from carepool.domain.roles import SYSTEM
from carepool.pools.files.beancount_export import decimal_text
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger
from carepool.pools.service import settlement as ledger_settle
from carepool.store.db import unit_of_work
from carepool.store.models import AccountBalanceRow

BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def a_year_of_books(session: Session, area: Area, write_spend: WriteSpend) -> None:
    """Spend, receipts (one short), a reversal, a closed quarter and the settlement."""
    pool = the_pool(session, area.code)
    ledger.import_spend(
        session, pool, write_spend("y.csv", spend_rows(200, ["S1", "S2", "S3"])), SYSTEM
    )
    for stored in repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE)[:5]:
        due = stored.entry
        ledger.record_receipt(
            session,
            pool,
            str(due.source["partner"]),
            str(due.source["stream"]),
            due.postings[0].amount - 7,
            due.date + dt.timedelta(days=3),
            f"BACS-{stored.id}",
            SYSTEM,
        )
    spend = repo.entries(session, pool.id, kind=EntryKind.SPEND)[-1]
    ledger.reverse(session, pool, spend.id, "duplicate invoice", SYSTEM)
    ledger.close_period(session, pool, "2015-16 Q1", SYSTEM)
    ledger_settle.settle(session, pool, SYSTEM)


def test_bean_check_accepts_the_export_and_its_balances_are_carepools(
    pool_area: Area, write_spend: WriteSpend, tmp_path: Path
) -> None:
    with unit_of_work(pool_area.engine) as session:
        a_year_of_books(session, pool_area, write_spend)
        pool = the_pool(session, pool_area.code)
        text = ledger.export(session, pool, "beancount")
        ours = ledger.balances(session, pool)
    path = tmp_path / "pool.beancount"
    path.write_text(text, encoding="utf-8")

    checked = subprocess.run([BEAN_CHECK, path], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    entries, errors, _options = loader.load_file(str(path))
    assert errors == []
    real = realization.realize(entries)
    theirs = {
        name: realization.get(real, name).balance.get_currency_units("GBP").number for name in ours
    }
    assert theirs == {name: Decimal(decimal_text(amount)) for name, amount in ours.items()}
    assert sum(theirs.values()) == 0
    assert f"{YEAR}" in text and 'kind: "settlement"' in text and "reverses: " in text


def test_bean_check_fails_if_a_running_balance_disagrees_with_the_postings(
    pool_area: Area, write_spend: WriteSpend, tmp_path: Path
) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        ledger.import_spend(session, pool, write_spend("y.csv", spend_rows(5, ["S1"])), SYSTEM)
        session.execute(
            update(AccountBalanceRow)
            .where(AccountBalanceRow.account == Accounts.scheme("S1"))
            .values(balance_pence=AccountBalanceRow.balance_pence + 1)
        )
        path = tmp_path / "tampered.beancount"
        path.write_text(ledger.export(session, pool, "beancount"), encoding="utf-8")
    checked = subprocess.run([BEAN_CHECK, path], capture_output=True, text=True, check=False)
    assert checked.returncode != 0
    assert "Balance failed for 'Expenses:Scheme:S1'" in checked.stdout + checked.stderr


def test_csv_exports_have_a_row_per_posting_and_per_account(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        ledger.import_spend(session, pool, write_spend("y.csv", spend_rows(20, ["S1"])), SYSTEM)
        postings = list(csv.DictReader(io.StringIO(ledger.export(session, pool, "csv"))))
        balances = list(csv.DictReader(io.StringIO(ledger.export(session, pool, "balances"))))
        ours = ledger.balances(session, pool)
        stored = repo.entries(session, pool.id)
    assert len(postings) == sum(len(s.entry.postings) for s in stored)
    totals: dict[str, int] = {}
    for row in postings:
        totals[row["account"]] = totals.get(row["account"], 0) + int(row["amount_pence"])
        assert Decimal(row["amount"]) * 100 == int(row["amount_pence"])
    assert totals == ours
    assert {row["account"]: int(row["balance_pence"]) for row in balances} == ours
    assert postings[0]["source"].startswith("{")


def test_text_that_would_run_as_a_formula_is_exported_as_text(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    hostile = ("=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+2", "-3+4")
    rows = [
        (day, scheme, text, amount, text)  # as the provider and as the reference
        for (day, scheme, _, amount, _), text in zip(spend_rows(4, ["S1"]), hostile, strict=True)
    ]
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        ledger.import_spend(session, pool, write_spend("hostile.csv", rows), SYSTEM)
        memos = {p.memo for s in repo.entries(session, pool.id) for p in s.entry.postings}
        exported = list(csv.DictReader(io.StringIO(ledger.export(session, pool, "csv"))))
    assert set(hostile) <= memos  # stored as the text that was sent
    cells = {cell for row in exported for cell in row.values()}
    assert {f"'{text}" for text in hostile} <= cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))]
    assert any(Decimal(row["amount"]) < 0 for row in exported)  # negative amounts stay numbers


def test_amounts_are_written_exactly_from_pence() -> None:
    assert [decimal_text(n) for n in (0, 5, -5, 12_345, -1_234_567_890_123)] == [
        "0.00",
        "0.05",
        "-0.05",
        "123.45",
        "-12345678901.23",
    ]


def test_the_streamed_books_are_the_books(pool_area: Area, write_spend: WriteSpend) -> None:
    """The export reads entries as one stream; it must give exactly what ``entries`` gives."""
    with unit_of_work(pool_area.engine) as session:
        a_year_of_books(session, pool_area, write_spend)
        pool = the_pool(session, pool_area.code)
        streamed = list(repo.stream_entries(session, pool.id))
        stored = repo.entries(session, pool.id)
        first, last = repo.entry_dates(session, pool.id)
        accounts = repo.posted_accounts(session, pool.id)
    assert streamed == [(s.id, s.entry) for s in stored]
    assert len(streamed) > 200 and len({entry.kind for _, entry in streamed}) >= 4
    assert (first, last) == (stored[0].entry.date, max(s.entry.date for s in stored))
    assert accounts == {p.account for s in stored for p in s.entry.postings}
