"""Reading CSV and XLSX into located rows of text, and the field stages built on it."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest

from carepool.domain.errors import ImportRejected, Problem
from carepool.io.tabular import (
    DATE_FORMATS,
    ProblemLog,
    Row,
    date_field,
    file_sha256,
    int_field,
    money_field,
    non_negative_int_field,
    proportion_field,
    read_table,
    require_rows,
    required_text,
)
from damaged_files import DAMAGES

Write = Callable[[str, str | bytes], Path]


def rejected(path: Path, required: tuple[str, ...] = ()) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        read_table(path, required=required)
    return caught.value


def only(error: ImportRejected) -> Problem:
    assert len(error.problems) == 1, error.problems
    return error.problems[0]


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Allocations"
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path


# --- CSV that should read -----------------------------------------------------------------


def test_bom_crlf_and_quoted_thousands_are_read(write: Write) -> None:
    path = write("people.csv", '\ufeffarea,persons\r\nLeeds,"1,234"\r\nYork,56\r\n')

    table = read_table(path, required=("area", "persons"))

    assert table.header == ("area", "persons")
    assert [(r.number, r["area"], r["persons"]) for r in table.rows] == [
        (2, "Leeds", "1,234"),
        (3, "York", "56"),
    ]
    log = table.problem_log()
    assert int_field(table.rows[0], "persons", log) == 1234
    assert not log.problems


def test_row_numbers_are_as_a_spreadsheet_shows_them(write: Write) -> None:
    """A quoted value running over two lines is one row; blank rows count but are dropped."""
    path = write("notes.csv", 'id,note\n1,"two\nlines"\n\n2,after a blank row\n')

    table = read_table(path)

    assert [(r.number, r["id"]) for r in table.rows] == [(2, "1"), (4, "2")]
    assert table.rows[0]["note"] == "two\nlines"


def test_an_absent_optional_column_reads_as_blank(write: Write) -> None:
    table = read_table(write("a.csv", "a\n1\n"))
    assert table.rows[0]["not_there"] == ""


# --- files refused as a whole ---------------------------------------------------------------


def test_latin1_bytes_are_refused_naming_the_encoding_and_line(write: Write) -> None:
    path = write("councils.csv", b"name,code\nLeeds,1\n" + "Bévère,2\n".encode("latin-1"))

    problem = only(rejected(path))

    assert "not UTF-8" in problem.message
    assert "0xE9" in problem.message
    assert problem.row == 3
    assert "councils.csv, row 3" in str(problem)


def test_an_empty_file_is_refused(write: Write) -> None:
    problem = only(rejected(write("empty.csv", "\ufeff\r\n")))
    assert problem.message == "the file is empty"
    assert problem.file == "empty.csv"


def test_missing_required_columns_are_named(write: Write) -> None:
    path = write("shares.csv", "ccg,share\nE38000001,1\n")

    problem = only(rejected(path, required=("ccg", "council", "population")))

    assert "missing required columns 'council', 'population'" in problem.message
    assert "the header has 'ccg', 'share'" in problem.message
    assert problem.row == 1


def test_a_repeated_column_name_is_refused(write: Write) -> None:
    problem = only(rejected(write("dup.csv", "a,b,a\n1,2,3\n")))
    assert "the column 'a' appears more than once" in problem.message
    assert problem.row == 1


def test_a_quote_that_never_closes_is_refused_at_its_row(write: Write) -> None:
    path = write("broken.csv", 'name,total\nLeeds,10\n"York,20\nHull,30\n')

    problem = only(rejected(path))

    assert "a quoted field is never closed" in problem.message
    assert problem.row == 3


def test_a_binary_file_is_refused(write: Write) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
    problem = only(rejected(write("picture.csv", png)))
    assert "not a CSV or XLSX file" in problem.message
    assert problem.file == "picture.csv"


def test_utf16_text_is_refused_with_the_fix(write: Write) -> None:
    problem = only(rejected(write("excel.csv", "a,b\n1,2\n".encode("utf-16"))))
    assert "UTF-16" in problem.message
    assert "CSV UTF-8" in problem.message


def test_text_named_xlsx_is_refused(write: Write) -> None:
    problem = only(rejected(write("allocations.xlsx", "a,b\n1,2\n")))
    assert "named .xlsx but is not an Excel workbook" in problem.message


def test_a_zip_that_is_not_a_workbook_is_refused(write: Write) -> None:
    problem = only(rejected(write("archive.xlsx", b"PK\x03\x04" + b"\x00" * 40)))
    assert "not a readable Excel .xlsx workbook" in problem.message


def test_the_real_old_style_xls_file_is_refused(shared_data: Path) -> None:
    problem = only(rejected(shared_data / "nhse_dtoc_england_monthly_2010_2020.xls"))
    assert "old-style Excel .xls workbook" in problem.message


# --- problems confined to rows ------------------------------------------------------------


def test_ragged_rows_are_reported_with_their_numbers_and_left_out(write: Write) -> None:
    path = write("ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")

    table = read_table(path)

    assert [r.number for r in table.rows] == [2, 5]
    assert [(p.row, p.message[:40]) for p in table.problems] == [
        (3, "this row has 2 fields but the header has"),
        (4, "this row has 4 fields but the header has"),
    ]
    assert "ragged.csv, row 3" in str(table.problems[0])


def test_a_last_row_without_its_line_break_is_kept_only_if_a_quote_closes_it(
    write: Write,
) -> None:
    """A file cut short mid-row can still fill every column (``Hull,3`` cut from ``Hull,30``);
    only a closing quote shows that a row without its line break is whole."""
    cut = read_table(write("cut.csv", "name,total\nLeeds,10\nHull,3"))
    quoted = read_table(write("quoted.csv", 'name,total\nLeeds,10\nHull,"30"'))
    short = read_table(write("short.csv", "name,total\nLeeds,10\nHull"))

    assert [r.number for r in cut.rows] == [2]
    [problem] = cut.problems
    assert (problem.file, problem.row, problem.column) == ("cut.csv", 3, "total")
    assert problem.message.startswith("the file ends in the middle of this row")
    assert [r["total"] for r in quoted.rows] == ["10", "30"] and not quoted.problems
    assert [(p.row, p.column, p.message[:30]) for p in short.problems] == [
        (3, "name", "the file ends in the middle of")
    ]


# --- XLSX --------------------------------------------------------------------------------


def test_an_xlsx_first_sheet_reads_as_text(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "book.xlsx",
        [
            ["code", "amount", "when", "flag"],
            ["E06000001", 1234, dt.datetime(2015, 4, 1), True],
            [],
            ["E06000002", 12.5, "01/04/2015", None],
            ["E06000003", Decimal("7.25"), None, None],
        ],
    )

    table = read_table(path, required=("code", "amount"))

    assert table.source == "book.xlsx, sheet 'Allocations'"
    assert [(r.number, dict(r.cells)) for r in table.rows] == [
        (2, {"code": "E06000001", "amount": "1234", "when": "2015-04-01", "flag": "TRUE"}),
        (4, {"code": "E06000002", "amount": "12.5", "when": "01/04/2015", "flag": ""}),
        (5, {"code": "E06000003", "amount": "7.25", "when": "", "flag": ""}),
    ]
    assert not table.problems


def test_an_xlsx_formula_is_refused_as_a_formula_instead_of_a_value(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "book.xlsx",
        [["code", "amount"], ["E06000001", 100], ["E06000002", "=B2*2"]],
    )

    table = read_table(path)

    assert [r.number for r in table.rows] == [2]
    (problem,) = table.problems
    assert "cell B3 holds a formula (=B2*2) instead of a value" in problem.message
    assert (problem.row, problem.column) == (3, "amount")
    assert str(problem).startswith("book.xlsx, sheet 'Allocations', row 3, column 'amount'")


def test_an_xlsx_value_outside_the_named_columns_is_reported(tmp_path: Path) -> None:
    path = workbook(tmp_path / "book.xlsx", [["code"], ["E06000001", "stray"]])

    (problem,) = read_table(path).problems

    assert "cell B2 has a value but its column has no header" in problem.message
    assert problem.row == 2


# --- field stages ------------------------------------------------------------------------


def row(**cells: str) -> Row:
    return Row(7, cells)


def test_whole_numbers_refuse_words_and_negatives_naming_row_and_column() -> None:
    log = ProblemLog("people.csv")

    assert int_field(row(n="1,234"), "n", log) == 1234
    assert int_field(row(n="-5"), "n", log) == -5
    assert int_field(row(n="12,34"), "n", log) is None
    assert int_field(row(n="many"), "n", log) is None
    assert non_negative_int_field(row(n="-5"), "n", log) is None
    assert non_negative_int_field(row(n=""), "n", log) is None

    assert [str(p) for p in log.problems] == [
        "people.csv, row 7, column 'n': '12,34' is not a whole number",
        "people.csv, row 7, column 'n': 'many' is not a whole number",
        "people.csv, row 7, column 'n': -5 is negative; it must be 0 or more",
        "people.csv, row 7, column 'n': this cell is blank but a value is required",
    ]


def test_numbers_and_dates_in_other_digits_are_refused_naming_the_digits() -> None:
    """int(), Decimal() and a ``\\d`` pattern all read full-width digits; carepool does not."""
    log = ProblemLog("odd.csv")

    assert int_field(row(n="１２３"), "n", log) is None
    assert proportion_field(row(s="０.５"), "s", log) is None
    assert date_field(row(d="２０１５-04-01"), "d", log) is None
    assert money_field(row(m="１２３"), "m", log) is None

    assert [p.message for p in log.problems] == [
        "'１２３' is not a whole number: only the digits 0-9 are accepted",
        "'０.５' is not a decimal number: only the digits 0-9 are accepted",
        f"'２０１５-04-01' is not a date ({DATE_FORMATS}): only the digits 0-9 are accepted",
        "'１２３' is not an amount of money: only the digits 0-9 are accepted",
    ]
    assert [(p.row, p.column) for p in log.problems] == [(7, "n"), (7, "s"), (7, "d"), (7, "m")]


def test_proportions_are_exact_and_between_0_and_1() -> None:
    log = ProblemLog("s.csv")

    assert proportion_field(row(s="0.683998"), "s", log) == Fraction(683998, 1_000_000)
    assert proportion_field(row(s="1"), "s", log) == 1
    assert proportion_field(row(s="1.2"), "s", log) is None
    assert proportion_field(row(s="-0.1"), "s", log) is None
    assert proportion_field(row(s="NaN"), "s", log) is None

    assert [p.message for p in log.problems] == [
        "1.2 is more than 1; a share must be 0 to 1",
        "'-0.1' is not a decimal number",
        "'NaN' is not a decimal number",
    ]
    assert all((p.row, p.column) == (7, "s") for p in log.problems)


def test_dates_are_iso_or_day_first() -> None:
    log = ProblemLog("d.csv")

    assert date_field(row(d="2015-04-01"), "d", log) == dt.date(2015, 4, 1)
    assert date_field(row(d="1/4/2015"), "d", log) == dt.date(2015, 4, 1)
    assert date_field(row(d=""), "d", log, required=False) is None
    assert date_field(row(d="31/02/2015"), "d", log) is None
    assert date_field(row(d="April 2015"), "d", log) is None
    assert date_field(row(d=""), "d", log) is None

    assert [p.message for p in log.problems] == [
        f"'31/02/2015' is not a real date ({DATE_FORMATS})",
        f"'April 2015' is not a date ({DATE_FORMATS})",
        "this cell is blank but a date is required",
    ]


def test_money_goes_through_parse_money() -> None:
    log = ProblemLog("m.csv")

    assert money_field(row(m="£1,234.56"), "m", log) == 123456
    assert money_field(row(m="-£5.00"), "m", log) is None
    assert money_field(row(m="-£5.00"), "m", log, allow_negative=True) == -500
    assert money_field(row(m="12.345"), "m", log) is None

    assert "negative" in log.problems[0].message
    assert "'12.345' is not an amount of money" in log.problems[1].message
    assert all(p.column == "m" for p in log.problems)


def test_required_text_is_stripped() -> None:
    log = ProblemLog("t.csv")
    assert required_text(row(t="  Leeds "), "t", log) == "Leeds"
    assert required_text(row(t="   "), "t", log) is None
    assert len(log) == 1


def test_the_problem_log_is_capped_and_says_how_many_more() -> None:
    log = ProblemLog("big.csv", limit=3)
    for number in range(10):
        log.add("bad", row=number)

    assert len(log) == 10
    assert len(log.problems) == 4
    assert log.problems[-1].message == "stopped listing after 3 problems; 7 more were found"
    with pytest.raises(ImportRejected):
        log.raise_if_any()


def test_file_sha256_is_of_the_bytes(write: Write) -> None:
    path = write("x.csv", b"a,b\n1,2\n")
    assert file_sha256(path) == hashlib.sha256(b"a,b\n1,2\n").hexdigest()


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_xlsx_is_refused_with_a_message(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    valid = workbook(tmp_path / "valid.xlsx", [["area", "persons"], *[["Leeds", 5]] * 200])
    damaged = tmp_path / "allocations.xlsx"
    damaged.write_bytes(damage(valid.read_bytes()))

    problem = only(rejected(damaged))

    assert problem.file is not None and problem.file.startswith("allocations.xlsx")
    assert "workbook" in problem.message and "damaged" in problem.message


# --- files with nothing under the header --------------------------------------------------


def test_a_header_with_no_rows_is_refused_naming_the_file(write: Write) -> None:
    table = read_table(write("areas.csv", "area,persons\n\n"))

    with pytest.raises(ImportRejected) as caught:
        require_rows(table)

    assert caught.value.message == "areas.csv has a header but no rows: nothing was imported"
    assert only(caught.value).row == 2


def test_rows_with_faults_are_left_to_report_them(write: Write) -> None:
    table = read_table(write("areas.csv", "area,persons\nLeeds\n"))
    require_rows(table)  # the ragged row's own problem is what the importer reports
    assert len(table.problems) == 1
