"""Reading NHS Digital's adult social care finance returns and HM Treasury's deflators as
published: Latin-1, £ thousands, ':' for unavailable, councils by DH code and name."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from carepool.domain.errors import ImportRejected
from carepool.domain.geography import SOCIAL_CARE_COUNCIL_TYPES
from carepool.domain.substitution import Basis, council_name_key, name_index
from carepool.geography.files.councils import read_councils
from carepool.substitution.files.ascfr import read_return, thousands_to_pence
from carepool.substitution.files.deflators import read_deflators

Write = Callable[[str, str | bytes], Path]
WIDE = "ascfr/pss_exp_2014_15_council_expenditure.csv"
LONG = "ascfr/pss_exp_2015_16_additional_data.csv"


@pytest.fixture(scope="module")
def resolve(shared_data: Path) -> Callable[[str], str | None]:
    """Published names to ONS codes, through the real councils register on 1 April 2015."""
    import datetime as dt

    day = dt.date(2015, 4, 1)
    councils = {
        c.code: c.name
        for c in read_councils(shared_data / "uk_local_authorities.csv")
        if c.nation == "England" and c.kind in SOCIAL_CARE_COUNCIL_TYPES and c.in_force_on(day)
    }
    index = name_index(councils)
    return lambda name: index.get(council_name_key(name))


def _file_totals(path: Path, category: str) -> Decimal:
    """The file's own council totals of one category in £ thousands, read independently."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("latin-1"))))
    for row in rows:
        if row[:5] == ["Non Salt Totals", "", "Adult Social Care", "Total", category]:
            return sum((Decimal(v) for v in row[5:]), Decimal(0))
    raise AssertionError(category)


def test_the_real_2014_15_return_places_all_152_councils_exactly(
    shared_data: Path, resolve: Callable[[str], str | None]
) -> None:
    path = shared_data / WIDE
    returned = read_return(path, "2014-15", resolve)

    assert returned.basis is Basis.ASC_FR
    assert len(returned.councils) == 152
    years = returned.councils.values()
    gross = sum(y.gross_current_expenditure or 0 for y in years)
    nhs = sum(y.nhs_income or 0 for y in years)
    joint = sum(y.joint_arrangements_income or 0 for y in years)
    assert gross == _file_totals(path, "Gross current expenditure") * 100_000
    assert nhs == _file_totals(path, "Income: Income from NHS") * 100_000
    assert joint == _file_totals(path, "Income: joint arrangements") * 100_000
    assert gross == 1_704_329_646_000  # £17,043,296.46 thousand, as NHS Digital published
    cumbria = returned.councils["E10000006"]
    assert (cumbria.gross_current_expenditure, cumbria.nhs_income) == (
        17_760_774_000,
        1_448_496_000,
    )
    assert returned.names["E10000006"] == "Cumbria" and returned.dh_codes["E10000006"] == "102"
    assert returned.councils["E06000047"].gross_current_expenditure is not None  # "Durham"


def test_the_real_2015_16_additional_data_gives_bcf_income_where_returned(
    shared_data: Path, resolve: Callable[[str], str | None]
) -> None:
    returned = read_return(shared_data / LONG, "2015-16", resolve)

    assert returned.basis is Basis.BRIDGING
    assert len(returned.councils) == 152
    bcf = [y.bcf_income for y in returned.councils.values()]
    assert sum(1 for b in bcf if b is None) == 49  # a voluntary item, left blank by 49
    assert returned.councils["E10000006"].bcf_income == 3_601_300_000  # Cumbria: 36013
    assert returned.councils["E08000037"].bcf_income is None  # Gateshead: blank
    assert all(y.gross_current_expenditure is None for y in returned.councils.values())
    assert all(y.bridging_expenditure for y in returned.councils.values())


def test_the_real_deflators_are_read_as_published(shared_data: Path) -> None:
    series = read_deflators(shared_data / "hmt_gdp_deflators_dec2023.csv")

    assert series.reference_year == "2022-23"
    assert series.index["2014-15"] == Decimal("81.870")
    assert series.index["2015-16"] == Decimal("82.459")
    assert series.index["2022-23"] == Decimal("100.000")
    assert "2023-24" not in series.index  # forecasts give no index, only a percentage


def test_thousands_become_exact_pence() -> None:
    assert thousands_to_pence("177607.74") == Decimal(17_760_774_000)
    assert thousands_to_pence("-0.5") == Decimal(-50_000)
    assert thousands_to_pence("2139.638208") == Decimal("213963820.8")  # rounded once, later
    for bad in ("12a", "$0.00", "1,2", ""):
        with pytest.raises(ValueError, match="not an amount"):
            thousands_to_pence(bad)


