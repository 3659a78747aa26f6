"""Reading the register of UK local authorities."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from carepool.domain.errors import ImportRejected
from carepool.domain.geography import SOCIAL_CARE_COUNCIL_TYPES
from carepool.geography.files.councils import read_councils

Write = Callable[[str, str | bytes], Path]

HEADER = (
    "local-authority-code,official-name,nice-name,gss-code,start-date,end-date,replaced-by,"
    "nation,region,local-authority-type,county-la,pop-2020\n"
)


def rejected(path: Path) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        read_councils(path)
    return [str(p) for p in caught.value.problems]


def test_the_real_register_gives_152_social_care_councils_on_1_april_2015(
    shared_data: Path,
) -> None:
    councils = read_councils(shared_data / "uk_local_authorities.csv")

    day = dt.date(2015, 4, 1)
    in_force = [
        c
        for c in councils
        if c.nation == "England" and c.kind in SOCIAL_CARE_COUNCIL_TYPES and c.in_force_on(day)
    ]
    assert len(in_force) == 152
    assert Counter(c.kind for c in in_force) == {"UA": 56, "MD": 36, "LBO": 32, "CTY": 27, "CC": 1}
    assert {c.code[:3] for c in in_force} == {"E06", "E08", "E09", "E10"}


def test_the_real_register_keeps_every_nation_and_the_code_history(shared_data: Path) -> None:
    path = shared_data / "uk_local_authorities.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        raw = list(csv.DictReader(handle))

    councils = read_councils(path)

    with_gss = [r for r in raw if r["gss-code"]]
    assert len(councils) == len(with_gss)
    assert {c.nation for c in councils} == {"England", "Wales", "Scotland", "Northern Ireland"}
    by_short = {c.short_code: c for c in councils}
    northamptonshire = by_short["NTH"]
    assert northamptonshire.code == "E10000021"
    assert northamptonshire.replaced_by == ("NNT", "WNT")
    assert by_short["KET"].county == "NTH"
    assert by_short["LDS"].name == "Leeds"  # the nice name, not "Leeds City Council"


def test_a_good_small_register_reads(write: Write) -> None:
    path = write(
        "las.csv",
        HEADER + "NTH,Northamptonshire County Council,Northamptonshire,E10000021,,2021-04-01,"
        '"NNT,WNT",England,East Midlands,CTY,,\n'
        "NNT,North Northamptonshire Council,North Northamptonshire,E06000061,01/04/2021,,,"
        "England,East Midlands,UA,,\n"
        "WNT,West Northamptonshire Council,West Northamptonshire,E06000062,2021-04-01,,,"
        "England,East Midlands,UA,,\n"
        "NIR-A,Antrim Borough Council,Antrim,,,2015-03-31,,Northern Ireland,,NID,,\n",
    )

    councils = read_councils(path)

    assert [c.code for c in councils] == ["E10000021", "E06000061", "E06000062"]
    assert councils[0].replaced_by == ("NNT", "WNT")
    assert councils[0].end == dt.date(2021, 4, 1)
    assert councils[1].start == dt.date(2021, 4, 1)


def test_bad_codes_dates_and_nations_are_all_reported_with_row_and_column(write: Write) -> None:
    path = write(
        "las.csv",
        HEADER
        + "AAA,A Council,A,E0600001,,,,England,North East,UA,,\n"
        + "BBB,B Council,B,,,,,England,North East,UA,,\n"
        + "CCC,C Council,C,W06000001,,,,England,North East,UA,,\n"
        + "DDD,D Council,D,E06000004,2020-13-01,2019-01-01,,England,North East,UA,,\n"
        + "EEE,E Council,E,E06000005,,,,Engerland,North East,UA,,\n",
    )

    assert rejected(path) == [
        "las.csv, row 2, column 'gss-code': 'E0600001' is not a GSS code "
        "(a letter E, W, S or N and eight digits)",
        "las.csv, row 3, column 'gss-code': an English council must have a GSS code",
        "las.csv, row 4, column 'gss-code': W06000001 is not a code for England "
        "(those start with E)",
        "las.csv, row 5, column 'start-date': '2020-13-01' is not a real date",
        "las.csv, row 6, column 'nation': 'Engerland' is not a UK nation "
        "(England, Wales, Scotland, Northern Ireland)",
    ]


def test_a_council_code_is_three_capital_letters(write: Write) -> None:
    """Successors and counties are named by this code, so it must be exactly as registered:
    three capitals for a council, three or four for a combined authority (``GMCA``)."""
    path = write(
        "las.csv",
        HEADER
        + "AA,A Council,A,E06000001,,,,England,North East,UA,,\n"
        + "BBBB,B Council,B,E06000002,,,,England,North East,UA,,\n"
        + "c3c,C Council,C,E06000003,,,,England,North East,UA,,\n"
        + "GMCA,Greater Manchester,,E47000001,,,,England,North West,COMB,,\n"
        + "LCR,Liverpool City Region,,E47000004,,,,England,North West,COMB,,\n"
        + "XY,Some Combined Authority,,E47000002,,,,England,North West,COMB,,\n",
    )

    assert rejected(path) == [
        "las.csv, row 2, column 'local-authority-code': 'AA' is not a register code: "
        "three capital letters, like TRF",
        "las.csv, row 3, column 'local-authority-code': 'BBBB' is not a register code: "
        "three capital letters, like TRF",
        "las.csv, row 4, column 'local-authority-code': 'c3c' is not a register code: "
        "three capital letters, like TRF",
        "las.csv, row 7, column 'local-authority-code': 'XY' is not a register code: "
        "three or four capital letters, like GMCA",
    ]


def test_duplicate_gss_and_short_codes_name_both_rows(write: Write) -> None:
    path = write(
        "las.csv",
        HEADER
        + "AAA,A Council,A,E06000001,,,,England,North East,UA,,\n"
        + "BBB,B Council,B,E06000001,,,,England,North East,UA,,\n"
        + "AAA,C Council,C,E06000003,,,,England,North East,UA,,\n",
    )

    assert rejected(path) == [
        "las.csv, row 3: GSS code E06000001 is also used by row 2; each must be unique",
        "las.csv, row 4: local-authority-code AAA is also used by row 2; each must be unique",
    ]


def test_successors_and_counties_must_be_in_the_register(write: Write) -> None:
    path = write(
        "las.csv",
        HEADER + 'AAA,A Council,A,E07000001,,,"BBB, ZZZ",England,North East,NMD,YYY,\n'
        "BBB,B Council,B,E06000002,,,,England,North East,UA,,\n",
    )

    assert rejected(path) == [
        "las.csv, row 2, column 'replaced-by': replaced by 'ZZZ', which is not in the register",
        "las.csv, row 2, column 'county-la': county 'YYY' is not in the register",
    ]


def test_a_register_without_its_columns_is_refused(write: Write) -> None:
    (problem,) = rejected(write("las.csv", "local-authority-code,gss-code\nAAA,E06000001\n"))
    assert "las.csv, row 1: missing required columns 'official-name'" in problem


def test_a_register_with_no_council_with_a_gss_code_is_refused(write: Write) -> None:
    """Stored, it would be an empty register: the latest, so the year would have no areas."""
    path = write(
        "las.csv", HEADER + "NIR-A,Antrim Borough Council,Antrim,,,,,Northern Ireland,,NID,,\n"
    )
    with pytest.raises(ImportRejected, match=r"las\.csv has no rows for councils with a GSS code"):
        read_councils(path)
