"""Publication control: what a count derived from person-level data may show the public.

Every number carepool publishes from pseudonymised person-level records passes through this
one module, so the rule is written down once and can be checked against the policy:

- **Zero is published as 0.** A true zero says that nobody had the event; it identifies no
  one, and hiding it would hide exactly the result ("no delayed days", "no admissions") that
  people need to see. This follows the usual NHS statistical practice of suppressing
  *1 to 7*, not *0 to 7*.
- **1 to 7 is suppressed** (:data:`SUPPRESSION_THRESHOLD`): a count that small could
  identify someone, alone or with other published figures.
- **Anything larger is rounded to the nearest 5** (:data:`ROUNDING_BASE`), so that two
  overlapping tables cannot be subtracted to recover a small difference. An integer is never
  halfway between multiples of 5, so "nearest" needs no tie-break.
- **Secondary suppression.** Where cells are published with their total, a single suppressed
  cell could be recovered as the total minus the others. So whenever exactly one entry of a
  line (its cells and its total) is suppressed, the next smallest entry of that line is
  suppressed too, preferring one that is not zero (a hidden zero protects nothing if
  zeros are known to be structural). In a two-way table the rows, the columns and the line
  of column totals are all lines, and suppression repeats until no line has exactly one
  suppressed entry.

Suppressed cells show :data:`SUPPRESSED_SYMBOL`, the Government Statistical Service symbol
for a figure withheld for confidentiality. Totals are rounded from the true total, not summed
from rounded cells, so a published table need not add up exactly: that is intended.

Only whole counts of people or events come here. A rate, percentage or standardised rate is
not rounded; it is withheld when its numerator is disclosive (:func:`is_disclosive`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

SUPPRESSION_THRESHOLD = 7
"""Counts from 1 up to and including this are never published."""

ROUNDING_BASE = 5
"""Published counts are rounded to the nearest multiple of this."""

SUPPRESSED_SYMBOL = "[c]"
"""What a reader sees in place of a withheld figure (GSS symbol for 'confidential')."""

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)


class Mark(StrEnum):
    """Why a cell shows what it shows."""

    PUBLISHED = "published"
    SUPPRESSED = "suppressed"  # primary: the count itself is 1 to 7
    SECONDARY = "secondary"  # withheld so that another suppressed cell cannot be worked out


@dataclass(frozen=True, slots=True)
class Cell:
    """A count as published: its rounded value, or ``None`` when withheld."""

    value: int | None
    mark: Mark

    @property
    def shown(self) -> str:
        return SUPPRESSED_SYMBOL if self.value is None else f"{self.value:,}"


def is_disclosive(count: int) -> bool:
    """Whether a count is too small to publish (1 to 7; zero is not)."""
    _check(count)
    return 0 < count <= SUPPRESSION_THRESHOLD


def round_to_base(count: int) -> int:
    """The nearest multiple of :data:`ROUNDING_BASE` (8 → 10, 12 → 10, 13 → 15)."""
    _check(count)
    return (count + ROUNDING_BASE // 2) // ROUNDING_BASE * ROUNDING_BASE


def publish_count(count: int) -> Cell:
    """One count on its own, with no total beside it: primary suppression and rounding."""
    if is_disclosive(count):
        return Cell(None, Mark.SUPPRESSED)
    return Cell(round_to_base(count), Mark.PUBLISHED)


@dataclass(frozen=True, slots=True)
class Rate:
    """A metric value as published: withheld entirely when its counts are disclosive."""

    value: Decimal | None
    numerator: Cell
    denominator: Cell | None

    @property
    def shown(self) -> str:
        return SUPPRESSED_SYMBOL if self.value is None else f"{self.value:,}"


def publish_rate(numerator: int, denominator: int | None, value: Decimal) -> Rate:
    """A rate, percentage or count with the counts it comes from.

    The rate is withheld if either count is 1 to 7: a small numerator identifies the people
    counted, and a small denominator lets a rate be turned back into one. A plain count (no
    denominator) is published rounded like any count; a rate is shown exactly as computed,
    because rounding its counts first would change it.
    """
    top = publish_count(numerator)
    bottom = None if denominator is None else publish_count(denominator)
    if top.value is None or (bottom is not None and bottom.value is None):
        return Rate(None, top, bottom)
    if bottom is None:
        return Rate(Decimal(top.value), top, None)
    return Rate(value, top, bottom)


@dataclass(frozen=True, slots=True)
class Group(Generic[K]):
    """Cells published together with their total."""

    cells: Mapping[K, Cell]
    total: Cell


def protect_group(counts: Mapping[K, int]) -> Group[K]:
    """Publish cells and their total so that no withheld cell can be worked out."""
    total_key = _Total()
    entries: dict[Hashable, int] = dict(counts.items())
    entries[total_key] = sum(counts.values())
    marks = _protect(entries, [list(entries)])
    cells = {key: _cell(count, marks[key]) for key, count in counts.items()}
    return Group(cells, _cell(entries[total_key], marks[total_key]))


@dataclass(frozen=True, slots=True)
class Table(Generic[R, C]):
    """A two-way table as published: cells, row and column totals, and the grand total."""

    cells: Mapping[tuple[R, C], Cell]
    row_totals: Mapping[R, Cell]
    column_totals: Mapping[C, Cell]
    total: Cell


def protect_table(
    counts: Mapping[tuple[R, C], int], rows: Sequence[R], columns: Sequence[C]
) -> Table[R, C]:
    """Publish a two-way table with all its margins; a missing cell counts as zero.

    Each row with its total, each column with its total, and the column totals with the
    grand total must never have exactly one withheld entry.
    """
    unknown = [key for key in counts if key[0] not in rows or key[1] not in columns]
    if unknown:
        raise ValueError(f"cells outside the table's rows and columns: {unknown[:5]}")
    entries = _table_entries(counts, rows, columns)
    marks = _protect(entries, _table_lines(rows, columns))

    def cell(key: Hashable) -> Cell:
        return _cell(entries[key], marks[key])

    return Table(
        {(r, c): cell(("cell", r, c)) for r in rows for c in columns},
        {r: cell(("row", r)) for r in rows},
        {c: cell(("column", c)) for c in columns},
        cell(("total",)),
    )


class _Total:
    """The key of a group's total: unlike any key a caller could use for a cell."""

    def __repr__(self) -> str:
        return "total"


