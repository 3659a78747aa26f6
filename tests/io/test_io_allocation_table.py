"""Reading allocation tables from CSV and XLSX."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from carepool.allocation.files import AllocationRow, read_allocation_table
from carepool.domain.errors import ImportRejected
from carepool.domain.money import Pence

Write = Callable[[str, str | bytes], Path]

HEADER = "financial_year,stream,area_code,commissioner_code,amount\n"


def rejected(path: Path) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        read_allocation_table(path)
    return [str(p) for p in caught.value.problems]


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "2015-16"
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path


def test_a_csv_table_reads_with_area_level_lines(write: Write) -> None:
    path = write(
        "alloc.csv",
        "\ufeff" + HEADER.replace("\n", "\r\n")
        + '2015-16,ccg_minimum,E06000001,E38000001,"£1,234,567.89"\r\n'
        + "2015-16,dfg,E06000001,,220000\r\n",
    )  # fmt: skip

    assert read_allocation_table(path) == [
        AllocationRow(2, "2015-16", "ccg_minimum", "E06000001", "E38000001", Pence(123456789)),
        AllocationRow(3, "2015-16", "dfg", "E06000001", None, Pence(22000000)),
    ]


def test_the_commissioner_column_may_be_left_out(write: Write) -> None:
    path = write("alloc.csv", "financial_year,stream,area_code,amount\n2015-16,dfg,E06000001,1\n")
    assert read_allocation_table(path)[0].commissioner_code is None


def test_every_format_problem_is_reported_with_row_and_column(write: Write) -> None:
    path = write(
        "alloc.csv",
        HEADER
        + "2015/16,ccg_minimum,E06000001,,10\n"
        + "2015-17,CCG Minimum,,,10\n"
        + "2015-16,dfg,E06000001,02N,ten pounds\n"
        + "2015-16,dfg,E06000002,,-£5.00\n"
        + "2015-16,dfg,E06000003,,\n",
    )

    assert rejected(path) == [
        "alloc.csv, row 2, column 'financial_year': '2015/16' is not a financial year like 2015-16",
        "alloc.csv, row 3, column 'financial_year': '2015-17' is not a financial year like 2015-16",
        "alloc.csv, row 3, column 'stream': 'CCG Minimum' is not a stream id (lower_snake_case)",
        "alloc.csv, row 3, column 'area_code': this cell is blank but a value is required",
        "alloc.csv, row 4, column 'commissioner_code': '02N' is not a commissioner's ONS code "
        "(such as E38000001)",
        "alloc.csv, row 4, column 'amount': 'ten pounds' is not an amount of money "
        "(expected e.g. £1,234.56)",
        "alloc.csv, row 5, column 'amount': '-£5.00' is negative; a negative amount is not "
        "allowed here",
        "alloc.csv, row 6, column 'amount': this cell is blank but a value is required",
    ]


def test_a_repeated_line_names_the_first(write: Write) -> None:
    path = write(
        "alloc.csv",
        HEADER
        + "2015-16,ccg_minimum,E06000001,E38000001,10\n"
        + "2015-16,dfg,E06000001,,10\n"
        + "2015-16,ccg_minimum,E06000001,E38000001,20\n"
        + "2015-16,dfg,E06000001,,30\n",
    )

    assert rejected(path) == [
        "alloc.csv, row 4: 2015-16 ccg_minimum for area E06000001 (commissioner E38000001) is "
        "already given in row 2",
        "alloc.csv, row 5: 2015-16 dfg for area E06000001 (area level) is already given in row 3",
    ]


def test_a_ragged_row_and_a_bad_amount_are_reported_together(write: Write) -> None:
    path = write(
        "alloc.csv",
        HEADER + "2015-16,dfg,E06000001,,1,234.00\n2015-16,dfg,E06000002,,x\n",
    )

    problems = rejected(path)

    assert problems[0].startswith("alloc.csv, row 2: this row has 6 fields but the header has 5")
    assert problems[1].startswith("alloc.csv, row 3, column 'amount': 'x' is not an amount")


def test_an_xlsx_table_takes_numbers_as_pounds_and_pence(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "alloc.xlsx",
        [
            ["financial_year", "stream", "area_code", "commissioner_code", "amount"],
            ["2015-16", "dfg", "E06000001", None, 1234],
            ["2015-16", "dfg", "E06000002", None, 1234.56],
            ["2015-16", "dfg", "E06000003", None, Decimal("0.10")],
            ["2015-16", "dfg", "E06000004", None, "£7.00"],
        ],
    )

    assert [(r.row, r.amount) for r in read_allocation_table(path)] == [
        (2, 123400),
        (3, 123456),
        (4, 10),
        (5, 700),
    ]


def test_an_xlsx_amount_with_a_fraction_of_a_penny_is_refused(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "alloc.xlsx",
        [
            ["financial_year", "stream", "area_code", "amount"],
            ["2015-16", "dfg", "E06000001", 1234.567],
        ],
    )

    assert rejected(path) == [
        "alloc.xlsx, sheet '2015-16', row 2, column 'amount': '1234.567' is not an amount of "
        "money (expected e.g. £1,234.56)"
    ]


def test_an_xlsx_formula_is_refused_and_other_rows_still_checked(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "alloc.xlsx",
        [
            ["financial_year", "stream", "area_code", "amount"],
            ["2015-16", "dfg", "E06000001", "=1000*1.5"],
            ["2015-16", "dfg", "nowhere", 10],
        ],
    )

    assert rejected(path) == [
        "alloc.xlsx, sheet '2015-16', row 2, column 'amount': cell D2 holds a formula "
        "(=1000*1.5) instead of a value; paste values only",
        "alloc.xlsx, sheet '2015-16', row 3, column 'area_code': 'nowhere' is not an ONS area "
        "code (E and eight digits)",
    ]
