"""The pooled-budget ledger through its services, on SQLite and PostgreSQL.

Each test has its own nation with one approved plan (see conftest.py). Refusals are checked
for what they say *and* for what they leave behind: nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import openpyxl
import pytest
from ledger_helpers import (
    FINANCE,
    YEAR,
    Area,
    WriteSpend,
    approve_plan,
    finance,
    spend_rows,
    the_pool,
)
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from carepool.audit import service as audit_log
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, ImportRejected, NotFound
from carepool.domain.ledger import (
    Accounts,
    Entry,
    EntryKind,
    LedgerError,
    Posting,
    entry_problems,
)
from carepool.domain.money import Pence, parse_money
from carepool.domain.plan import RiskShareKind
from carepool.domain.roles import SYSTEM, principal
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.pools.files import spend as spend_module
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger
from carepool.pools.service import settlement as ledger_settle
from carepool.store.db import unit_of_work
from carepool.store.models import AccountBalanceRow, AuditEventRow, LedgerEntryRow, SpendImportRow

ROW = ("2015-05-10", "S1", "Council care services", "1,234.56", "INV-1")


def snapshot(session: Session, area_code: str) -> tuple[int, dict[str, int], int, int]:
    pool = the_pool(session, area_code)
    imports = session.scalar(select(func.count()).select_from(SpendImportRow)) or 0
    lines = session.scalar(select(func.count()).where(LedgerEntryRow.reference.is_not(None))) or 0
    return repo.entry_count(session, pool.id), ledger.balances(session, pool), imports, lines


# --------------------------------------------------------------------------------------------
# Opening a pool


def test_a_pool_opens_from_the_approved_plan_with_its_contribution_schedule(area: Area) -> None:
    with unit_of_work(area.engine) as session:
        pool = ledger.open_pool(session, YEAR, area.code, finance(area.code))
        content = ledger.plan_content(session, pool)
        paying = [c for c in content.contributions if c.total > 0]
        balances = ledger.balances(session, pool)
        dues = repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE)
        assert len(dues) == 4 * len(paying)
        assert sum(v for k, v in balances.items() if k.startswith("Income:Contribution")) == (
            -content.pooled()
        )
        assert sum(balances.values()) == 0
        first = paying[0]
        amounts = [
            d.entry.postings[0].amount
            for d in dues
            if d.entry.source["partner"] == first.partner_code
            and d.entry.source["stream"] == first.stream
        ]
        assert sum(amounts) == first.total and max(amounts) - min(amounts) <= 1
        assert dues[0].entry.source["plan_version"] == pool.plan_version == 1
        assert (pool.host_partner, pool.pool_manager, pool.instalments) == (
            area.code,
            "A. Patel",
            4,
        )
        again = ledger.open_pool(session, YEAR, area.code, finance(area.code))
        assert again.id == pool.id and repo.entry_count(session, pool.id) == len(dues)
        opened = session.scalars(select(AuditEventRow).filter_by(entity="pool", action="open"))
        assert len(list(opened)) == 1


def test_only_an_approved_plan_opens_a_pool_and_only_for_its_finance_officers(area: Area) -> None:
    with unit_of_work(area.engine) as session:
        other = year_geography(session, YEAR).areas[1].code
        with pytest.raises(Conflict, match="plan is not started: a pooled budget opens only"):
            ledger.open_pool(session, YEAR, other, SYSTEM)
        with pytest.raises(Forbidden, match="pool finance officers"):
            ledger.open_pool(session, YEAR, area.code, finance(other))
        ledger.open_pool(session, YEAR, area.code, finance(area.code))
        assert ledger.pool_for(session, YEAR, area.code, principal("a", "A", ["analyst"]))
        with pytest.raises(Forbidden):
            ledger.pool_for(session, YEAR, area.code, finance(other))
        with pytest.raises(NotFound, match="no pooled budget"):
            ledger.pool_for(session, YEAR, other, SYSTEM)


# --------------------------------------------------------------------------------------------
# Spend imports


def test_spend_is_posted_once_whatever_is_imported_again(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    first = write_spend("april.csv", [ROW, ("2015-05-11", "S2", "Trust", "100", "INV-2")])
    again = write_spend("april-again.csv", [ROW, ("2015-06-01", "S2", "Trust", "50.00", "INV-3")])
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        outcome = ledger.import_spend(session, pool, first, finance(pool_area.code))
        assert (outcome.posted, outcome.skipped, outcome.total_pence) == (2, 0, 133_456)
        same = ledger.import_spend(session, pool, first, finance(pool_area.code))
        assert same.already and same.posted == 0
        overlap = ledger.import_spend(session, pool, again, finance(pool_area.code))
        assert (overlap.posted, overlap.skipped) == (1, 1)
        balances = ledger.balances(session, pool)
        assert balances[Accounts.scheme("S1")] == 123_456
        assert balances[Accounts.scheme("S2")] == 15_000
        assert balances[Accounts.BANK] == -138_456
        [spend] = [
            s
            for s in repo.entries(session, pool.id, kind=EntryKind.SPEND)
            if s.entry.correlation == "spend:INV-1"
        ]
        files = {row.id: row.file_name for row in repo.imports(session, pool.id)}
        assert files[spend.entry.source["import_id"]] == "april.csv"  # type: ignore[index]
        assert spend.entry.source["row"] == 2
        assert spend.entry.postings[1].memo == "INV-1"
        assert spend.entry.postings[0].memo == "Council care services"


BAD_FILES = [
    pytest.param(
        ("2015-05-10", "S99", "P", "10", "A1"),
        "scheme",
        "'S99' is not in the pool's plan",
        id="unknown-scheme",
    ),
    pytest.param(("2015-05-10", "S1", "P", "-10.00", "A1"), "amount", "is negative", id="negative"),
    pytest.param(
        ("2015-05-10", "S1", "P", "ten pounds", "A1"),
        "amount",
        "is not an amount of money",
        id="text-amount",
    ),
    pytest.param(("2015-05-10", "S1", "P", "0", "A1"), "amount", "£0.00", id="zero"),
    pytest.param(
        ("2015-05-10", "S1", "P", "１２３", "A1"),
        "amount",
        "'１２３' is not an amount of money: only the digits 0-9 are accepted",
        id="full-width-digits",
    ),
    pytest.param(
        ("2016-04-01", "S1", "P", "10", "A1"), "date", "outside the pool's year", id="outside-year"
    ),
    pytest.param(
        ("2015-02-30", "S1", "P", "10", "A1"), "date", "is not a real date", id="bad-date"
    ),
    pytest.param(("2015-05-10", "S1", "", "10", "A1"), "provider", "blank", id="no-provider"),
]


@pytest.mark.parametrize(("bad", "column", "message"), BAD_FILES)
def test_a_bad_row_refuses_the_whole_file_and_says_where(
    pool_area: Area, write_spend: WriteSpend, bad: tuple[str, ...], column: str, message: str
) -> None:
    path = write_spend("spend.csv", [ROW, bad])
    with unit_of_work(pool_area.engine) as session:
        before = snapshot(session, pool_area.code)
        pool = the_pool(session, pool_area.code)
        with pytest.raises(ImportRejected, match="nothing was imported") as caught:
            ledger.import_spend(session, pool, path, finance(pool_area.code))
        [problem] = caught.value.problems
        assert (problem.file, problem.row, problem.column) == ("spend.csv", 3, column)
        assert message in problem.message
        assert snapshot(session, pool_area.code) == before


def test_a_file_cut_mid_row_posts_nothing(pool_area: Area, write_spend: WriteSpend) -> None:
    path = write_spend("spend.csv", [ROW, (*ROW[:4], "INV-2")])
    path.write_bytes(path.read_bytes().rstrip(b"\r\n")[:-1])  # cut inside "INV-2"
    with unit_of_work(pool_area.engine) as session:
        before = snapshot(session, pool_area.code)
        pool = the_pool(session, pool_area.code)
        with pytest.raises(ImportRejected, match="nothing was imported") as caught:
            ledger.import_spend(session, pool, path, finance(pool_area.code))
        [problem] = caught.value.problems
        assert (problem.file, problem.row, problem.column) == ("spend.csv", 3, "reference")
        assert "the file ends in the middle of this row" in problem.message
        assert snapshot(session, pool_area.code) == before


def test_a_risk_share_varied_with_a_parameter_no_rule_reads_is_refused(
    pool_area: Area,
) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        before = (
            pool.risk_share_kind,
            pool.risk_share_parameters,
            snapshot(session, pool.area_code),
        )
        with pytest.raises(CarepoolError) as caught:
            ledger_settle.vary_risk_share(
                session, pool, RiskShareKind.HOST_FIRST, {"cap": "£1", "host_share": 1e308},
                "agreed", SYSTEM,
            )  # fmt: skip
        assert caught.value.message == (
            "the risk share cannot be varied: the host_first rule has no parameter "
            "'host_share'; it takes only 'cap'"
        )
        after = (
            pool.risk_share_kind,
            pool.risk_share_parameters,
            snapshot(session, pool.area_code),
        )
        assert after == before


def test_every_problem_in_a_file_is_reported_at_once(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    path = write_spend(
        "many.csv", [ROW, ("2015-05-10", "S1", "P", "5", "INV-1"), ("x", "S77", "P", "£1.234", "B")]
    )
    with unit_of_work(pool_area.engine) as session:
        with pytest.raises(ImportRejected) as caught:
            ledger.import_spend(session, the_pool(session, pool_area.code), path, SYSTEM)
        where = {(p.row, p.column) for p in caught.value.problems}
        assert where == {(3, "reference"), (4, "date"), (4, "amount")}
        assert "also on row 2" in caught.value.problems[0].message


def test_a_reference_posted_before_with_other_details_is_refused(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        ledger.import_spend(session, pool, write_spend("a.csv", [ROW]), SYSTEM)
        changed = write_spend("b.csv", [(*ROW[:3], "1,300.00", ROW[4])])
        with pytest.raises(ImportRejected) as caught:
            ledger.import_spend(session, pool, changed, SYSTEM)
        assert "already posted from a.csv row 2 as £1,234.56" in caught.value.problems[0].message


def test_spend_in_a_closed_period_is_refused(pool_area: Area, write_spend: WriteSpend) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        ledger.close_period(session, pool, "2015-16 Q1", finance(pool_area.code))
        with pytest.raises(ImportRejected) as caught:
            ledger.import_spend(session, pool, write_spend("q1.csv", [ROW]), SYSTEM)
        assert caught.value.problems[0].message == (
            "2015-05-10 falls in 2015-16 Q1, which is closed; date it in an open period"
        )


def test_a_file_that_is_not_a_spend_file_is_refused(pool_area: Area, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("when,what\n2015-05-01,S1\n", encoding="utf-8")
    with unit_of_work(pool_area.engine) as session:
        with pytest.raises(ImportRejected, match="1 problem") as caught:
            ledger.import_spend(session, the_pool(session, pool_area.code), path, SYSTEM)
        assert "missing required columns 'date', 'scheme'" in caught.value.problems[0].message


# --------------------------------------------------------------------------------------------
# Spend in bulk: a year's file is read in blocks and posted by a few set-based statements


@pytest.fixture
def small_blocks() -> Iterator[None]:
    """Blocks of a few rows, so a test file of thousands of rows spans many of them."""
    with mock.patch.object(spend_module, "BLOCK_CHARS", 20_000):
        yield


@pytest.mark.usefixtures("small_blocks")
def test_a_large_file_posts_an_entry_per_row_that_says_where_it_came_from(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    rows = spend_rows(3_000, ["S1", "S2", "S3"])
    path = write_spend("year.csv", rows)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        outcome = ledger.import_spend(session, pool, path, finance(pool_area.code))
        total = sum(parse_money(row[3]) for row in rows)
        assert (outcome.posted, outcome.skipped, outcome.total_pence) == (3_000, 0, total)
        names = {s.ref: s.name for s in ledger.plan_content(session, pool).schemes}
        [batch] = repo.imports(session, pool.id)  # the file, named once for all its rows
        assert (batch.file_name, batch.sha256) == ("year.csv", outcome.sha256)
        spend = repo.entries(session, pool.id, kind=EntryKind.SPEND)
        assert [entry_problems(s.entry) for s in spend if entry_problems(s.entry)] == []
        by_row = {int(str(s.entry.source["row"])): s for s in spend}
        assert sorted(by_row) == list(range(2, 3_002))
        for number, (day, scheme, provider, amount, reference) in enumerate(rows, start=2):
            stored = by_row[number]
            assert stored.entry.date.isoformat() == day and stored.created_by == FINANCE
            assert stored.entry.correlation == f"spend:{reference}"
            assert stored.entry.narration == f"{scheme} {names[scheme]}: {provider}"
            assert stored.entry.source == {"import_id": batch.id, "row": number}
            assert stored.entry.postings == (
                Posting(Accounts.scheme(scheme), parse_money(amount), provider),
                Posting(Accounts.BANK, Pence(-parse_money(amount)), reference),
            )
        balances = ledger.balances(session, pool)
        for scheme in ("S1", "S2", "S3"):
            spent = sum(parse_money(r[3]) for r in rows if r[1] == scheme)
            assert balances[Accounts.scheme(scheme)] == spent
        [check] = ledger.check(session)
        assert check.balanced and check.consistent
        events = session.scalars(select(AuditEventRow).filter_by(action="import_spend")).all()
        assert [e.after["posted"] for e in events] == [3_000]
        assert audit_log.check(session).breaks == ()


@pytest.mark.usefixtures("small_blocks")
def test_a_fault_deep_in_a_large_file_refuses_it_and_the_next_file_still_posts(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    rows: list[tuple[str, ...]] = list(spend_rows(2_000, ["S1", "S2"]))
    rows[1_500] = ("2015-06-01", "S1", "Trust", "12.345", "LATE-1")
    rows.append(("2015-06-02", "S2", "Trust", "1.00", rows[10][4]))
    with unit_of_work(pool_area.engine) as session:
        before = snapshot(session, pool_area.code)
        pool = the_pool(session, pool_area.code)
        with pytest.raises(ImportRejected) as caught:
            ledger.import_spend(session, pool, write_spend("bad.csv", rows), SYSTEM)
        assert [(p.row, p.column) for p in caught.value.problems] == [
            (1_502, "amount"),
            (2_002, "reference"),
        ]
        assert "also on row 12" in caught.value.problems[1].message
        assert snapshot(session, pool_area.code) == before
        fixed = write_spend("fixed.csv", spend_rows(2_000, ["S1", "S2"]))
        assert ledger.import_spend(session, pool, fixed, SYSTEM).posted == 2_000
        [check] = ledger.check(session)
        assert check.balanced and check.consistent


@pytest.mark.usefixtures("small_blocks")
def test_rows_posted_before_are_skipped_and_a_changed_one_is_refused(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    rows = spend_rows(3_000, ["S1", "S2"])
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        ledger.import_spend(session, pool, write_spend("a.csv", rows[:2_000]), SYSTEM)
        overlap = ledger.import_spend(session, pool, write_spend("b.csv", rows[1_000:]), SYSTEM)
        assert (overlap.rows, overlap.posted, overlap.skipped) == (2_000, 1_000, 1_000)
        assert overlap.total_pence == sum(parse_money(r[3]) for r in rows[2_000:])
        assert (
            repo.entry_count(session, pool.id)
            - len(repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE))
            == 3_000
        )
        expenses = sum(
            v for k, v in ledger.balances(session, pool).items() if k.startswith("Expenses")
        )
        assert expenses == sum(parse_money(r[3]) for r in rows)
        # Blocks of new rows and blocks holding repeats are posted by different statements
        # (on PostgreSQL, copied in or written from the stage); their entries are the same.
        names = {s.ref: s.name for s in ledger.plan_content(session, pool).schemes}
        spend = repo.entries(session, pool.id, kind=EntryKind.SPEND)
        by_correlation = {s.entry.correlation: s.entry for s in spend}
        imported = {batch.file_name: batch.id for batch in repo.imports(session, pool.id)}
        for number, (day, scheme, provider, amount, reference) in enumerate(rows):
            entry = by_correlation[f"spend:{reference}"]
            file, row = ("a.csv", number + 2) if number < 2_000 else ("b.csv", number - 998)
            assert entry.source == {"import_id": imported[file], "row": row}
            assert (entry.date.isoformat(), entry.narration) == (
                day,
                f"{scheme} {names[scheme]}: {provider}",
            )
            assert entry.postings == (
                Posting(Accounts.scheme(scheme), parse_money(amount), provider),
                Posting(Accounts.BANK, Pence(-parse_money(amount)), reference),
            )
        changed = [*rows[2_500:2_600]]
        changed[40] = (*changed[40][:3], "1.01", changed[40][4])
        with pytest.raises(ImportRejected) as caught:
            ledger.import_spend(session, pool, write_spend("c.csv", changed), SYSTEM)
        [problem] = caught.value.problems
        assert (problem.file, problem.row, problem.column) == ("c.csv", 42, "reference")
        assert problem.message.startswith(f"reference {changed[40][4]!r} was already posted")
        assert "from b.csv row 1542" in problem.message  # 2,540 - 1,000 + 2
        [check] = ledger.check(session)
        assert check.balanced and check.consistent


@pytest.mark.usefixtures("small_blocks")
def test_a_changed_row_deep_in_a_file_takes_back_the_blocks_already_posted(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    rows = spend_rows(3_000, ["S1", "S2"])
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        ledger.import_spend(session, pool, write_spend("a.csv", rows[:1_000]), SYSTEM)
        before = snapshot(session, pool_area.code)
        changed = (*rows[500][:3], "1.01", rows[500][4])
        late = write_spend("late.csv", [*rows[1_000:], changed])  # 2,000 new rows, then it
        with pytest.raises(ImportRejected) as caught:
            ledger.import_spend(session, pool, late, SYSTEM)
        [problem] = caught.value.problems
        assert (problem.row, problem.column) == (2_002, "reference")
        assert "from a.csv row 502" in problem.message
        assert snapshot(session, pool_area.code) == before
        assert [batch.file_name for batch in repo.imports(session, pool.id)] == ["a.csv"]


def test_an_import_is_committed_only_with_its_unit_of_work(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    # The import writes through its caller's session and never commits on its own.
    path = write_spend("year.csv", spend_rows(500, ["S1", "S2"]))
    with unit_of_work(pool_area.engine) as session:
        before = snapshot(session, pool_area.code)
    with (
        pytest.raises(RuntimeError, match="after the import"),
        unit_of_work(pool_area.engine) as session,
    ):
        outcome = ledger.import_spend(session, the_pool(session, pool_area.code), path, SYSTEM)
        assert outcome.posted == 500
        raise RuntimeError("the command failed after the import")
    with unit_of_work(pool_area.engine) as session:
        assert snapshot(session, pool_area.code) == before
        assert session.scalars(select(AuditEventRow).filter_by(action="import_spend")).all() == []


def test_a_workbook_posts_as_its_csv_would(pool_area: Area, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["date", "scheme", "provider", "amount", "reference"])
    sheet.append([dt.datetime(2015, 5, 1), "S1", "Council", 1234.5, "W1"])
    sheet.append([])
    sheet.append(["02/06/2015", "S2", "Trust", "£10.00", 77])
    path = tmp_path / "spend.xlsx"
    book.save(path)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        outcome = ledger.import_spend(session, pool, path, SYSTEM)
        assert (outcome.posted, outcome.total_pence) == (2, 124_450)
        spend = repo.entries(session, pool.id, kind=EntryKind.SPEND)
        assert [(s.entry.source["row"], s.entry.postings[1].memo) for s in spend] == [
            (2, "W1"),
            (4, "77"),
        ]
        assert ledger.balances(session, pool)[Accounts.scheme("S2")] == 1_000


# --------------------------------------------------------------------------------------------
# Posting, receipts, periods and reversals


def test_an_unbalanced_entry_is_refused_and_nothing_is_posted(pool_area: Area) -> None:
    with unit_of_work(pool_area.engine) as session:
        before = snapshot(session, pool_area.code)
        pool = the_pool(session, pool_area.code)
        bad = Entry(
            dt.date(2015, 5, 1),
            EntryKind.ADJUSTMENT,
            "typo",
            (Posting(Accounts.scheme("S1"), Pence(1000)), Posting(Accounts.BANK, Pence(-100))),
            "adj-1",
        )
        with pytest.raises(LedgerError, match="refused") as caught:
            ledger.post(session, pool, bad, SYSTEM)
        assert "postings sum to £9.00, not £0.00" in caught.value.problems[0].message
        assert snapshot(session, pool_area.code) == before


def test_receipts_pay_off_the_earliest_instalment_owed(pool_area: Area) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        due = repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE)[0].entry
        partner, stream = str(due.source["partner"]), str(due.source["stream"])
        owed = due.postings[0].amount
        part = ledger.record_receipt(
            session, pool, partner, stream, owed - 100, dt.date(2015, 4, 3), "BACS 1", SYSTEM
        )
        rest = ledger.record_receipt(
            session, pool, partner, stream, 100, dt.date(2015, 4, 20), "BACS 2", SYSTEM
        )
        early = ledger.record_receipt(
            session, pool, partner, stream, 300, dt.date(2015, 6, 20), "BACS 3", SYSTEM
        )
        entries = {s.id: s.entry for s in repo.entries(session, pool.id, kind=EntryKind.RECEIPT)}
        assert entries[part].correlation == entries[rest].correlation == due.correlation
        assert entries[early].correlation == due.correlation.replace("2015-04-01", "2015-07-01")
        owed_now = ledger.balances(session, pool)[Accounts.receivable(partner, stream)]
        assert owed_now == sum(
            d.entry.postings[0].amount
            for d in repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE)
            if d.entry.source["partner"] == partner and d.entry.source["stream"] == stream
        ) - (owed + 300)
        for bad in (0, -500):
            with pytest.raises(LedgerError, match=r"must be more than £0\.00"):
                ledger.record_receipt(
                    session, pool, partner, stream, bad, dt.date(2015, 5, 1), "x", SYSTEM
                )
        with pytest.raises(NotFound, match="pays no 'nothing' contribution"):
            ledger.record_receipt(
                session, pool, partner, "nothing", 1, dt.date(2015, 5, 1), "x", SYSTEM
            )


def test_closed_periods_stay_closed_and_reversals_go_to_the_next_open_day(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        ledger.import_spend(session, pool, write_spend("a.csv", [ROW]), SYSTEM)
        [spend] = repo.entries(session, pool.id, kind=EntryKind.SPEND)
        ledger.close_period(session, pool, "2015-16 Q1", SYSTEM)
        with pytest.raises(Conflict, match="already closed"):
            ledger.close_period(session, pool, "2015-16 Q1", SYSTEM)
        with pytest.raises(CarepoolError, match="not within the pool's year"):
            ledger.close_period(session, pool, "2016-17 Q1", SYSTEM)
        undo = ledger.reverse(session, pool, spend.id, "paid from the wrong budget", SYSTEM)
        reversal = repo.get_entry(session, pool.id, undo)
        assert reversal is not None and reversal.entry.date == dt.date(2015, 7, 1)
        assert reversal.entry.reverses == spend.id
        assert ledger.balances(session, pool)[Accounts.scheme("S1")] == 0
        assert (
            ledger.balances(session, pool, dt.date(2015, 6, 30))[Accounts.scheme("S1")] == 123_456
        )
        with pytest.raises(Conflict, match="already been reversed"):
            ledger.reverse(session, pool, spend.id, "again", SYSTEM)
        with pytest.raises(Conflict, match="itself a reversal"):
            ledger.reverse(session, pool, undo, "undo the undo", SYSTEM)
        with pytest.raises(CarepoolError, match="reason is required"):
            ledger.reverse(session, pool, spend.id, " ", SYSTEM)
        with pytest.raises(LedgerError, match="which is closed"):
            ledger.reverse(session, pool, 1, "in Q1", SYSTEM, dt.date(2015, 6, 1))


# --------------------------------------------------------------------------------------------
# Settlement and the consistency proof


def _spend_factor(session: Session, pool_area: Area, write_spend: WriteSpend, percent: int) -> int:
    """Spend every scheme's budget times ``percent``/100 in March; returns the variance."""
    pool = the_pool(session, pool_area.code)
    schemes = ledger.plan_content(session, pool).schemes
    rows = [
        (
            "2016-03-15",
            s.ref,
            s.provider,
            f"{s.planned_spend * percent // 100 / 100:.2f}",
            f"Y-{s.ref}",
        )
        for s in schemes
    ]
    ledger.import_spend(session, pool, write_spend("year.csv", rows), SYSTEM)
    balances = ledger.balances(session, pool)
    return sum(v for k, v in balances.items() if k.startswith("Expenses")) + sum(
        v for k, v in balances.items() if k.startswith("Income:Contribution")
    )


