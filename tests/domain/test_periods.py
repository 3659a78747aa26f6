"""Periods: financial and programme years, quarters and months, read and written one way."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.domain.periods import (
    PeriodError,
    add_months,
    financial_year,
    financial_year_end,
    financial_year_label,
    financial_year_start,
    financial_year_within,
    is_financial_year,
    month_label,
    month_period,
    month_start,
    months,
    months_between,
    months_elapsed,
    parse_quarter,
    period_named,
    programme_financial_years,
    programme_year_label,
    quarter,
    quarter_label,
    quarters,
    quarters_of,
    year_label,
    year_period,
)

first_years = st.integers(min_value=1900, max_value=2998)
days = st.dates(min_value=dt.date(1900, 4, 1), max_value=dt.date(2998, 12, 31))


def test_a_financial_year_runs_from_april_to_march() -> None:
    assert financial_year("2015-16") == "2015-16"
    assert financial_year_start("2015-16") == dt.date(2015, 4, 1)
    assert financial_year_end("2015-16") == dt.date(2016, 3, 31)
    assert financial_year_label(1999) == "1999-00"
    assert year_period("1999-00").end == dt.date(2000, 3, 31)


@pytest.mark.parametrize("text", ["2015-17", "2015/16", "15-16", "2015-16 ", "2015", ""])
def test_anything_else_is_refused_with_the_same_words(text: str) -> None:
    assert not is_financial_year(text)
    with pytest.raises(PeriodError) as refused:
        financial_year(text)
    assert refused.value.message == f"{text!r} is not a financial year like 2015-16"


def test_a_year_can_be_held_to_the_years_a_file_can_cover() -> None:
    assert financial_year_within("2015-16", "2015-16", "2022-23") == "2015-16"
    assert financial_year_within("2022-23", "2015-16", "2022-23") == "2022-23"
    for wrong in ("9999-00", "2014-15", "2023-24"):
        with pytest.raises(PeriodError) as refused:
            financial_year_within(wrong, "2015-16", "2022-23")
        assert refused.value.message == f"{wrong!r} is not a financial year from 2015-16 to 2022-23"
    with pytest.raises(PeriodError, match="is not a financial year like 2015-16"):
        financial_year_within("2015/16", "2015-16", "2022-23")


def test_a_programme_year_spans_one_financial_year_or_several() -> None:
    assert programme_financial_years("2015-16") == ("2015-16",)
    assert programme_financial_years("2017-19") == ("2017-18", "2018-19")
    assert programme_financial_years("2099-01") == ("2099-00", "2100-01")
    assert programme_year_label(["2017-18", "2018-19"]) == "2017-19"
    for wrong in ("2017-17", "2017-16", "2017-99", "2017", "2017-19 Q1"):
        with pytest.raises(PeriodError, match="is not a programme year like 2015-16 or 2017-19"):
            programme_financial_years(wrong)
    with pytest.raises(PeriodError, match="consecutive"):
        programme_year_label(["2017-18", "2019-20"])


def test_quarters_start_in_april_and_take_a_web_form() -> None:
    q2 = parse_quarter("2015-16 Q2")
    assert (
        parse_quarter("2015-16-Q2") == parse_quarter(" 2015-16q2 ") == q2 == quarter("2015-16", 2)
    )
    assert (q2.period.start, q2.period.end) == (dt.date(2015, 7, 1), dt.date(2015, 9, 30))
    assert (q2.label, q2.slug, q2.index) == ("2015-16 Q2", "2015-16-Q2", 1)
    assert [p.label for p in quarters("2015-16")][-1] == "2015-16 Q4"
    assert quarters("2015-16")[-1].end == dt.date(2016, 3, 31)
    assert [q.label for q in quarters_of(["2017-18", "2018-19"])][3:5] == [
        "2017-18 Q4",
        "2018-19 Q1",
    ]
    for wrong in ("2015-17 Q2", "2015-16 Q5", "Q2", "2015-16"):
        with pytest.raises(PeriodError, match=r"is not a quarter: write e\.g\. 2015-16 Q2"):
            parse_quarter(wrong)
    with pytest.raises(PeriodError, match="quarters 1 to 4"):
        quarter("2015-16", 5)


def test_months_and_the_labels_of_the_periods_a_day_falls_in() -> None:
    assert [m.label for m in months("2015-16")][::11] == ["2015-04", "2016-03"]
    assert month_period(dt.date(2016, 2, 10)).end == dt.date(2016, 2, 29)
    assert month_start("2015-07") == dt.date(2015, 7, 1)
    march = dt.date(2016, 3, 31)
    assert (month_label(march), quarter_label(march), year_label(march)) == (
        "2016-03",
        "2015-16 Q4",
        "2015-16",
    )
    assert months_between(dt.date(2015, 11, 20), dt.date(2016, 2, 1)) == [
        dt.date(2015, 11, 1),
        dt.date(2015, 12, 1),
        dt.date(2016, 1, 1),
        dt.date(2016, 2, 1),
    ]
    assert add_months(dt.date(2016, 1, 31), -2) == dt.date(2015, 11, 1)
    with pytest.raises(PeriodError, match="is not a month like 2015-07"):
        month_start("2015-13")


def test_months_elapsed_counts_whole_months_and_the_part_month() -> None:
    assert months_elapsed("2015-16", dt.date(2015, 3, 31)) == 0
    assert months_elapsed("2015-16", dt.date(2015, 5, 15)) == 1 + Fraction(15, 31)
    assert months_elapsed("2015-16", dt.date(2016, 3, 31)) == 12


def test_any_period_by_its_label() -> None:
    assert period_named("2015-16") == year_period("2015-16")
    assert period_named("2015-16 Q3") == quarter("2015-16", 3).period
    assert period_named("2015-07").end == dt.date(2015, 7, 31)
    assert period_named("2011-12").label == "2011-12"  # a year, not December 2011
    for wrong in ("2015-17 Q2", "2015-16-Q2", "2015-13", "Q2"):
        with pytest.raises(PeriodError, match="is not a period"):
            period_named(wrong)


@given(first_years)
def test_a_financial_year_label_parses_back_to_itself(first: int) -> None:
    label = financial_year_label(first)
    assert financial_year(label) == label
    assert financial_year_start(label).year == first
    assert programme_financial_years(label) == (label,)


@given(first_years, st.integers(min_value=1, max_value=4))
def test_a_programme_year_label_is_made_from_the_years_it_spans(first: int, span: int) -> None:
    years = [financial_year_label(first + i) for i in range(span)]
    assert programme_financial_years(programme_year_label(years)) == tuple(years)


@given(days)
def test_every_day_lies_in_the_periods_its_labels_name(day: dt.date) -> None:
    for label in (year_label(day), quarter_label(day)):
        assert period_named(label).contains(day)
    month = month_label(day)
    assert month_period(month_start(month)).contains(day)
    if not is_financial_year(month):  # 2000-01 names a year, so January 2000 has no label here
        assert period_named(month).contains(day)
    found = parse_quarter(quarter_label(day).replace(" ", "-"))
    assert found.label == quarter_label(day) and found.financial_year == year_label(day)


@given(
    st.dates(dt.date(2010, 1, 1), dt.date(2030, 12, 31)),
    st.dates(dt.date(2010, 1, 1), dt.date(2030, 12, 31)),
)
def test_months_between_runs_on_one_month_at_a_time(a: dt.date, b: dt.date) -> None:
    first, last = min(a, b), max(a, b)
    every = months_between(first, last)
    assert every[0] == first.replace(day=1) and every[-1] == last.replace(day=1)
    assert all(add_months(x, 1) == y for x, y in pairwise(every))
