"""Reading ONS mid-year estimates by upper-tier council and single year of age."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from carepool.domain.errors import ImportRejected
from carepool.domain.geography import band_total
from carepool.geography.files.populations import read_populations, vintage_name_from

Write = Callable[[str, str | bytes], Path]

AGES = [str(age) for age in range(90)] + ["90+"]


def population_csv(code_column: str, rows: list[tuple[str, str, str, list[str]]]) -> str:
    """A file in the ONS layout; each row is (code, name, total, ages 0..90+)."""
    name_column = code_column.replace("_code", "_name")
    lines = [",".join([code_column, name_column, "total_population", *AGES])]
    lines += [",".join([code, name, total, *ages]) for code, name, total, ages in rows]
    return "\n".join(lines) + "\n"


def ones(total: int = 91) -> tuple[str, list[str]]:
    """Ages with one person each, and the total that goes with them."""
    return str(total), ["1"] * 91


def rejected(path: Path) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        read_populations(path)
    return [str(p) for p in caught.value.problems]


def english_totals(path: Path) -> dict[str, int]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return {row[0]: int(row[2]) for row in rows[1:] if row[0].startswith("E")}


def test_mid_2019_has_151_english_areas_adding_up_to_england(shared_data: Path) -> None:
    path = shared_data / "ons_mye_mid2019_utla19_single_year_age.csv"
    expected = english_totals(path)

    counts = read_populations(path)

    assert len(expected) == 151
    assert {c.geo_code for c in counts} == set(expected)
    assert sum(c.persons for c in counts) == sum(expected.values())
    assert len(counts) == 151 * 91
    durham = [c for c in counts if c.geo_code == "E06000047"]
    assert band_total(durham, 0, None) == expected["E06000047"]
    assert (durham[-1].age_from, durham[-1].age_to) == (90, None)
    assert (durham[0].age_from, durham[0].age_to, durham[0].geo_name) == (0, 0, "County Durham")


def test_mid_2020_has_150_english_areas_without_northamptonshire(shared_data: Path) -> None:
    path = shared_data / "ons_mye_mid2020_utla20_single_year_age.csv"
    expected = english_totals(path)

    counts = read_populations(path)

    codes = {c.geo_code for c in counts}
    assert len(codes) == 150
    assert sum(c.persons for c in counts) == sum(expected.values())
    assert not codes & {"E10000021", "E06000061", "E06000062"}


def test_any_code_and_name_pair_is_accepted_and_other_nations_are_left_out(
    write: Write,
) -> None:
    total, ages = ones()
    path = write(
        "mye.csv",
        population_csv(
            "lad21_code",
            [("E06000001", "Hartlepool", total, ages), ("W06000001", "Anglesey", total, ages)],
        ),
    )

    counts = read_populations(path)

    assert {c.geo_code for c in counts} == {"E06000001"}
    assert [(c.age_from, c.age_to) for c in counts[-2:]] == [(89, 89), (90, None)]


def test_ages_that_do_not_add_up_report_row_and_difference(write: Write) -> None:
    _, ages = ones()
    path = write("mye.csv", population_csv("utla19_code", [("E06000001", "H", "100", ages)]))

    assert rejected(path) == [
        "mye.csv, row 2, column 'total_population': the ages add up to 91 but "
        "total_population is 100 (a difference of -9)"
    ]


def test_non_numeric_and_negative_ages_name_row_and_column(write: Write) -> None:
    total, ages = ones()
    bad = ages.copy()
    bad[5] = "five"
    bad[90] = "-1"
    path = write(
        "mye.csv",
        population_csv(
            "utla19_code", [("E06000001", "H", total, ages), ("E06000002", "M", total, bad)]
        ),
    )

    assert rejected(path) == [
        "mye.csv, row 3, column '5': 'five' is not a whole number",
        "mye.csv, row 3, column '90+': -1 is negative; it must be 0 or more",
    ]


def test_bad_and_repeated_codes_are_reported(write: Write) -> None:
    total, ages = ones()
    path = write(
        "mye.csv",
        population_csv(
            "utla19_code",
            [
                ("E06000001", "H", total, ages),
                ("E06000001", "H", total, ages),
                ("Hartlepool", "H", total, ages),
            ],
        ),
    )

    assert rejected(path) == [
        "mye.csv, row 3, column 'utla19_code': E06000001 is also in row 2",
        "mye.csv, row 4, column 'utla19_code': 'Hartlepool' is not an ONS area code",
    ]


def test_a_missing_age_column_is_named(write: Write) -> None:
    text = population_csv("utla19_code", []).replace(",90+", "")
    (problem,) = rejected(write("mye.csv", text))
    assert "mye.csv, row 1: missing required column '90+'" in problem


def test_a_header_without_code_and_name_columns_is_refused(write: Write) -> None:
    text = population_csv("utla19_code", []).replace("utla19_code,utla19_name", "code,name")
    (problem,) = rejected(write("mye.csv", text))
    assert problem.startswith("mye.csv, row 1: the header needs an area code column")


def test_vintage_names_come_from_the_file_name() -> None:
    assert vintage_name_from(Path("ons_mye_mid2019_utla19_single_year_age.csv")) == "mid-2019"
    assert vintage_name_from(Path("x/Mid-2021-estimates.csv")) == "mid-2021"
    assert vintage_name_from(Path("x/census_2021.csv")) == "census_2021"


def test_a_file_with_no_english_area_is_refused(write: Write) -> None:
    """Stored, it would be a population vintage with nobody in it."""
    total, ages = ones()
    text = population_csv("utla19_code", [("W06000001", "Isle of Anglesey", total, ages)])
    with pytest.raises(ImportRejected, match=r"mye\.csv has no rows for English areas"):
        read_populations(write("mye.csv", text))