def test_an_overspend_is_settled_once_by_the_agreed_rule(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    with unit_of_work(pool_area.engine) as session:
        variance = _spend_factor(session, pool_area, write_spend, 104)
        pool = the_pool(session, pool_area.code)
        result = ledger_settle.settle(session, pool, finance(pool_area.code))
        assert result.variance == variance > 0 and result.rule == "proportional"
        assert sum(line.amount for line in result.lines) == variance
        balances = ledger.balances(session, pool)
        owed = sum(
            v for k, v in balances.items() if k.endswith(":RiskShare") and k.startswith("Assets")
        )
        assert owed == variance
        entries = repo.entries(session, pool.id, kind=EntryKind.SETTLEMENT)
        assert {s.entry.correlation for s in entries} == {"settlement:2015-16"}
        assert entries[0].entry.date == dt.date(2016, 3, 31)
        assert "so bears that share of the" in str(entries[0].entry.source["explanation"])
        with pytest.raises(Conflict, match="already settled"):
            ledger_settle.settle(session, pool, SYSTEM)
        ledger_settle.reopen(session, pool, SYSTEM, "wrong rule")
        again = ledger_settle.settle(session, pool, SYSTEM)
        assert again.variance == variance
        assert all(c.balanced and c.consistent for c in ledger.check(session))


def test_an_underspend_under_own_commissioning_refunds_each_partner(
    area: Area, write_spend: WriteSpend
) -> None:
    with unit_of_work(area.engine) as session:
        other = year_geography(session, YEAR).areas[1].code
        approve_plan(session, other, kind=RiskShareKind.OWN_COMMISSIONING)
        ledger.open_pool(session, YEAR, other, SYSTEM)
        variance = _spend_factor(session, Area(area.engine, other), write_spend, 95)
        pool = the_pool(session, other)
        result = ledger_settle.settle(session, pool, SYSTEM)
        assert result.variance == variance < 0
        assert sum(line.amount for line in result.lines) == variance
        refunds = {
            k: v for k, v in ledger.balances(session, pool).items() if k.startswith("Liabilities")
        }
        assert sum(refunds.values()) == variance
        assert any("on the schemes it commissions" in line.explanation for line in result.lines)


def test_the_check_proves_running_balances_equal_the_postings(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        ledger.import_spend(
            session, pool, write_spend("a.csv", spend_rows(50, ["S1", "S2"])), SYSTEM
        )
        [result] = ledger.check(session)
        assert (result.balanced, result.consistent) == (True, True)
        assert result.entries == repo.entry_count(session, pool.id)
        session.execute(
            update(AccountBalanceRow)
            .where(AccountBalanceRow.account == Accounts.BANK)
            .values(balance_pence=AccountBalanceRow.balance_pence + 1)
        )
        [tampered] = ledger.check(session)
        assert (tampered.balanced, tampered.consistent) == (False, False)
        assert tampered.differences[0][0] == Accounts.BANK


def test_a_later_plan_version_does_not_change_an_open_pools_books(pool_area: Area) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        plan = plans.find(session, YEAR, pool_area.code)
        assert plan is not None
        assert ledger.plan_content(session, pool) == plans.content_of(plan.versions[0])