# Refusals: each names its row and column, and all are reported together --------------

KNOWN = {"Cumbria": "E10000006", "Northumberland": "E06000057"}


def _known(name: str) -> str | None:
    return KNOWN.get(name)


def _wide(header_councils: str, *rows: str) -> str:
    return (
        ",,,,,NW,NE\n"
        "Support type,Age category,Summary,Delivery mechanism,Accounting category,"
        f"{header_councils}\n"
        + "".join(f"{row}\n" for row in rows)
        + "Notes,,,,,,\nData are presented in £000's,,,,,,\n"
    )


def _totals(gross: str, nhs: str, joint: str) -> tuple[str, ...]:
    prefix = "Non Salt Totals,,Adult Social Care,Total"
    return (
        f"{prefix},Gross current expenditure,{gross}",
        f"{prefix},Income: Income from NHS,{nhs}",
        f"{prefix},Income: joint arrangements,{joint}",
    )


def _problems(path: Path, year: str = "2014-15") -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        read_return(path, year, _known)
    return [str(p) for p in caught.value.problems]


def test_a_small_wide_file_in_latin_1_reads_with_colon_as_unavailable(write: Write) -> None:
    text = _wide("102 - Cumbria,104 - Northumberland", *_totals("10.5,20", "1,:", "0,2"))
    returned = read_return(write("exp.csv", text.encode("latin-1")), "2014-15", _known)
    assert returned.councils["E10000006"].gross_current_expenditure == 1_050_000
    assert returned.councils["E06000057"].nhs_income is None
    assert returned.councils["E06000057"].own_funded is None


def test_unknown_councils_and_non_numeric_money_are_refused_with_row_and_column(
    write: Write,
) -> None:
    text = _wide("102 - Cumbria,999 - Atlantis", *_totals("abc,20", "1,2", "0,"))
    problems = _problems(write("exp.csv", text.encode("latin-1")))
    assert any("row 2" in p and "999 - Atlantis" in p and "unknown council" in p for p in problems)
    assert any("row 3" in p and "102 - Cumbria" in p and "'abc'" in p for p in problems)
    assert len(problems) == 2  # the unknown council's cells are not read at all


def test_a_blank_mandatory_figure_is_refused(write: Write) -> None:
    text = _wide("102 - Cumbria,104 - Northumberland", *_totals("1,2", "1,2", "0,"))
    problems = _problems(write("exp.csv", text.encode("latin-1")))
    assert len(problems) == 1
    assert "row 5" in problems[0] and "104 - Northumberland" in problems[0]
    assert "':'" in problems[0]


def test_missing_council_totals_are_refused(write: Write) -> None:
    text = _wide("102 - Cumbria", *_totals("1", "1", "0")[:2])
    problems = _problems(write("exp.csv", text.encode("latin-1")))
    assert len(problems) == 1 and "Income: joint arrangements" in problems[0]


def test_a_long_file_with_an_unknown_council_or_bad_money_is_refused(write: Write) -> None:
    header = (
        "UUID,Council Code,Council Name,Data Type,Data Source,Age Band,Finance Type,"
        "Comparative totals,Value\n"
    )
    rows = (
        "1,102,Cumbria,Voluntay,Additional Data,-,Income,Income from Better Care Fund,36013\n"
        "1,998,Lyonesse,Voluntay,Additional Data,-,Income,Income from Better Care Fund,5\n"
        "2,104,Northumberland,Mandatory,Bridging Year,Age 65 and over,Expenditure,"
        "Home care services,n/a\n"
    )
    problems = _problems(write("add.csv", (header + rows).encode("latin-1")), "2015-16")
    assert any("row 3" in p and "Council Name" in p and "Lyonesse" in p for p in problems)
    assert any("row 4" in p and "Value" in p and "'n/a'" in p for p in problems)


def test_a_file_of_neither_layout_is_refused(write: Write) -> None:
    problems = _problems(write("other.csv", "a,b\n1,2\n"))
    assert "neither" in problems[0]


def test_a_deflator_row_without_a_number_is_refused(write: Write) -> None:
    text = (
        ",Title\n,Financial year,2022-23 = 100,per cent change on previous year\n"
        ',2014-15,81.870,1.22\n,2015-16,eighty,0.72\n,"2023-24 (1), (2)",-,6.10\n'
    )
    with pytest.raises(ImportRejected) as caught:
        read_deflators(write("deflators.csv", text))
    (problem,) = caught.value.problems
    assert problem.row == 4 and problem.column == "GDP deflator at market prices"
