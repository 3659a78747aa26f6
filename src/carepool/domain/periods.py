"""Time in carepool: financial years, programme years, quarters and months, and their labels.

The BCF counts in English public-sector financial years, 1 April to 31 March, written
``2015-16``. A *programme year* is the span one policy framework covers: one financial year
(``2015-16``) or several (``2017-19`` is 2017-18 and 2018-19). A *quarter* is a quarter of a
financial year (``2015-16 Q2`` is July to September 2015; a web address writes it
``2015-16-Q2``) and a *month* is written ``2015-07``.

Labels are the form periods are stored, sent and shown in, so the rest of carepool passes
labels through and this module is the only one that reads or writes them: nothing else
parses a year. Every reader that refuses a label says so with the same words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from carepool.domain.errors import CarepoolError

FIRST_MONTH_OF_YEAR = 4
"""Financial years run from April to March."""

LONGEST_PROGRAMME = 5
"""The most financial years one programme year may span (the BCF's longest so far is two)."""

_YEARS = re.compile(r"^([0-9]{4})-([0-9]{2})$")
QUARTER_PATTERN = r"^([0-9]{4})-([0-9]{2})[ +_-]?[Qq]([1-4])$"
"""The forms of a quarter :func:`parse_quarter` reads (``2015-16 Q2``, ``2015-16-Q2``), for a
schema that declares them."""
_QUARTER = re.compile(QUARTER_PATTERN)
_QUARTER_LABEL = re.compile(r"^([0-9]{4}-[0-9]{2}) Q([1-4])$")
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


class PeriodError(CarepoolError):
    """Text that is not the period it should be."""

    code = "invalid_period"


@dataclass(frozen=True, slots=True)
class Period:
    """An accounting period (month, quarter or year), inclusive of both ends."""

    label: str
    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


# --------------------------------------------------------------------------------------------
# Financial years


def _first_year(text: str, pattern: re.Pattern[str], spans: range) -> int | None:
    """The calendar year a span of financial years starts in, if ``text`` is one."""
    match = pattern.match(text)
    if match is None:
        return None
    first = int(match[1])
    if not any((first + span) % 100 == int(match[2]) for span in spans):
        return None
    return first


def is_financial_year(text: str) -> bool:
    return _first_year(text, _YEARS, range(1, 2)) is not None


def financial_year(text: str) -> str:
    """The label of the financial year ``text`` names: ``2015-16``, whose second year must
    follow the first."""
    return financial_year_label(_start_year(text))


def financial_year_within(text: str, earliest: str, latest: str) -> str:
    """The label of the financial year ``text`` names, if it is from ``earliest`` to ``latest``.

    A year can be well formed and still impossible for what it labels (``9999-00`` in a
    published series), so a reader that knows the years its file can cover says so here.
    """
    first = _start_year(text)
    if not _start_year(earliest) <= first <= _start_year(latest):
        raise PeriodError(f"{text!r} is not a financial year from {earliest} to {latest}")
    return financial_year_label(first)


def financial_year_label(first: int) -> str:
    """``2015-16`` for the year that starts in April ``first``."""
    return f"{first:04d}-{(first + 1) % 100:02d}"


def year_label(day: dt.date) -> str:
    """The financial year a day falls in: ``2015-16`` for April 2015 to March 2016."""
    first = day.year if day.month >= FIRST_MONTH_OF_YEAR else day.year - 1
    return financial_year_label(first)


def financial_year_start(label: str) -> dt.date:
    return dt.date(_start_year(label), FIRST_MONTH_OF_YEAR, 1)


def financial_year_end(label: str) -> dt.date:
    return add_months(financial_year_start(label), 12) - dt.timedelta(days=1)


def year_period(label: str) -> Period:
    return Period(label, financial_year_start(label), financial_year_end(label))


def _start_year(label: str) -> int:
    first = _first_year(label, _YEARS, range(1, 2))
    if first is None:
        raise PeriodError(f"{label!r} is not a financial year like 2015-16")
    return first


# --------------------------------------------------------------------------------------------
# Programme years


def programme_financial_years(label: str) -> tuple[str, ...]:
    """The financial years a programme year spans: ``2017-19`` is 2017-18 and 2018-19."""
    first = _first_year(label, _YEARS, range(1, LONGEST_PROGRAMME + 1))
    if first is None:
        raise PeriodError(f"{label!r} is not a programme year like 2015-16 or 2017-19")
    last = first + (int(label[5:]) - first) % 100
    return tuple(financial_year_label(year) for year in range(first, last))


def programme_year_label(financial_years: Iterable[str]) -> str:
    """The programme year that spans consecutive financial years: ``2017-19``."""
    firsts = [_start_year(year) for year in financial_years]
    if not firsts or firsts != list(range(firsts[0], firsts[0] + len(firsts))):
        raise PeriodError("a programme year spans one or more consecutive financial years")
    return f"{firsts[0]:04d}-{(firsts[-1] + 1) % 100:02d}"


# --------------------------------------------------------------------------------------------
# Quarters


@dataclass(frozen=True, slots=True)
class Quarter:
    """A quarter of a financial year: ``2015-16 Q2`` is July to September 2015."""

    financial_year: str
    number: int
    period: Period

    @property
    def label(self) -> str:
        return self.period.label

    @property
    def slug(self) -> str:
        """The label as it appears in a web address (no space): ``2015-16-Q2``."""
        return self.label.replace(" ", "-")

    @property
    def index(self) -> int:
        return self.number - 1


def quarter(financial_year: str, number: int) -> Quarter:
    """Quarter ``number`` (1 to 4) of a financial year; Q1 is April to June."""
    if number not in range(1, 5):
        raise PeriodError(f"a financial year has quarters 1 to 4, not {number}")
    first = add_months(financial_year_start(financial_year), 3 * (number - 1))
    last = add_months(first, 3) - dt.timedelta(days=1)
    return Quarter(financial_year, number, Period(f"{financial_year} Q{number}", first, last))


def parse_quarter(text: str) -> Quarter:
    """A quarter from ``2015-16 Q2`` or its web form ``2015-16-Q2``."""
    match = _QUARTER.match(text.strip())
    if match is None or int(match[2]) != (int(match[1]) + 1) % 100:
        raise PeriodError(f"{text.strip()!r} is not a quarter: write e.g. 2015-16 Q2")
    return quarter(f"{match[1]}-{match[2]}", int(match[3]))


def quarters(financial_year: str) -> list[Period]:
    """The four quarters of a financial year: Q1 is April to June."""
    return [quarter(financial_year, number).period for number in range(1, 5)]


def quarters_of(financial_years: Iterable[str]) -> list[Quarter]:
    """Every quarter of the given financial years, in order."""
    return [quarter(year, number) for year in financial_years for number in range(1, 5)]


def quarter_label(day: dt.date) -> str:
    """The financial quarter a day falls in: ``2015-16 Q1`` is April to June 2015."""
    number = (day.month - FIRST_MONTH_OF_YEAR) % 12 // 3 + 1
    return f"{year_label(day)} Q{number}"


# --------------------------------------------------------------------------------------------
# Months


def month_label(day: dt.date) -> str:
    """The month a day falls in: ``2015-04``."""
    return f"{day.year:04d}-{day.month:02d}"


def month_start(label: str) -> dt.date:
    """The first day of the month ``2015-07``."""
    match = _MONTH.match(label)
    if match is None:
        raise PeriodError(f"{label!r} is not a month like 2015-07")
    return dt.date(int(match[1]), int(match[2]), 1)


def month_period(first: dt.date) -> Period:
    """The whole month that starts on (or holds) ``first``."""
    start = first.replace(day=1)
    return Period(month_label(start), start, add_months(start, 1) - dt.timedelta(days=1))


def months(financial_year: str) -> list[Period]:
    """The twelve months of a financial year, April first."""
    start = financial_year_start(financial_year)
    return [month_period(add_months(start, index)) for index in range(12)]


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first day of every month from ``first``'s month to ``last``'s, inclusive."""
    index, stop = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index, stop + 1)]


def add_months(day: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``day``'s (before, if negative)."""
    month = day.month - 1 + count
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def months_elapsed(financial_year: str, as_at: dt.date) -> Fraction:
    """Months of the year gone by the end of ``as_at``: whole months plus the part-month."""
    period = year_period(financial_year)
    if as_at < period.start:
        return Fraction(0)
    if as_at >= period.end:
        return Fraction(12)
    whole = (as_at.year - period.start.year) * 12 + as_at.month - period.start.month
    first = dt.date(as_at.year, as_at.month, 1)
    days = (add_months(first, 1) - first).days
    return whole + Fraction(as_at.day, days)


def instalment_dates(financial_year: str, instalments: int) -> list[dt.date]:
    """When contributions fall due: the first day of each instalment period of the year."""
    if instalments not in {1, 2, 4, 12}:
        raise CarepoolError("instalments must be 1, 2, 4 or 12 a year")
    start = financial_year_start(financial_year)
    step = 12 // instalments
    return [add_months(start, step * i) for i in range(instalments)]


# --------------------------------------------------------------------------------------------
# Any period by its label


def period_named(label: str) -> Period:
    """A period from its label: ``2015-16``, ``2015-16 Q2`` or ``2015-07``.

    A label that could be a year or a month (``2011-12``) is the year: closing December 2011
    alone is not something a pool does.
    """
    quarter_match = _QUARTER_LABEL.match(label)
    if quarter_match and is_financial_year(quarter_match[1]):
        return quarter(quarter_match[1], int(quarter_match[2])).period
    if is_financial_year(label):
        return year_period(label)
    if _MONTH.match(label):
        return month_period(month_start(label))
    raise PeriodError(f"{label!r} is not a period: use 2015-16, 2015-16 Q2 or 2015-07")
