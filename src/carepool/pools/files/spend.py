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

That row-by-row reader builds several objects for every row, which is more than posting the
row costs. So a plain CSV file is first read by :func:`clean_blocks`, which checks whole
columns at once (each distinct date and scheme once, every amount through the one money
parser) and hands the rows on in blocks of columns. It vouches only for what it has checked:
at the first thing it is unsure of (a problem in any cell, a workbook, a ragged or odd line)
it raises :class:`NotClean`, and the importer reads the file again row by row, which names
every problem with its row and column. Both readers give the same rows for a clean file,
which the tests check on generated files.

The column-wise reader splits text itself rather than using :mod:`pyarrow.csv`, as the
person-level ingest does, because Arrow made the import no faster. Parsing with Arrow and
checking the columns there halved the reader's own CPU time, but the whole import's did not
fall (a million rows: the same on PostgreSQL, a tenth more on SQLite): the rows must still
become Python values to be posted, Arrow makes a new string for every cell where this
reader hands out one per distinct date and scheme (which the posting then hashes), and
:func:`pyarrow.array` imports pandas on first use. Arrow also reads quoting that tabular
refuses (``"ab"c``), so quoted files would still need the csv module.
"""

from __future__ import annotations

import csv
import datetime as dt
import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from carepool.domain.errors import ImportRejected, MoneyError
from carepool.domain.ledger import SpendColumns
from carepool.domain.money import MAX_PENCE, Pence, format_money, parse_money
from carepool.domain.periods import Period
from carepool.io.limits import MAX_CSV_ROWS, MAX_FILE_BYTES
from carepool.io.tabular import (
    ProblemLog,
    Row,
    date_field,
    ends_complete,
    money_field,
    parse_date,
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


def as_columns(lines: Sequence[SpendLine]) -> SpendColumns:
    """Rows from the row-by-row reader in the shape the store posts in bulk."""
    return SpendColumns(
        rows=[line.row for line in lines],
        days=[line.date.isoformat() for line in lines],
        schemes=[line.scheme for line in lines],
        providers=[line.provider for line in lines],
        amounts=[line.amount for line in lines],
        references=[line.reference for line in lines],
    )


# --------------------------------------------------------------------------------------------
# The column-wise reader for clean CSV files

BLOCK_CHARS = 4_000_000
"""Text read per block, about 70,000 rows: big enough that work per block is noise, small
enough that a block's cells never cost much memory. The first block is a sixteenth of
that, so the database can start on it while the rest are read (see
:mod:`carepool.io.read_ahead`)."""

_SNIFF_BYTES = 8192
_NOT_PLAIN_TEXT = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xff\xfe", b"\xfe\xff")
_COMMAS = operator.methodcaller("count", ",")


class NotClean(Exception):
    """The column-wise reader met something it does not vouch for; read row by row instead.

    This is not a user's error and carries no message for one: the row-by-row reader finds
    and locates whatever it was (or reads the file fine, if it was only unusual).
    """


def clean_blocks(path: Path, facts: PoolFacts) -> Iterator[SpendColumns]:
    """A plain CSV spend file's rows in blocks of columns, if every row is clean.

    Clean means what the row-by-row reader, :func:`check_against` and the within-file
    reference check would all accept. Raises :class:`NotClean` as soon as anything is not,
    possibly after some blocks were yielded, so the caller must be ready to throw them away.
    """
    text = _plain_text(path)
    if '"' in text or text.count("\r") != text.count("\r\n"):
        blocks = _csv_blocks(text)  # quoted fields or odd line ends: the csv module decides
    else:
        blocks = _split_blocks(text)
    header = next(blocks, None)
    if header is None:
        raise NotClean
    positions = _positions(header[1])
    seen: set[str] = set()
    for numbers, cells in blocks:
        if not all(map(str.strip, cells[positions[0]])):  # a blank date: maybe a blank row
            numbers, cells = _without_blank_rows(numbers, cells)
        if numbers:
            yield _checked(numbers, [cells[i] for i in positions], facts, seen)


def _plain_text(path: Path) -> str:
    """The file as text, if it is UTF-8 text without NULs; anything else is for tabular."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise NotClean  # the row-by-row reader refuses it, naming the limit
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        if head.startswith(_NOT_PLAIN_TEXT) or path.suffix.lower() in {".xlsx", ".xlsm"}:
            raise NotClean
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        raise NotClean from None
    if "\x00" in text or text.count("\n") >= MAX_CSV_ROWS:
        raise NotClean  # too many lines may still be fewer rows: the row-by-row reader decides
    if not ends_complete(text):
        raise NotClean  # maybe cut short mid-row: the row-by-row reader refuses the last row
    return text


