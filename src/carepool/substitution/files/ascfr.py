"""NHS Digital's adult social care finance returns (ASC-FR), read exactly as published.

Two layouts are read, both Latin-1 CSV with money in £ thousands and ``:`` for mandatory
data that are unavailable:

* the **council-level expenditure** file (2014-15): wide, a row of region codes, then a
  header ``Support type, Age category, Summary, Delivery mechanism, Accounting category``
  followed by one column per council (``102 - Cumbria``), then one row per combination and
  notes at the foot. The council's totals are the rows ``Non Salt Totals / Adult Social
  Care / Total``; three of their accounting categories are read.
* the **additional data** file (2015-16): long, one row per council and item. Each council's
  ``Income from Better Care Fund`` (blank where the council did not return it, a voluntary
  item) and its ``Bridging Year`` expenditure and income are read.

Councils are named by the Department of Health's code and name, not ONS codes: the caller
passes ``resolve`` (name to ONS code); a council it cannot place is refused with its row and
column, as is any figure that is not money. Nothing is returned unless everything is clean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from carepool.domain.errors import ImportRejected, Problem
from carepool.domain.substitution import Basis, CouncilYear
from carepool.io.tabular import ProblemLog, Records, read_records

ENCODING = "latin-1"
"""NHS Digital's CSV files are Latin-1 (the ``£`` in their notes is byte 0xA3)."""

PENCE_PER_THOUSAND = 100_000

Resolver = Callable[[str], str | None]
"""A council's published name to its ONS code, or ``None`` when it cannot be placed."""

WIDE_HEADER = ("Support type", "Age category", "Summary", "Delivery mechanism")
CATEGORY = 4
TOTALS = ("Non Salt Totals", "Adult Social Care", "Total")
GROSS = "Gross current expenditure"
NHS = "Income: Income from NHS"
JOINT = "Income: joint arrangements"
WIDE_CATEGORIES = (GROSS, NHS, JOINT)

LONG_COLUMNS = ("Council Code", "Council Name", "Data Source", "Finance Type")
ITEM, VALUE = "Comparative totals", "Value"
BCF = "Income from Better Care Fund"
BRIDGING = "Bridging Year"
NOT_PERSONAL_SOCIAL_SERVICES = frozenset(
    {"Other non personal social services expenditure", "Income from Specific and Special Grants"}
)
"""Bridging-year lines left out of its totals: they are not spending on, or income for,
adult social care services."""

_COUNCIL = re.compile(r"^\s*([0-9]{3})\s*-\s*(.+?)\s*$")
_NUMBER = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


@dataclass(frozen=True, slots=True)
class ReturnedFile:
    """What a return held: one year per council, keyed by ONS code, with published names."""

    source: str
    financial_year: str
    basis: Basis
    councils: dict[str, CouncilYear]
    names: dict[str, str]
    dh_codes: dict[str, str]


def thousands_to_pence(text: str) -> Decimal:
    """£ thousands as published (``177607.74``) to pence, exactly: a ``Decimal`` that may
    hold fractions of a penny (some bridging figures are published to six places), which
    the caller rounds once, after adding up. ``ValueError`` says why text is not money."""
    value = text.strip()
    if not _NUMBER.match(value):
        raise ValueError(f"{value!r} is not an amount in £ thousands")
    try:
        return Decimal(value) * PENCE_PER_THOUSAND
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"{value!r} is not an amount in £ thousands") from None


def to_pence(amount: Decimal) -> int:
    """Exact pence, rounding a fraction of a penny half to even (once per figure stored)."""
    return int(amount.to_integral_value(rounding=ROUND_HALF_EVEN))


def _money(text: str, log: ProblemLog, row: int, column: str, *, blank_ok: bool) -> Decimal | None:
    """One published cell: ``:`` (unavailable) and, where allowed, blank are ``None``."""
    value = text.strip()
    if value == ":" or (blank_ok and not value):
        return None
    if not value:
        log.add(
            "the cell is blank; the return writes ':' where a figure is unavailable",
            row=row,
            column=column,
        )
        return None
    try:
        return thousands_to_pence(value)
    except ValueError as exc:
        log.add(str(exc), row=row, column=column)
        return None


def read_return(path: Path, financial_year: str, resolve: Resolver) -> ReturnedFile:
    """Read either layout (told apart by its header) for ``financial_year``."""
    records = read_records(path, encoding=ENCODING)
    at = _wide_header(records)
    if at is not None:
        return _read_wide(records, at, financial_year, resolve)
    if _long_header(records) is not None:
        return _read_long(records, financial_year, resolve)
    problem = Problem(
        "this is neither an ASC-FR council-level expenditure file (a header starting "
        "'Support type, Age category, …' with a column per council) nor an additional data "
        "file (a header with 'Council Code', 'Council Name', 'Data Source', 'Finance Type', "
        "'Comparative totals' and 'Value')",
        file=records.source,
    )
    raise ImportRejected(f"{records.source} is not an ASC-FR file: nothing was imported", [problem])


# The wide council-level expenditure file ------------------------------------------------


def _wide_header(records: Records) -> int | None:
    for index, (_, cells) in enumerate(records.records[:10]):
        if tuple(c.strip() for c in cells[: len(WIDE_HEADER)]) == WIDE_HEADER:
            return index
    return None