def _check(count: int) -> None:
    if count < 0:
        raise ValueError(f"a count cannot be negative: {count}")


def _cell(count: int, mark: Mark) -> Cell:
    return Cell(None if mark is not Mark.PUBLISHED else round_to_base(count), mark)


def _table_entries(
    counts: Mapping[tuple[R, C], int], rows: Sequence[R], columns: Sequence[C]
) -> dict[Hashable, int]:
    entries: dict[Hashable, int] = {}
    for r in rows:
        for c in columns:
            entries[("cell", r, c)] = counts.get((r, c), 0)
    for r in rows:
        entries[("row", r)] = sum(counts.get((r, c), 0) for c in columns)
    for c in columns:
        entries[("column", c)] = sum(counts.get((r, c), 0) for r in rows)
    entries[("total",)] = sum(counts.values())
    return entries


def _table_lines(rows: Sequence[Hashable], columns: Sequence[Hashable]) -> list[list[Hashable]]:
    lines: list[list[Hashable]] = []
    for r in rows:
        lines.append([*(("cell", r, c) for c in columns), ("row", r)])
    for c in columns:
        lines.append([*(("cell", r, c) for r in rows), ("column", c)])
    lines.append([*(("column", c) for c in columns), ("total",)])
    return lines


def _protect(
    entries: Mapping[Hashable, int], lines: Sequence[Sequence[Hashable]]
) -> dict[Hashable, Mark]:
    """Primary suppression, then secondary until no line gives a withheld entry away."""
    marks = {
        key: Mark.SUPPRESSED if is_disclosive(count) else Mark.PUBLISHED
        for key, count in entries.items()
    }
    order = {key: index for index, key in enumerate(entries)}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(marks[key] is not Mark.PUBLISHED for key in line) != 1:
                continue
            partner = _next_smallest(line, entries, marks, order)
            if partner is not None:
                marks[partner] = Mark.SECONDARY
                changed = True
    return marks


def _next_smallest(
    line: Iterable[Hashable],
    entries: Mapping[Hashable, int],
    marks: Mapping[Hashable, Mark],
    order: Mapping[Hashable, int],
) -> Hashable | None:
    """The smallest published entry of a line, preferring non-zero ones; ties go to the first."""
    candidates = [key for key in line if marks[key] is Mark.PUBLISHED]
    if not candidates:
        return None
    return min(candidates, key=lambda key: (entries[key] == 0, entries[key], order[key]))
