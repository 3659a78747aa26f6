"""Oflog's adult social care outcomes by council (CSV), as published and spoilt."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from carepool.domain.errors import ImportRejected
from carepool.domain.periods import year_label
from carepool.metrics.files.published_outcomes import (
    UNITS,
    OutcomeValue,
    read_outcomes,
)

REAL = "oflog_asc_outcomes_by_la_2015_2023.csv"
HEADER = (
    "Financial year,Local authority code,Local authority name,Grouping,Entity_Name,Region,"
    "Measure,Code,Value,MEDIAN,MADs_from_median,rank_order\n"
)
ASC5 = '"Outcome, Outcome of short-term services: sequel to service",ASC5'


def csv_file(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "outcomes.csv"
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def row(
    year: str = "2015-16",
    code: str = "E08000009",
    value: str = "56.2",
    measure: str = ASC5,
    name: str = "Trafford",
) -> str:
    place = f"{code},{name},LA_Raw,Metropolitan Districts,North West"
    return f"{year},{place},{measure},{value},74.75,1,desc"


def test_the_published_file(shared_data: Path) -> None:
    outcomes = read_outcomes(shared_data / REAL)
    values = {(v.financial_year, v.area_code, v.measure_code): v for v in outcomes.values}

    # 6,376 rows: 6,078 with a value and 298 that Oflog left blank.
    assert (len(outcomes.values), outcomes.not_published) == (6_078, 298)
    assert len({v.area_code for v in outcomes.values}) == 157
    assert sorted({v.financial_year for v in outcomes.values}) == [
        "2015-16", "2016-17", "2017-18", "2018-19", "2019-20", "2020-21", "2021-22", "2022-23"
    ]  # fmt: skip
    assert Counter(v.measure_code for v in outcomes.values)["ASC5"] == 1_209
    # Read off the file: Trafford's and Derbyshire's reablement outcome, Darlington's carers.
    trafford = [values[(y, "E08000009", "ASC5")].value for y in ("2015-16", "2021-22")]
    assert trafford == [Decimal("56.2"), Decimal("32.9")]
    assert values[("2019-20", "E10000007", "ASC5")].value == Decimal("97.7")
    assert values[("2016-17", "E06000005", "ASC1")] == OutcomeValue(
        "2016-17", "E06000005", "Darlington", "ASC1", "Outcome, ASC Carer Quality of Life",
        Decimal("7.6"),
    )  # fmt: skip
    # Values keep every published digit: no float has touched them.
    assert values[("2015-16", "E09000029", "ASC6")].value == Decimal("1031.145464583807")
    assert values[("2015-16", "E08000009", "ASC5")].unit == UNITS["ASC5"] == "percentage"
    assert ("2016-17", "E06000053", "ASC1") not in values  # Isles of Scilly: not published


def test_a_blank_value_is_counted(tmp_path: Path) -> None:
    outcomes = read_outcomes(csv_file(tmp_path, row(), row(year="2016-17", value="")))

    assert [v.financial_year for v in outcomes.values] == ["2015-16"]
    assert outcomes.not_published == 1


def test_codes_and_years_are_only_those_the_publication_can_hold(tmp_path: Path) -> None:
    """ASC50 is no measure of Oflog's; the file writes 2015-16, never 2015/16; and its
    series starts in 2015-16 and cannot run past the year in progress."""
    path = csv_file(
        tmp_path,
        row(),
        row(year="2016-17", measure='"Outcome, reablement",ASC50'),
        row(year="2015/16"),
        row(year="9999-00"),
        row(year="2014-15"),
        row(year="2017-18", value="５６.２"),
    )

    with pytest.raises(ImportRejected) as caught:
        read_outcomes(path)
    found = [(p.row, p.column, p.message) for p in caught.value.problems]
    this_year = year_label(dt.date.today())
    assert found == [
        (3, "Code", "'ASC50' is not one of Oflog's measure codes "
         "(ASC1, ASC2, ASC3, ASC4, ASC5, ASC6, ASC7)"),
        (4, "Financial year", "'2015/16' is not a financial year like 2015-16"),
        (5, "Financial year", f"'9999-00' is not a financial year from 2015-16 to {this_year}"),
        (6, "Financial year", f"'2014-15' is not a financial year from 2015-16 to {this_year}"),
        (7, "Value", "'５６.２' is not a number: only the digits 0-9 are accepted"),
    ]  # fmt: skip


def test_every_bad_cell_is_reported_with_its_row_and_column(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        row(),
        row(year="2016-17", value="n/a"),
        row(year="2015-17"),
        row(year="2017-18", code="W06000001"),
        row(year="2018-19", measure='"Outcome, reablement",ASC'),
        row(year="2019-20", name=""),
    )

    with pytest.raises(ImportRejected) as caught:
        read_outcomes(path)
    found = [(p.file, p.row, p.column, p.message) for p in caught.value.problems]
    assert found == [
        ("outcomes.csv", 3, "Value", "'n/a' is not a number"),
        ("outcomes.csv", 4, "Financial year", "'2015-17' is not a financial year like 2015-16"),
        ("outcomes.csv", 5, "Local authority code",
         "'W06000001' is not an English ONS area code like E06000001"),
        ("outcomes.csv", 6, "Code", "'ASC' is not one of Oflog's measure codes "
         "(ASC1, ASC2, ASC3, ASC4, ASC5, ASC6, ASC7)"),
        ("outcomes.csv", 7, "Local authority name",
         "this cell is blank but a value is required"),
    ]  # fmt: skip


def test_the_same_year_council_and_measure_twice_is_refused(tmp_path: Path) -> None:
    path = csv_file(tmp_path, row(), row(value="57.0"))

    with pytest.raises(ImportRejected) as caught:
        read_outcomes(path)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (3, "Code")
    assert problem.message == "2015-16 E08000009 ASC5 is also in row 2"


def test_one_code_has_one_name(tmp_path: Path) -> None:
    path = csv_file(tmp_path, row(), row(year="2016-17", measure='"Outcome, reablement",ASC5'))

    with pytest.raises(ImportRejected) as caught:
        read_outcomes(path)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (3, "Measure")
    assert "ASC5 is named 'Outcome, reablement' here but" in problem.message


def test_the_published_file_cut_short_is_refused(shared_data: Path, tmp_path: Path) -> None:
    """Cut to 45%, the file stops inside a quoted measure name; cut a little earlier, inside
    the last column of a row ("DESC" as "DE"), every row still has its twelve fields."""
    data = (shared_data / REAL).read_bytes()
    cut = len(data) * 45 // 100
    row_end = data.rindex(b"\n", 0, cut)
    rows = data.count(b"\n", 0, row_end) + 1  # the row that ends there, as a spreadsheet counts
    path = tmp_path / "outcomes.csv"
    for end, row_cut in ((cut, rows + 1), (row_end - 2, rows), (row_end - 4, rows)):
        path.write_bytes(data[:end])
        with pytest.raises(ImportRejected) as caught:
            read_outcomes(path)
        [problem] = caught.value.problems
        assert problem.row == row_cut
        assert problem.message in (
            "a quoted field is never closed: the file ends inside quotes",
            "the file ends in the middle of this row, with no line break after it, so it may "
            "have been cut short while copying; if the row is complete, end it with a line break",
        )


def test_missing_columns_are_refused(tmp_path: Path) -> None:
    header = "Financial year,Local authority code,Local authority name,Value\n"
    path = csv_file(tmp_path, "2015-16,E08000009,Trafford,56.2", header=header)

    with pytest.raises(ImportRejected) as caught:
        read_outcomes(path)
    (problem,) = caught.value.problems
    assert problem.row == 1
    assert problem.message.startswith("missing required columns 'Measure', 'Code'")


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_bytes(b"")

    with pytest.raises(ImportRejected, match="the file is empty"):
        read_outcomes(path)


def test_a_header_with_no_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportRejected, match=r"^outcomes\.csv has a header but no rows"):
        read_outcomes(csv_file(tmp_path))


def test_a_file_with_no_published_value_is_refused(tmp_path: Path) -> None:
    """Every value blank once ended in an IndexError while summing up the years."""
    path = csv_file(tmp_path, row(value=""), row(year="2016-17", value=""))
    with pytest.raises(ImportRejected, match="has no rows for published values"):
        read_outcomes(path)