_Block = tuple[Sequence[int], list[list[str]]]
"""Row numbers (as a spreadsheet shows them) and each column's cells, as text."""


def _split_blocks(text: str) -> Iterator[_Block]:
    """Records of a file with no quotes: lines split at commas, as the csv module would.

    The first block is the header alone. A line's cells are found for a whole block at once
    by splitting the block's text, which is what makes this reader fast.
    """
    end = text.find("\n")
    header = (text if end < 0 else text[:end]).removesuffix("\r").split(",")
    yield range(1, 2), [[cell] for cell in header]
    width, number, start = len(header), 2, len(text) if end < 0 else end + 1
    limit, crlf = csv.field_size_limit(), "\r" in text
    size = BLOCK_CHARS // 16
    while start < len(text):
        end = text.find("\n", start + size)
        size = BLOCK_CHARS
        end = len(text) if end < 0 else end + 1
        block = text[start:end].replace("\r\n", "\n") if crlf else text[start:end]
        lines = block.removesuffix("\n").split("\n")
        start = end
        if len(block) > limit and max(map(len, lines)) > limit:
            raise NotClean  # the csv module refuses a field this long; let it say so
        count = len(lines)
        if set(map(_COMMAS, lines)) == {width - 1}:
            numbers: Sequence[int] = range(number, number + count)
        else:
            numbers, lines = _without_blank_lines(lines, number, width)
        number += count
        yield numbers, _columns(",".join(lines).split(",") if lines else [], width)


def _without_blank_lines(lines: list[str], first: int, width: int) -> tuple[list[int], list[str]]:
    """Drop blank lines (a spreadsheet's empty rows); any other ragged line is not clean."""
    numbers, kept = [], []
    for number, line in enumerate(lines, first):
        if not line.replace(",", "").strip():
            continue
        if line.count(",") != width - 1:
            raise NotClean
        numbers.append(number)
        kept.append(line)
    return numbers, kept


def _without_blank_rows(numbers: Sequence[int], cells: list[list[str]]) -> _Block:
    """Leave out rows whose every cell is blank, as a spreadsheet's empty rows are."""
    kept = [
        (number, row)
        for number, row in zip(numbers, zip(*cells, strict=True), strict=True)
        if any(cell.strip() for cell in row)
    ]
    columns = [[row[i] for _, row in kept] for i in range(len(cells))]
    return [number for number, _ in kept], columns


