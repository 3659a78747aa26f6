"""Reading a pool's spend file: what was paid, to whom, for which scheme.

The file is a CSV (UTF-8) or an XLSX workbook's first sheet with the columns

==========  ====================================================================
date        when the money was spent: yyyy-mm-dd or dd/mm/yyyy
scheme      the plan's scheme reference, e.g. ``S3``
provider    who was paid (kept in the ledger posting's memo)
amount      a positive amount of money, e.g. ``£12,345.67``
reference   the finance system's unique reference for the payment
==========  ====================================================================

Reading is a pipeline of stages that collect problems instead of stopping at the first: the
table (:mod:`carepool.io.tabular`), each row's fields, then the rows against each other (a
reference used twice in one file), then the rows against the pool (:func:`check_against`),
so whoever fixes the file sees everything wrong with it at once. Nothing is posted unless
the whole file is clean.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from carepool.domain.errors import ImportRejected
from carepool.domain.ledger import Period
from carepool.domain.money import Pence, format_money
from carepool.io.tabular import (
    ProblemLog,
    Row,
    date_field,
    money_field,
    read_table,
    required_text,
)

COLUMNS = ("date", "scheme", "provider", "amount", "reference")
MAX_REFERENCE = 100
MAX_PROVIDER = 200


@dataclass(frozen=True, slots=True)
class SpendLine:
    """One spend row that read cleanly, with its row number as a person sees it."""

    row: int
    date: dt.date
    scheme: str
    provider: str
    amount: Pence
    reference: str


@dataclass(frozen=True, slots=True)
class SpendFile:
    """The rows that read cleanly and the (still open) log of problems with the rest."""

    source: str
    lines: tuple[SpendLine, ...]
    log: ProblemLog


def read_spend(path: Path) -> SpendFile:
    """Read and check every row of a spend file; problems go to the returned log."""
    table = read_table(path, required=COLUMNS)
    log = table.problem_log()
    lines = [line for row in table.rows if (line := _line(row, log)) is not None]
    _unique_references(lines, log)
    return SpendFile(table.source, tuple(lines), log)


def _line(row: Row, log: ProblemLog) -> SpendLine | None:
    day = date_field(row, "date", log)
    scheme = required_text(row, "scheme", log)
    provider = _bounded(row, "provider", MAX_PROVIDER, log)
    amount = money_field(row, "amount", log)
    reference = _bounded(row, "reference", MAX_REFERENCE, log)
    if amount == 0:
        log.add("the amount is £0.00; a spend row must move money", row=row.number, column="amount")
        return None
    if day is None or scheme is None or provider is None or amount is None or reference is None:
        return None
    return SpendLine(row.number, day, scheme, provider, amount, reference)


def _bounded(row: Row, column: str, limit: int, log: ProblemLog) -> str | None:
    value = required_text(row, column, log)
    if value is not None and len(value) > limit:
        log.add(
            f"this is {len(value)} characters; at most {limit} are allowed",
            row=row.number,
            column=column,
        )
        return None
    return value


def _unique_references(lines: Iterable[SpendLine], log: ProblemLog) -> None:
    first: dict[str, int] = {}
    for line in lines:
        if line.reference in first:
            log.add(
                f"reference {line.reference!r} is also on row {first[line.reference]}; each "
                "payment needs its own reference",
                row=line.row,
                column="reference",
            )
        else:
            first[line.reference] = line.row


def refuse_if_any(spend: SpendFile) -> None:
    """Refuse the file with every problem, in the order of its rows, if there are any."""
    problems = spend.log.problems
    if problems:
        ordered = sorted(problems, key=lambda p: (p.row is None, p.row or 0))
        raise ImportRejected.from_problems(spend.source, ordered)


@dataclass(frozen=True, slots=True)
class PoolFacts:
    """What a spend row is checked against: the pool's schemes, span and closed periods."""

    schemes: frozenset[str]
    span: Period
    closed: tuple[Period, ...]


def check_against(spend: SpendFile, facts: PoolFacts) -> None:
    """Add a problem for every row that names an unknown scheme or a date the pool refuses."""
    known = ", ".join(sorted(facts.schemes)[:20]) or "none"
    for line in spend.lines:
        if line.scheme not in facts.schemes:
            spend.log.add(
                f"scheme {line.scheme!r} is not in the pool's plan (its schemes are {known})",
                row=line.row,
                column="scheme",
            )
        if not facts.span.contains(line.date):
            spend.log.add(
                f"{line.date.isoformat()} is outside the pool's year {facts.span.label} "
                f"({facts.span.start.isoformat()} to {facts.span.end.isoformat()})",
                row=line.row,
                column="date",
            )
        for period in facts.closed:
            if period.contains(line.date):
                spend.log.add(
                    f"{line.date.isoformat()} falls in {period.label}, which is closed; "
                    "date it in an open period",
                    row=line.row,
                    column="date",
                )


@dataclass(frozen=True, slots=True)
class Posted:
    """What is already in the ledger under a reference, to compare a re-imported row with."""

    date: dt.date
    scheme: str
    amount: int
    file_name: str
    row: int


def check_repeats(spend: SpendFile, posted: dict[str, Posted]) -> list[SpendLine]:
    """The rows not yet posted; a posted reference with different details is a problem.

    A row whose reference was already posted with the same date, scheme and amount is the
    same payment imported again and is skipped; with different details it is refused, because
    silently keeping either figure would hide a correction that should be a reversal.
    """
    fresh = []
    for line in spend.lines:
        before = posted.get(line.reference)
        if before is None:
            fresh.append(line)
        elif (before.date, before.scheme, before.amount) != (line.date, line.scheme, line.amount):
            spend.log.add(
                f"reference {line.reference!r} was already posted from {before.file_name} row "
                f"{before.row} as {format_money(before.amount)} to {before.scheme} on "
                f"{before.date.isoformat()}; reverse that entry before posting a correction "
                "under a new reference",
                row=line.row,
                column="reference",
            )
    return fresh


# --------------------------------------------------------------------------------------------
# Councils' own adult social care spend (for the substitution check)

COUNCIL_COLUMNS = ("area_code", "financial_year", "amount")
_FINANCIAL_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class CouncilSpendLine:
    row: int
    area_code: str
    financial_year: str
    amount: Pence


def read_council_spend(path: Path) -> tuple[str, list[CouncilSpendLine]]:
    """Read ``area_code, financial_year, amount`` rows; refuse the file if any is wrong."""
    table = read_table(path, required=COUNCIL_COLUMNS)
    log = table.problem_log()
    lines: list[CouncilSpendLine] = []
    first: dict[tuple[str, str], int] = {}
    for row in table.rows:
        area = required_text(row, "area_code", log)
        year = _financial_year(row, log)
        amount = money_field(row, "amount", log)
        if area is None or year is None or amount is None:
            continue
        if (area, year) in first:
            log.add(
                f"{area} {year} is also on row {first[(area, year)]}; give each area "
                "one figure a year",
                row=row.number,
                column="financial_year",
            )
            continue
        first[(area, year)] = row.number
        lines.append(CouncilSpendLine(row.number, area, year, amount))
    log.raise_if_any()
    return table.source, lines


def _financial_year(row: Row, log: ProblemLog) -> str | None:
    value = required_text(row, "financial_year", log)
    if value is None:
        return None
    match = _FINANCIAL_YEAR.match(value)
    if match is None or int(match[2]) != (int(match[1]) + 1) % 100:
        log.add(
            f"{value!r} is not a financial year (write e.g. 2015-16)",
            row=row.number,
            column="financial_year",
        )
        return None
    return value