def _read_wide(records: Records, at: int, year: str, resolve: Resolver) -> ReturnedFile:
    header_row, header = records.records[at]
    log = ProblemLog(records.source)
    columns = _council_columns(header, header_row, resolve, log)
    found = _total_rows(records.records[at + 1 :])
    for category in WIDE_CATEGORIES:
        if category not in found:
            log.add(
                f"no row '{' / '.join(TOTALS)} / {category}': the council totals are missing",
                column=header[CATEGORY],
            )
    figures: dict[str, dict[str, Decimal | None]] = {c.code: {} for c in columns.values()}
    for category, (number, cells) in found.items():
        for index, council in columns.items():
            cell = cells[index] if index < len(cells) else ""
            amount = _money(cell, log, number, header[index], blank_ok=False)
            figures[council.code][category] = amount
    log.raise_if_any()
    councils = {code: _wide_year(code, year, f) for code, f in figures.items()}
    names = {c.code: c.name for c in columns.values()}
    dh = {c.code: c.dh_code for c in columns.values()}
    return ReturnedFile(records.source, year, Basis.ASC_FR, councils, names, dh)


def _total_rows(
    records: Iterable[tuple[int, tuple[str, ...]]],
) -> dict[str, tuple[int, tuple[str, ...]]]:
    """The council totals rows wanted, by accounting category (the first of each)."""
    found: dict[str, tuple[int, tuple[str, ...]]] = {}
    for number, cells in records:
        key = tuple(c.strip() for c in cells[: CATEGORY + 1])
        if len(key) <= CATEGORY or (key[0], key[2], key[3]) != TOTALS:
            continue
        if key[CATEGORY] in WIDE_CATEGORIES:
            found.setdefault(key[CATEGORY], (number, cells))
    return found


def _wide_year(code: str, year: str, figures: dict[str, Decimal | None]) -> CouncilYear:
    def pence(category: str) -> int | None:
        amount = figures.get(category)
        return None if amount is None else to_pence(amount)

    return CouncilYear(
        code,
        year,
        Basis.ASC_FR,
        gross_current_expenditure=pence(GROSS),
        nhs_income=pence(NHS),
        joint_arrangements_income=pence(JOINT),
    )


@dataclass(frozen=True, slots=True)
class _Column:
    """A council's column in the wide file: its ONS code and how the return names it."""

    code: str
    dh_code: str
    name: str


def _council_columns(
    header: tuple[str, ...], row: int, resolve: Resolver, log: ProblemLog
) -> dict[int, _Column]:
    """Each council column's index to its council; every column that fails is logged."""
    columns: dict[int, _Column] = {}
    seen: dict[str, str] = {}
    for index in range(len(WIDE_HEADER) + 1, len(header)):
        text = header[index].strip()
        if not text:
            continue
        match = _COUNCIL.match(text)
        code = resolve(match[2]) if match else None
        if match is None:
            log.add(f"{text!r} is not a council written 'code - name'", row=row, column=text)
        elif code is None:
            log.add(
                f"unknown council {text!r}: no council of that name in the register",
                row=row,
                column=text,
            )
        elif code in seen:
            log.add(f"{text!r} is the same council as {seen[code]!r}", row=row, column=text)
        else:
            seen[code] = text
            columns[index] = _Column(code, match[1], match[2])
    return columns


# The long additional data file ----------------------------------------------------------


def _long_header(records: Records) -> int | None:
    if not records.records:
        return None
    cells = {c.strip() for c in records.records[0][1]}
    return 0 if {*LONG_COLUMNS, ITEM, VALUE} <= cells else None


@dataclass(slots=True)
class _Sums:
    """One council's lines of the additional data file, added up exactly before rounding."""

    bcf: Decimal | None = None
    expenditure: Decimal | None = None
    income: Decimal | None = None

    def add(self, row: dict[str, str], amount: Decimal | None) -> None:
        item = row.get(ITEM, "")
        if item == BCF:
            self.bcf = amount
        elif row.get("Data Source") == BRIDGING and item not in NOT_PERSONAL_SOCIAL_SERVICES:
            kind = row.get("Finance Type")
            if kind == "Expenditure":
                self.expenditure = (self.expenditure or Decimal(0)) + (amount or 0)
            elif kind == "Income":
                self.income = (self.income or Decimal(0)) + (amount or 0)

    def year(self, code: str, year: str) -> CouncilYear:
        def pence(amount: Decimal | None) -> int | None:
            return None if amount is None else to_pence(amount)

        return CouncilYear(
            code,
            year,
            Basis.BRIDGING,
            bcf_income=pence(self.bcf),
            bridging_expenditure=pence(self.expenditure),
            bridging_income=pence(self.income),
        )


def _read_long(records: Records, year: str, resolve: Resolver) -> ReturnedFile:
    header = tuple(c.strip() for c in records.records[0][1])
    log = ProblemLog(records.source)
    sums: dict[str, _Sums] = {}
    names: dict[str, str] = {}
    dh: dict[str, str] = {}
    for number, cells in records.records[1:]:
        if not any(c.strip() for c in cells):
            continue
        row = dict(zip(header, (c.strip() for c in cells), strict=False))
        code = _long_council(row, number, resolve, log)
        amount = _money(row.get(VALUE, ""), log, number, VALUE, blank_ok=True)
        if code is None:
            continue
        names.setdefault(code, row["Council Name"])
        dh.setdefault(code, row["Council Code"])
        sums.setdefault(code, _Sums()).add(row, amount)
    log.raise_if_any()
    councils = {code: s.year(code, year) for code, s in sums.items()}
    return ReturnedFile(records.source, year, Basis.BRIDGING, councils, names, dh)


def _long_council(
    row: dict[str, str], number: int, resolve: Resolver, log: ProblemLog
) -> str | None:
    name = row.get("Council Name", "")
    code = resolve(name) if name else None
    if code is None:
        log.add(
            f"unknown council {row.get('Council Code', '')!r} {name!r}: no council of that "
            "name in the register",
            row=number,
            column="Council Name",
        )
    return code