def _csv_blocks(text: str) -> Iterator[_Block]:
    """Records as the csv module reads them (quotes, fields over several lines), in blocks.

    The first block is the header alone. Fed the same lines, the csv module reads the same
    records as :mod:`carepool.io.tabular` does, so the row numbers agree.
    """
    reader = csv.reader(_lines(text), strict=True)
    try:
        header = next(reader, [""])
        yield range(1, 2), [[cell] for cell in header]
        width, number = len(header), 2
        while records := list(islice(reader, max(1, BLOCK_CHARS // 64))):  # ~64 chars a row
            count = len(records)
            if set(map(len, records)) == {width}:
                numbers: Sequence[int] = range(number, number + count)
            else:
                numbers, records = _without_blank_records(records, number, width)
            number += count
            yield (
                numbers,
                [list(cells) for cells in zip(*records, strict=True)] or [[] for _ in range(width)],
            )
    except csv.Error:
        raise NotClean from None


def _lines(text: str) -> Iterator[str]:
    """The text's lines, each ending with its line break, as reading the file would give."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + BLOCK_CHARS)
        end = len(text) if end < 0 else end + 1
        lines = text[start:end].split("\n")
        start = end
        last = lines.pop()
        yield from (line + "\n" for line in lines)
        if last:
            yield last


def _without_blank_records(
    records: list[list[str]], first: int, width: int
) -> tuple[list[int], list[list[str]]]:
    numbers, kept = [], []
    for number, cells in enumerate(records, first):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != width:
            raise NotClean
        numbers.append(number)
        kept.append(cells)
    return numbers, kept


def _columns(cells: list[str], width: int) -> list[list[str]]:
    """Cells listed row after row, dealt into one list per column."""
    return [cells[i::width] for i in range(width)]


def _positions(header: list[list[str]]) -> list[int]:
    """Where each of :data:`COLUMNS` is; a header tabular would refuse is not clean."""
    names = [cells[0].strip() for cells in header]
    named = [name for name in names if name]
    if len(set(named)) != len(named) or not set(COLUMNS) <= set(named):
        raise NotClean
    return [names.index(name) for name in COLUMNS]


def _checked(
    numbers: Sequence[int], cells: list[list[str]], facts: PoolFacts, seen: set[str]
) -> SpendColumns:
    """One block's columns, each checked whole; the first fault anywhere is :class:`NotClean`."""
    days, schemes, providers, amounts, references = cells
    block = SpendColumns(
        rows=numbers,
        days=_days(days, facts),
        schemes=_schemes(schemes, facts),
        providers=_texts(providers, MAX_PROVIDER),
        amounts=_amounts(amounts),
        references=_texts(references, MAX_REFERENCE),
    )
    before = len(seen)
    seen.update(block.references)
    if len(seen) != before + len(block):
        raise NotClean  # a reference used twice in the file
    return block


def _days(cells: list[str], facts: PoolFacts) -> list[str]:
    """Each date as ISO text. A file has a few hundred distinct dates, each checked once."""
    iso = {}
    for text in set(cells):
        try:
            day = parse_date(text.strip())
        except ValueError:
            raise NotClean from None
        if not facts.span.contains(day) or any(p.contains(day) for p in facts.closed):
            raise NotClean
        iso[text] = day.isoformat()
    return list(map(iso.__getitem__, cells))


def _schemes(cells: list[str], facts: PoolFacts) -> list[str]:
    known = {text: text.strip() for text in set(cells)}
    if not set(known.values()) <= facts.schemes:
        raise NotClean
    return list(map(known.__getitem__, cells))


def _texts(cells: list[str], limit: int) -> list[str]:
    values = list(map(str.strip, cells))
    if not all(values) or max(map(len, values), default=0) > limit:
        raise NotClean
    return values


_PLAIN_AMOUNTS = re.compile(r"[0-9]{1,13}\.[0-9]{2}(?:\n[0-9]{1,13}\.[0-9]{2})*")
"""A column of amounts written the way finance systems export them: pounds, a point, pence."""


def _amounts(cells: list[str]) -> Sequence[int]:
    """Each amount in pence; each must move money.

    A column written wholly as ``pounds.pp`` (what finance systems export) is the digits
    read as one whole number of pence, with no room for doubt. Any other column goes cell by
    cell through :func:`~carepool.domain.money.parse_money`, the one reader of money; a
    Hypothesis test holds the two to the same answers.
    """
    joined = "\n".join(cells)
    amounts: Sequence[int] = []
    if _PLAIN_AMOUNTS.fullmatch(joined):
        amounts = list(map(int, joined.replace(".", "").split("\n")))
        if max(amounts) > MAX_PENCE:  # parse_money below says which is too large
            amounts = []
    if len(amounts) != len(cells):  # not plain, too large, or a cell had a line break in it
        try:
            amounts = list(map(parse_money, cells))
        except MoneyError:
            raise NotClean from None
    if min(amounts, default=1) <= 0:
        raise NotClean
    return amounts
