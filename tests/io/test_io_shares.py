"""Reading CCG-to-council population shares."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from carepool.domain.errors import ImportRejected
from carepool.domain.geography import band_total
from carepool.geography.files.shares import read_shares

Write = Callable[[str, str | bytes], Path]

HEADER = (
    "ccg15_code,ccg15_ods_code,ccg15_name,cassr_code,cassr_name,pop_mid2017_all_ages,"
    "pop_mid2017_18plus,pop_mid2017_65plus,share_of_ccg_population,share_of_cassr_population\n"
)
# One CCG split 60:40 between two councils; the second council is all this CCG's.
GOOD = (
    HEADER
    + "E38000001,02N,NHS A CCG,E08000032,Bradford,600,500,100,0.6,0.5\n"
    + "E38000001,02N,NHS A CCG,E10000023,North Yorkshire,400,300,50,0.4,1\n"
    + "E38000002,02M,NHS B CCG,E08000032,Bradford,600,450,90,1,0.5\n"
)
REAL = "derived_ccg15_to_la_population_shares_mid2017.csv"


def rejected(path: Path) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        read_shares(path)
    return [str(p) for p in caught.value.problems]


def test_the_real_file_has_209_ccgs_152_councils_and_241_pairs(shared_data: Path) -> None:
    shares = read_shares(shared_data / REAL)

    assert len(shares.commissioners) == 209
    assert len(shares.shares) == 241
    assert len({s.council_code for s in shares.shares}) == 152
    assert len({p.geo_code for p in shares.populations}) == 152
    airedale = next(c for c in shares.commissioners if c.code == "E38000001")
    assert (airedale.ods_code, airedale.name) == ("02N", "NHS Airedale, Wharfedale and Craven CCG")
    first = shares.shares[0]
    assert first.share_of_commissioner == Fraction(683998, 1_000_000)
    assert first.share_of_area == Fraction(204409, 1_000_000)


def test_the_real_file_populations_are_the_sums_over_its_rows(shared_data: Path) -> None:
    path = shared_data / REAL
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    with path.open(encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            sums = expected[raw["cassr_code"]]
            sums[0] += int(raw["pop_mid2017_all_ages"])
            sums[1] += int(raw["pop_mid2017_18plus"])
            sums[2] += int(raw["pop_mid2017_65plus"])

    shares = read_shares(path)

    for code, (every, adults, older) in expected.items():
        counts = [p for p in shares.populations if p.geo_code == code]
        assert band_total(counts, 0, None) == every
        assert band_total(counts, 18, None) == adults
        assert band_total(counts, 65, None) == older


def test_a_good_small_file_reads(write: Write) -> None:
    shares = read_shares(write("shares.csv", GOOD))

    assert [c.code for c in shares.commissioners] == ["E38000001", "E38000002"]
    assert [(s.commissioner_code, s.council_code, s.population) for s in shares.shares] == [
        ("E38000001", "E08000032", 600),
        ("E38000001", "E10000023", 400),
        ("E38000002", "E08000032", 600),
    ]
    bradford = [(p.age_from, p.age_to, p.persons) for p in shares.populations[:3]]
    assert bradford == [(0, 17, 250), (18, 64, 760), (65, None, 190)]
    assert shares.populations[0].geo_name == "Bradford"


def test_non_numeric_and_negative_populations_name_row_and_column(write: Write) -> None:
    path = write(
        "shares.csv",
        HEADER
        + "E38000001,02N,NHS A CCG,E08000032,Bradford,six hundred,500,100,0.6,0.5\n"
        + "E38000001,02N,NHS A CCG,E10000023,North Yorkshire,400,-3,50,0.4,1\n"
        + "E38000002,02M,NHS B CCG,E08000032,Bradford,600,700,90,1,0.5\n"
        + "E38000003,02L,NHS C CCG,E08000033,Calderdale,600,500,501,1,1\n",
    )

    assert rejected(path) == [
        "shares.csv, row 2, column 'pop_mid2017_all_ages': 'six hundred' is not a whole number",
        "shares.csv, row 3, column 'pop_mid2017_18plus': -3 is negative; it must be 0 or more",
        "shares.csv, row 4, column 'pop_mid2017_18plus': 700 people aged 18+ is more than "
        "the 600 of all ages",
        "shares.csv, row 5, column 'pop_mid2017_65plus': 501 people aged 65+ is more than "
        "the 500 aged 18+",
    ]


def test_bad_codes_and_shares_are_reported(write: Write) -> None:
    path = write(
        "shares.csv",
        HEADER
        + "E38000001,,NHS A CCG,E07000032,Bradford,600,500,100,1.5,0.5\n"
        + "E39000001,02N,NHS A CCG,E08000032,Bradford,600,500,100,0.6,x\n",
    )

    assert rejected(path) == [
        "shares.csv, row 2, column 'ccg15_ods_code': this cell is blank but a value is required",
        "shares.csv, row 2, column 'cassr_code': 'E07000032' is not a social care council code "
        "(E06/E08/E09/E10)",
        "shares.csv, row 2, column 'share_of_ccg_population': 1.5 is more than 1; "
        "a share must be 0 to 1",
        "shares.csv, row 3, column 'ccg15_code': 'E39000001' is not a CCG code "
        "(E38 and six digits)",
        "shares.csv, row 3, column 'share_of_cassr_population': 'x' is not a decimal number",
    ]


def test_duplicate_pairs_and_inconsistent_names_are_reported(write: Write) -> None:
    path = write(
        "shares.csv",
        GOOD
        + "E38000001,02N,NHS A CCG,E08000032,Bradford,1,1,1,0,0\n"
        + "E38000002,02X,NHS B CCG,E10000023,North Yorks,1,1,1,0,0\n",
    )

    assert rejected(path) == [
        "shares.csv, row 5: CCG E38000001 and council E08000032 are already paired in row 2",
        "shares.csv, row 6, column 'ccg15_name': CCG E38000002 is 'NHS B CCG' (02X) here but "
        "'NHS B CCG' (02M) in row 4",
        "shares.csv, row 6, column 'cassr_name': council E10000023 is 'North Yorks' here but "
        "'North Yorkshire' in row 3",
    ]


def test_shares_that_do_not_add_up_to_1_name_the_ccg_or_council_and_the_sum(
    write: Write,
) -> None:
    """Six-decimal rounding is tolerated (North Yorkshire's 0.99995); real gaps are not."""
    path = write(
        "shares.csv",
        HEADER
        + "E38000001,02N,NHS A CCG,E08000032,Bradford,600,500,100,0.6,0.5\n"
        + "E38000001,02N,NHS A CCG,E10000023,North Yorkshire,400,300,50,0.3998,0.99995\n"
        + "E38000002,02M,NHS B CCG,E08000032,Bradford,600,450,90,1,0.4\n",
    )

    assert rejected(path) == [
        "shares.csv, column 'share_of_ccg_population': the share_of_ccg_population values for "
        "CCG E38000001 add up to 0.9998, not 1 (allowed difference 0.0001)",
        "shares.csv, column 'share_of_cassr_population': the share_of_cassr_population values "
        "for council E08000032 add up to 0.9, not 1 (allowed difference 0.0001)",
    ]


def test_sums_are_not_checked_when_a_row_is_already_wrong(write: Write) -> None:
    """A bad row would make its CCG's and council's sums look wrong too; it is reported alone."""
    path = write("shares.csv", GOOD.replace(",0.4,1\n", ",forty,1\n"))

    assert rejected(path) == [
        "shares.csv, row 3, column 'share_of_ccg_population': 'forty' is not a decimal number",
    ]
