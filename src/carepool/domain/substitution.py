"""Did NHS money passed to councils through the pooled budgets replace their own spending?

The National Audit Office and the Public Accounts Committee asked whether the Better Care
Fund's transfers to social care *added* to what councils spent or *replaced* it. This module
answers it for one council from its published adult social care finance returns, with no
I/O, so the same rule serves the command line, the pages and the tests.

Definitions (the pages and ``docs/formats.md`` quote them):

* **NHS money** is what the council's return records as income from the NHS plus income
  from joint arrangements (mostly NHS partners' shares of Section 75 pooled budgets). Money
  a council received through the Better Care Fund reaches it as one of these two, so the
  separately returned *income from the Better Care Fund* is an "of which" and is not
  subtracted again.
* **Own-funded spend** is gross current expenditure less NHS money: what the council paid
  for from its own resources (council tax, business rates, government grant and its clients'
  charges). Only the ASC-FR return (2014-15 on) separates these lines; figures on another
  basis (the 2015-16 "bridging year" totals) have no own-funded figure, because their
  income is not split by source.
* **Real terms**: each year's cash is restated in one year's prices with HM Treasury's GDP
  deflator, ``real = cash × deflator(price year) / deflator(year)``, rounded to the penny.
* **Baseline**: 2014-15, the year before the pools began.
* **Flag**: a year is flagged when, against the baseline and in real terms, the council's
  own-funded spend fell by more than :data:`TOLERANCE` of the baseline while its NHS money
  rose. Both figures must be on the same basis as the baseline's; a year on another basis
  is shown but never compared.
* **Similar areas**: each council's change is set beside the median change of its
  comparison group (its nearest areas by size and age, or else councils of the same kind),
  so a fall that every similar council shared reads differently from one that stands alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

BASELINE_YEAR = "2014-15"
"""The last year before the pooled budgets (the Better Care Fund began in April 2015)."""

PRICE_YEAR = "2015-16"
"""Real-terms figures are in this year's prices: the pools' first year."""

TOLERANCE = Decimal("0.01")
"""A fall in own-funded real spend larger than this share of the baseline can be flagged;
smaller movements are within the noise of accounting changes between years."""


class Basis(StrEnum):
    """How a year's figures were returned; only figures on the same basis are compared."""

    ASC_FR = "ASC-FR"
    BRIDGING = "bridging"


@dataclass(frozen=True, slots=True)
class CouncilYear:
    """One council's returned figures for one financial year, in cash pence.

    ``None`` means not returned or unavailable (``:`` in the published file).
    """

    council_code: str
    financial_year: str
    basis: Basis
    gross_current_expenditure: int | None = None
    nhs_income: int | None = None
    joint_arrangements_income: int | None = None
    bcf_income: int | None = None
    bridging_expenditure: int | None = None
    bridging_income: int | None = None
    synthetic: bool = False

    @property
    def nhs_money(self) -> int | None:
        """Income from the NHS plus income from joint arrangements (see the module)."""
        if self.basis is not Basis.ASC_FR:
            return None
        if self.nhs_income is None or self.joint_arrangements_income is None:
            return None
        return self.nhs_income + self.joint_arrangements_income

    @property
    def own_funded(self) -> int | None:
        """Gross current expenditure less NHS money, in cash; ``None`` if either is unknown."""
        money = self.nhs_money
        if self.gross_current_expenditure is None or money is None:
            return None
        return self.gross_current_expenditure - money


def real_terms(cash: int, year: str, deflators: Mapping[str, Decimal], price_year: str) -> int:
    """``cash`` pence of ``year`` restated in ``price_year`` prices, to the nearest penny.

    Exact: the deflators are decimals as published and the division is done in fractions,
    so only the final rounding (half to even) loses anything.
    """
    if year not in deflators or price_year not in deflators:
        missing = year if year not in deflators else price_year
        raise KeyError(f"no GDP deflator for {missing}")
    ratio = Fraction(deflators[price_year]) / Fraction(deflators[year])
    return round(cash * ratio)  # a Fraction rounds half to even to an int, with no float


@dataclass(frozen=True, slots=True)
class YearResult:
    """One year of a council's check, in real terms (``PRICE_YEAR`` prices)."""

    figures: CouncilYear
    own_funded_real: int | None
    nhs_money_real: int | None
    own_change: Fraction | None  # share of the baseline, e.g. -0.02 for a 2% fall
    nhs_money_change: int | None  # real pence against the baseline
    comparable: bool
    flagged: bool


@dataclass(frozen=True, slots=True)
class _Baseline:
    basis: Basis
    own: int
    nhs: int


