"""Bad budgets and transactions files are refused whole, every problem named by file, row
and column, and a refused file leaves the database exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from budget_files import BUDGET_HEADER, TRANSACTION_HEADER, WriteFile, budgets_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect, text

from carepool.budgets import service
from carepool.domain.errors import ImportRejected
from carepool.domain.roles import SYSTEM
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work

KEY = b"a test pseudonym key of at least thirty-two bytes"


def snapshot(engine: Engine) -> dict[str, object]:
    """Every table's row count and the pools' balances: what a refused file must not change."""
    found: dict[str, object] = {}
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            found[table] = connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
        found["balances"] = connection.execute(
            text("SELECT account, balance_pence FROM account_balance ORDER BY pool_id, account")
        ).all()
    return found


def refused(engine: Engine, path: Path, *, budgets: bool = False) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught, unit_of_work(engine) as session:
        if budgets:
            service.import_budgets(session, path, SYSTEM, key=KEY)
        else:
            service.import_transactions(session, path, SYSTEM)
    return caught.value


def where(error: ImportRejected) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.column) for p in error.problems}


@pytest.fixture
def budgeted(sqlite_areas: list[str], sqlite_engine: Engine, write_file: WriteFile) -> list[str]:
    area, other = sqlite_areas
    with unit_of_work(sqlite_engine) as session:
        service.import_budgets(
            session, write_file("budgets.csv", budgets_csv(area, other)), SYSTEM, key=KEY
        )
    return sqlite_areas


def test_shares_that_do_not_add_up_refuse_the_budgets_file(
    sqlite_areas: list[str], sqlite_engine: Engine, write_file: WriteFile
) -> None:
    area, _ = sqlite_areas
    before = snapshot(sqlite_engine)
    bad = "\n".join(
        [
            BUDGET_HEADER,
            f"PB-9,{area},9434765919,continuing_healthcare,2015-04-01,2016-03-31,2015-10-01,"
            "100.00,60.00,notional,30.00,council_managed,Care: 100",
            f"PB-8,{area},1234567890,wheelchair,2015-04-01,2016-03-31,2015-10-01,"
            "10.00,10.00,notional,,,Chair: 10",
        ]
    )
    error = refused(sqlite_engine, write_file("bad.csv", bad), budgets=True)
    assert where(error) == {(2, "total"), (3, "nhs_number")}
    assert "1234567890" not in str(error)  # an NHS number is never repeated back
    assert snapshot(sqlite_engine) == before


def test_bad_transactions_are_named_by_row_and_column(
    budgeted: list[str], sqlite_engine: Engine, write_file: WriteFile
) -> None:
    before = snapshot(sqlite_engine)
    bad = "\n".join(
        [
            TRANSACTION_HEADER,
            "PB-1,2015-04-30,provider_invoice,nhs,800.00,fine",
            "PB-404,2015-04-30,provider_invoice,nhs,1.00,unknown budget",
            "PB-2,2016-01-15,direct_payment_return,nhs,1.00,after the budget ends",
            "PB-1,2015-05-01,provider_invoice,nhs,-5.00,negative",
            "PB-1,2015-05-01,provider_invoice,nhs,lots,not a number",
            "PB-1,2015-05-01,provider_invoice,nhs,0,zero",
            "PB-1,2015-05-01,provider_invoice,nhs,1.001,a fraction of a penny",
            "PB-1,2015-05-01,provider_invoice,council,1.00,no council share",
            "PB-1,2015-05-01,recovery,nhs,1.00,notional money is not recovered",
            "PB-1,31/02/2015,provider_invoice,nhs,1.00,no such day",
            "PB-1,2015-05-01,gift,nhs,1.00,no such kind",
        ]
    )
    error = refused(sqlite_engine, write_file("t.csv", bad))
    assert where(error) == {
        (3, "budget"),
        (4, "date"),
        (5, "amount"),
        (6, "amount"),
        (7, "amount"),
        (8, "amount"),
        (9, "part"),
        (10, "kind"),
        (11, "date"),
        (12, "kind"),
    }
    assert all(p.file == "t.csv" for p in error.problems)
    assert snapshot(sqlite_engine) == before


def test_a_transaction_in_a_closed_period_is_refused(
    budgeted: list[str], sqlite_engine: Engine, write_file: WriteFile
) -> None:
    area, _ = budgeted
    with unit_of_work(sqlite_engine) as session:
        pool = ledger.pool_for(session, "2015-16", area, SYSTEM)
        ledger.close_period(session, pool, "2015-04", SYSTEM)
    lines = f"{TRANSACTION_HEADER}\nPB-1,2015-05-02,provider_invoice,nhs,1,ok\n"
    lines += "PB-1,2015-04-30,provider_invoice,nhs,1,closed"
    error = refused(sqlite_engine, write_file("t.csv", lines))
    assert where(error) == {(3, "date")}
    assert "2015-04, which is closed" in str(error)


GOOD_ROWS = [
    "PB-1,2015-04-30,provider_invoice,nhs,800.00,A",
    "PB-2,2015-05-20,direct_payment_return,council,300.10,B",
    "PB-3,2015-06-15,card_statement,nhs,16.00,C",
    "PB-4,2015-06-30,provider_invoice,council,500.00,D",
]
BAD_CELLS = {
    0: ["", "PB-404", "pb-1 x"],
    1: ["", "2014-01-01", "2015-13-01", "yesterday", "2017-04-01"],
    2: ["", "refund", "recovery!"],
    3: ["", "both", "nhs council"],
    4: ["", "-1", "£-0.01", "0.00", "1.234", "1e3", "NaN", "١٠"],
}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    row=st.integers(0, len(GOOD_ROWS) - 1),
    column=st.sampled_from(sorted(BAD_CELLS)),
    choice=st.integers(0, 7),
)
def test_any_damaged_row_refuses_the_whole_file_and_changes_nothing(
    budgeted: list[str],
    sqlite_engine: Engine,
    write_file: WriteFile,
    row: int,
    column: int,
    choice: int,
) -> None:
    before = snapshot(sqlite_engine)
    damaged = list(GOOD_ROWS)
    cells = damaged[row].split(",")
    options = BAD_CELLS[column]
    cells[column] = options[choice % len(options)]
    damaged[row] = ",".join(cells)
    path = write_file("fuzz.csv", "\n".join([TRANSACTION_HEADER, *damaged]))
    error = refused(sqlite_engine, path)
    assert (row + 2) in {p.row for p in error.problems}
    assert snapshot(sqlite_engine) == before


def test_a_transactions_workbook_is_read_like_a_csv(
    budgeted: list[str], sqlite_engine: Engine, tmp_path: Path
) -> None:
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(TRANSACTION_HEADER.split(","))
    sheet.append(["PB-1", dt.date(2015, 4, 30), "provider_invoice", "nhs", 12.5, "INV-1"])
    sheet.append(["PB-4", "2015-06-30", "provider_invoice", "council", "£1,000.00", "INV-2"])
    sheet.append(["PB-1", dt.date(2015, 5, 1), "provider_invoice", "nhs", -3, "INV-3"])
    path = tmp_path / "spend.xlsx"
    book.save(path)
    error = refused(sqlite_engine, path)
    assert where(error) == {(4, "amount")}
    sheet.delete_rows(4)
    book.save(path)
    with unit_of_work(sqlite_engine) as session:
        outcome = service.import_transactions(session, path, SYSTEM)
    assert (outcome.rows, outcome.spend_pence) == (2, 1250 + 100000)
