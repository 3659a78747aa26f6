"""Reading spend files: CSV or XLSX, every row located, nothing guessed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from carepool.domain.errors import ImportRejected
from carepool.domain.ledger import Period
from carepool.io.spend import PoolFacts, check_against, read_spend, refuse_if_any

YEAR = Period("2015-16", dt.date(2015, 4, 1), dt.date(2016, 3, 31))


def test_a_workbook_reads_like_a_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["date", "scheme", "provider", "amount", "reference"])
    sheet.append([dt.datetime(2015, 5, 1), "S1", "Council", 1234.5, "A1"])
    sheet.append(["02/06/2015", "S2", "Trust", "£10.00", 77])
    sheet.append([dt.datetime(2015, 7, 1), "S2", "Trust", "=1+1", "A3"])
    path = tmp_path / "spend.xlsx"
    book.save(path)

    spend = read_spend(path)

    assert [(x.row, x.date, x.scheme, x.amount, x.reference) for x in spend.lines] == [
        (2, dt.date(2015, 5, 1), "S1", 123_450, "A1"),
        (3, dt.date(2015, 6, 2), "S2", 1_000, "77"),
    ]
    [problem] = spend.log.problems
    assert (problem.row, problem.column) == (4, "amount")
    assert "holds a formula" in problem.message


def test_pool_checks_name_the_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "date,scheme,provider,amount,reference\n2015-04-10,S1,P,1.00,A\n2016-04-10,S9,P,1.00,B\n",
        encoding="utf-8",
    )
    spend = read_spend(path)
    check_against(spend, PoolFacts(frozenset({"S1"}), YEAR, (YEAR,)))
    with pytest.raises(ImportRejected) as caught:
        refuse_if_any(spend)
    assert [(p.row, p.column) for p in caught.value.problems] == [
        (2, "date"),  # the year is closed
        (3, "scheme"),
        (3, "date"),  # outside the year
    ]
