"""NHS England's monthly delayed transfers of care workbook (.xls), as published and spoilt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from xls_workbooks import Error, Value, dtoc_sheets, write_xls

from carepool.domain.errors import ImportRejected, Problem
from carepool.metrics.files.dtoc import BY_ORGANISATION, BY_REASON, BY_TYPE, read_dtoc

REAL = "nhse_dtoc_england_monthly_2010_2020.xls"
Sheets = dict[str, list[list[Value]]]


def test_the_published_workbook(shared_data: Path) -> None:
    series = read_dtoc(shared_data / REAL)
    months = {m.period: m.days for m in series.months}

    assert len(series.months) == 115  # August 2010 to February 2020, every month
    assert (series.months[0].period, series.months[-1].period) == ("2010-08", "2020-02")
    assert list(months)[7:10] == ["2011-03", "2011-04", "2011-05"]  # across a year end
    # Figures read off the workbook's rows 17 and 131.
    assert months["2010-08"]["DTOC_ACUTE"] == 55_332
    assert months["2010-08"]["DTOC_NON_ACUTE"] == 54_586
    assert months["2010-08"]["DTOC_TOTAL"] == 109_918
    assert (months["2010-08"]["DTOC_NHS"], months["2010-08"]["DTOC_SOCIAL_CARE"],
            months["2010-08"]["DTOC_BOTH"]) == (64_255, 38_324, 7_339)  # fmt: skip
    assert months["2020-02"]["DTOC_TOTAL"] == 155_782
    assert (months["2020-02"]["DTOC_NHS"], months["2020-02"]["DTOC_SOCIAL_CARE"],
            months["2020-02"]["DTOC_BOTH"]) == (93_079, 47_220, 15_483)  # fmt: skip
    assert months["2019-06"]["DTOC_REASON_O"] == 1_831
    for days in months.values():
        assert days["DTOC_NHS"] + days["DTOC_SOCIAL_CARE"] + days["DTOC_BOTH"] == days["DTOC_TOTAL"]
        assert days["DTOC_ACUTE"] + days["DTOC_NON_ACUTE"] == days["DTOC_TOTAL"]
        reasons = sum(v for k, v in days.items() if k.startswith("DTOC_REASON_"))
        assert reasons == days["DTOC_TOTAL"]
    codes = [m.code for m in series.measures]
    assert codes[:6] == [
        "DTOC_ACUTE", "DTOC_NON_ACUTE", "DTOC_TOTAL", "DTOC_NHS", "DTOC_SOCIAL_CARE", "DTOC_BOTH"
    ]  # fmt: skip
    assert len(codes) == 17 and "DTOC_REASON_DII" in codes


def test_a_small_workbook_in_the_published_shape(tmp_path: Path) -> None:
    series = read_dtoc(write_xls(tmp_path / "dtoc.xls", dtoc_sheets()))

    assert [m.period for m in series.months] == ["2010-08", "2010-09", "2010-10", "2010-11"]
    assert series.months[3].days["DTOC_SOCIAL_CARE"] == 37_030
    assert series.months[0].days["DTOC_REASON_B"] == 89_188


def refused(tmp_path: Path, spoil: Callable[[Sheets], None]) -> list[Problem]:
    sheets = dtoc_sheets()
    spoil(sheets)
    with pytest.raises(ImportRejected) as caught:
        read_dtoc(write_xls(tmp_path / "spoilt.xls", sheets))
    assert "nothing was imported" in caught.value.message
    return list(caught.value.problems)


def test_text_in_a_value_cell_names_the_sheet_and_cell(tmp_path: Path) -> None:
    def spoil(sheets: Sheets) -> None:
        sheets[BY_TYPE][17][3] = "n/a"  # row 18, column D

    (problem,) = refused(tmp_path, spoil)
    assert problem.file == "spoilt.xls"
    assert problem.cell == "'Delayed Days by type'!D18"
    assert problem.column == "Acute"
    assert problem.message == "this cell holds the text 'n/a', not a number of days"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "this cell is blank but a number of days is required"),
        (Error(0x2A), "this cell holds the error #N/A"),
        (True, "this cell holds a date or a true/false value, not a number of days"),
        (-5, "-5.0 is not a whole number of days of 0 or more"),
        (12.5, "12.5 is not a whole number of days of 0 or more"),
    ],
)
def test_a_value_cell_must_hold_whole_days(tmp_path: Path, value: Value, message: str) -> None:
    def spoil(sheets: Sheets) -> None:
        sheets[BY_ORGANISATION][16][5] = value  # row 17, column F ("Both")

    problems = refused(tmp_path, spoil)
    assert problems[0].cell == "'Delayed Days by responsible org'!F17"
    assert problems[0].message == message


def test_every_problem_in_every_sheet_is_reported_together(tmp_path: Path) -> None:
    def spoil(sheets: Sheets) -> None:
        sheets[BY_TYPE][18][4] = "x"
        sheets[BY_REASON][19][3] = "y"
        sheets[BY_ORGANISATION][17][1] = "2010-12"  # not a financial year
        sheets[BY_ORGANISATION][16][2] = "Augst"

    problems = refused(tmp_path, spoil)
    assert {(p.cell, p.message) for p in problems} == {
        ("'Delayed Days by type'!E19", "this cell holds the text 'x', not a number of days"),
        ("'Delayed Days by reason'!D20", "this cell holds the text 'y', not a number of days"),
        ("'Delayed Days by responsible org'!B18", "'2010-12' is not a financial year like 2015-16"),
        ("'Delayed Days by responsible org'!C17", "'Augst' is not the name of a month"),
    }


def test_a_missing_or_renamed_sheet_is_refused(tmp_path: Path) -> None:
    def spoil(sheets: Sheets) -> None:
        sheets["By organisation"] = sheets.pop(BY_ORGANISATION)

    (problem,) = refused(tmp_path, spoil)
    assert problem.message.startswith(
        "the workbook has no sheet named 'Delayed Days by responsible org' (it has "
        "'Delayed Days by type', "
    )


def test_a_renamed_column_is_refused(tmp_path: Path) -> None:
    def spoil(sheets: Sheets) -> None:
        sheets[BY_ORGANISATION][14][4] = "Social care"

    (problem,) = refused(tmp_path, spoil)
    assert problem.message == "the header row has no column 'Social Care'"
    assert problem.cell == "'Delayed Days by responsible org'!B15"


def test_a_sheet_without_its_header_row_is_refused(tmp_path: Path) -> None:
    def spoil(sheets: Sheets) -> None:
        sheets[BY_REASON][14][1] = "Financial year"

    (problem,) = refused(tmp_path, spoil)
    assert (
        problem.message
        == "sheet 'Delayed Days by reason' has no header row with 'Year' in column B"
    )


def test_parts_must_add_up_to_their_total(tmp_path: Path) -> None:
    def spoil(sheets: Sheets) -> None:
        sheets[BY_ORGANISATION][18][3] = 66_128  # NHS one day more in October

    (problem,) = refused(tmp_path, spoil)
    assert problem.cell == "'Delayed Days by responsible org'!G19"
    assert problem.message == (
        "2010-10: NHS + Social Care + Both add up to 113,247 but the total is 113,246"
    )


def test_the_sheets_must_agree_on_each_months_total(tmp_path: Path) -> None:
    def spoil(sheets: Sheets) -> None:
        row = sheets[BY_TYPE][16]  # August: one more acute day, and the total with it
        row[3], row[5] = 55_333, 109_919

    problems = refused(tmp_path, spoil)
    assert [(p.cell, p.message) for p in problems] == [
        ("'Delayed Days by responsible org'!G17",
         "2010-08: the total is 109,918 but 'Delayed Days by type' says 109,919"),
        ("'Delayed Days by reason'!G17",
         "2010-08: the total is 109,918 but 'Delayed Days by type' says 109,919"),
    ]  # fmt: skip


def test_months_must_run_on_without_a_gap(tmp_path: Path) -> None:
    def spoil(sheets: Sheets) -> None:
        for name in (BY_TYPE, BY_ORGANISATION, BY_REASON):
            del sheets[name][17]  # September

    problems = refused(tmp_path, spoil)
    assert {p.message for p in problems} == {
        "2010-10 follows 2010-08; the months must run on one by one"
    }
    assert len(problems) == 3


def test_a_sheet_with_a_month_the_others_lack(tmp_path: Path) -> None:
    def spoil(sheets: Sheets) -> None:
        del sheets[BY_REASON][19]  # November

    (problem,) = refused(tmp_path, spoil)
    assert problem.message == "sheet 'Delayed Days by reason' has no row for 2010-11"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"PK\x03\x04rest-of-a-zip", "this is an .xlsx (or other ZIP) file"),
        (b"Year,Period\n2010-11,August\n", "this is not an Excel .xls workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "the .xls workbook cannot be read"),
    ],
)
def test_files_that_are_not_the_workbook(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "dtoc.xls"
    path.write_bytes(content)

    with pytest.raises(ImportRejected) as caught:
        read_dtoc(path)
    (problem,) = caught.value.problems
    assert problem.file == "dtoc.xls" and problem.message.startswith(message)