def check_council(
    years: Sequence[CouncilYear],
    deflators: Mapping[str, Decimal],
    *,
    price_year: str = PRICE_YEAR,
    tolerance: Decimal = TOLERANCE,
) -> tuple[YearResult, ...]:
    """Every year of one council, each compared with the baseline year where it can be."""
    ordered = sorted(years, key=lambda y: y.financial_year)
    base = next((y for y in ordered if y.financial_year == BASELINE_YEAR), None)
    baseline = _baseline(base, deflators, price_year)
    return tuple(_check_year(y, baseline, deflators, price_year, tolerance) for y in ordered)


def _baseline(
    base: CouncilYear | None, deflators: Mapping[str, Decimal], price_year: str
) -> _Baseline | None:
    """The baseline year in real terms, or ``None`` when it is missing or incomplete."""
    if base is None:
        return None
    own = _real(base.own_funded, BASELINE_YEAR, deflators, price_year)
    nhs = _real(base.nhs_money, BASELINE_YEAR, deflators, price_year)
    return None if own is None or nhs is None else _Baseline(base.basis, own, nhs)


def _check_year(
    year: CouncilYear,
    baseline: _Baseline | None,
    deflators: Mapping[str, Decimal],
    price_year: str,
    tolerance: Decimal,
) -> YearResult:
    own = _real(year.own_funded, year.financial_year, deflators, price_year)
    nhs = _real(year.nhs_money, year.financial_year, deflators, price_year)
    if (
        baseline is None
        or year.financial_year == BASELINE_YEAR
        or year.basis is not baseline.basis
        or own is None
        or nhs is None
    ):
        return YearResult(year, own, nhs, None, None, comparable=False, flagged=False)
    own_change = Fraction(own - baseline.own, baseline.own) if baseline.own else None
    nhs_change = nhs - baseline.nhs
    flagged = is_substitution(own_change, nhs_change, tolerance)
    return YearResult(year, own, nhs, own_change, nhs_change, comparable=True, flagged=flagged)


def is_substitution(own_change: Fraction | None, nhs_change: int, tolerance: Decimal) -> bool:
    """The flag rule: own-funded real spend fell by more than ``tolerance`` of the baseline
    while NHS money rose in real terms."""
    if own_change is None:
        return False
    return own_change < -Fraction(tolerance) and nhs_change > 0


def _real(cash: int | None, year: str, deflators: Mapping[str, Decimal], price: str) -> int | None:
    if cash is None or year not in deflators or price not in deflators:
        return None
    return real_terms(cash, year, deflators, price)


def median_change(changes: Sequence[Fraction]) -> Fraction | None:
    """The middle of the comparison group's changes (the mean of the two middle ones)."""
    if not changes:
        return None
    ordered = sorted(changes)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def same_kind_group(code: str, kinds: Mapping[str, str]) -> list[str]:
    """Councils of the same kind (county, unitary, metropolitan district, London borough):
    the comparison group when no population profile is held. The City of London counts
    with the London boroughs."""
    kind = _kind_group(kinds.get(code, ""))
    return sorted(c for c, k in kinds.items() if c != code and _kind_group(k) == kind)


def _kind_group(kind: str) -> str:
    return "LBO" if kind == "CC" else kind


_NAME_NOISE = re.compile(
    r"\b(?:city of|county of|royal borough of|london borough of|metropolitan borough of|"
    r"borough of|council|county|borough|the)\b"
)


def council_name_key(name: str) -> str:
    """A council's name reduced to what every list writes the same way.

    Returns and registers spell councils differently ("Stockton on Tees", "Stockton-on-Tees";
    "Durham", "County Durham"; "Kingston upon Hull", "Kingston upon Hull, City of";
    "Buckinghamshire", "Buckinghamshire County"), so punctuation, "&" and the words that say
    what kind of council it is are set aside before comparing.
    """
    text = name.lower().replace("&", " and ")
    text = re.sub(r"[^a-z ]", " ", text)
    return " ".join(_NAME_NOISE.sub(" ", text).split())


def name_index(councils: Mapping[str, str]) -> dict[str, str | None]:
    """Name keys to council codes (from ``code -> name``); a key two councils share maps to
    ``None``, so an ambiguous name is reported rather than guessed."""
    index: dict[str, str | None] = {}
    for code, name in councils.items():
        key = council_name_key(name)
        index[key] = code if key not in index or index[key] == code else None
    return index


DEFINITION = (
    "Own-funded spend is gross current expenditure on adult social care less income from "
    "the NHS and income from joint arrangements (NHS money, which includes Better Care Fund "
    "transfers), in "
    f"{PRICE_YEAR} prices by HM Treasury's GDP deflator. A year is flagged when, against "
    f"{BASELINE_YEAR}, own-funded real spend fell by more than {TOLERANCE:%} while NHS "
    "money rose in real terms. Only years returned on the baseline's basis (ASC-FR) are "
    "compared."
)
"""The check in one paragraph, as the pages, the JSON and the docs state it."""
