"""The budget transactions file, read as a stream of checked blocks.

Columns (see docs/formats.md): ``budget`` (the budget's reference), ``date``, ``kind``
(``direct_payment_return``, ``provider_invoice``, ``card_statement`` or ``recovery``),
``part`` (``nhs`` or ``council``), ``amount`` (pounds, more than £0.00) and ``reference`` (the
return, invoice or statement line, optional). A CSV is read a block at a time, so a file of
millions of lines never sits in memory; a workbook's first sheet is streamed by openpyxl.

Each row is checked against what is known of its budget (:class:`BudgetCheck`): a budget
that does not exist, a date outside the budget's dates or in a closed period of its pool, a
part the budget has no share of, or a recovery from a part not paid as a direct payment is a
problem named by row and column, and so is money that is negative, zero, not a number or
finer than a penny.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from carepool.domain.errors import MoneyError
from carepool.domain.money import parse_money
from carepool.domain.periods import Period
from carepool.domain.personal_budget import Part, TransactionKind
from carepool.io.tabular import ProblemLog, parse_date

TRANSACTION_COLUMNS = ("budget", "date", "kind", "part", "amount", "reference")
REQUIRED_COLUMNS = TRANSACTION_COLUMNS[:5]
BLOCK_ROWS = 50_000

_PLAIN_MONEY = re.compile(r"^[0-9]{1,10}(?:\.[0-9]{1,2})?$")
_KINDS = {kind.value: kind for kind in TransactionKind}
_PARTS = {part.value: part for part in Part}


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    """What a row is checked against: its budget's id, dates, parts and pool's closed periods."""

    id: int
    starts: dt.date
    ends: dt.date
    parts: frozenset[str]
    direct_payment_parts: frozenset[str]
    closed: tuple[Period, ...]


Line = tuple[int, int, dt.date, str, str, int, str]
"""A checked line: budget id, row number, date, kind, part, pence and reference."""


class Block(list[Line]):
    """Checked lines, a block at a time, ready for one bulk insert."""


def amount_pence(text: str) -> int:
    """Pence from an amount, the common plain form read without a regex of money's many forms."""
    if _PLAIN_MONEY.match(text):
        whole, _, fraction = text.partition(".")
        return int(whole) * 100 + int(fraction.ljust(2, "0"))
    return parse_money(text)


def read_blocks(
    path: Path, budgets: Callable[[str], BudgetCheck | None], log: ProblemLog
) -> Iterator[Block]:
    """Yield blocks of the file's good rows; every problem goes to ``log`` with row and column.

    Most rows are written plainly (an ISO date, lower-case names, pounds with at most two
    decimals) and are checked by the fast way, with each distinct date read once; any row
    the fast way does not vouch for is checked again by :func:`_check_row`, which strips,
    reads every form and says what is wrong.
    """
    records = _records(path, log)
    header = next(records, None)
    if header is None:
        log.add("the file is empty: it needs a header row and at least one transaction")
        return
    names = [cell.strip().lower() for cell in header[1]]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        log.add(f"the header has no column {', '.join(missing)}", row=header[0])
        return
    where = [names.index(c) if c in names else -1 for c in TRANSACTION_COLUMNS]
    fast = _FastCheck(where, budgets)
    block = Block()
    for number, cells in records:
        line = fast.line(number, cells)
        if line is not None:
            block.append(line)
        else:
            _check_row(number, cells, where, budgets, log, block)
        if len(block) >= BLOCK_ROWS:
            yield block
            block = Block()
    if block:
        yield block


class _FastCheck:
    """The plain row's check: a :data:`Line` if the row is certainly good, else ``None``."""

    def __init__(self, where: Sequence[int], budgets: Callable[[str], BudgetCheck | None]) -> None:
        self.at = tuple(where)
        self.width = max(where) + 1
        self.budgets = budgets
        self.days: dict[str, dt.date | None] = {}

    def line(self, number: int, cells: Sequence[str]) -> Line | None:
        if len(cells) < self.width:
            return None
        at_budget, at_date, at_kind, at_part, at_amount, at_reference = self.at
        budget = self.budgets(cells[at_budget])
        text = cells[at_date]
        day = self.days.get(text, dt.date.min)
        if day == dt.date.min:
            day = self.days[text] = _iso_day(text)
        if budget is None or day is None or not budget.starts <= day <= budget.ends:
            return None
        kind, part, written = cells[at_kind], cells[at_part], cells[at_amount]
        if part not in budget.parts or not _PLAIN_MONEY.match(written):
            return None
        if kind not in _SPEND_KINDS and not (
            kind == "recovery" and part in budget.direct_payment_parts
        ):
            return None
        if budget.closed and any(period.contains(day) for period in budget.closed):
            return None
        whole, _, fraction = written.partition(".")
        amount = int(whole) * 100 + int(fraction.ljust(2, "0"))
        if amount <= 0:
            return None
        reference = cells[at_reference][:100] if at_reference >= 0 else ""
        return (budget.id, number, day, kind, part, amount, reference)


_SPEND_KINDS = frozenset(kind.value for kind in TransactionKind if kind.is_spend)


def _iso_day(text: str) -> dt.date | None:
    if len(text) != 10 or text[4] != "-":
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _records(path: Path, log: ProblemLog) -> Iterator[tuple[int, Sequence[str]]]:
    with path.open("rb") as handle:
        workbook = handle.read(4) == b"PK\x03\x04"
    if workbook:
        yield from _workbook_records(path)
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            for number, cells in enumerate(csv.reader(handle), start=1):
                if cells and (cells[0].strip() or any(cell.strip() for cell in cells)):
                    yield number, cells
        except (UnicodeDecodeError, csv.Error) as exc:
            log.add(f"the file cannot be read as UTF-8 CSV ({exc})")


def _workbook_records(path: Path) -> Iterator[tuple[int, Sequence[str]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(value) for value in values]
            if any(cell.strip() for cell in cells):
                yield number, cells
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_row(
    number: int,
    cells: Sequence[str],
    where: Sequence[int],
    budgets: Callable[[str], BudgetCheck | None],
    log: ProblemLog,
    block: Block,
) -> None:
    def cell(index: int) -> str:
        at = where[index]
        return cells[at].strip() if 0 <= at < len(cells) else ""

    before = len(log)
    reference = cell(0)
    budget = budgets(reference) if reference else None
    if budget is None:
        message = f"there is no budget {reference!r}" if reference else "the budget is blank"
        log.add(message, row=number, column="budget")
    day = _day(cell(1), number, log)
    kind = _KINDS.get(cell(2).lower())
    if kind is None:
        log.add(f"{cell(2)!r} is not one of {', '.join(_KINDS)}", row=number, column="kind")
    part = cell(3).lower()
    if part not in _PARTS:
        log.add(f"{cell(3)!r} is not one of nhs, council", row=number, column="part")
    amount = _amount(cell(4), number, log)
    if budget is not None and len(log) == before:
        assert day is not None and kind is not None and amount is not None
        _check_against(budget, reference, day, kind, part, number, log)
    if len(log) > before:
        return
    assert budget is not None and day is not None and kind is not None and amount is not None
    block.append((budget.id, number, day, kind.value, part, amount, cell(5)[:100]))


def _day(text: str, number: int, log: ProblemLog) -> dt.date | None:
    try:
        return (
            dt.date.fromisoformat(text) if len(text) == 10 and text[4] == "-" else parse_date(text)
        )
    except ValueError as exc:
        log.add(str(exc) if text else "the date is blank", row=number, column="date")
        return None


def _amount(text: str, number: int, log: ProblemLog) -> int | None:
    try:
        amount = amount_pence(text)
    except MoneyError as exc:
        log.add(exc.message if text else "the amount is blank", row=number, column="amount")
        return None
    if amount <= 0:
        log.add(f"{text!r}: an amount must be more than £0.00", row=number, column="amount")
        return None
    return amount


def _check_against(
    budget: BudgetCheck,
    reference: str,
    day: dt.date,
    kind: TransactionKind,
    part: str,
    number: int,
    log: ProblemLog,
) -> None:
    if not budget.starts <= day <= budget.ends:
        log.add(
            f"{day.isoformat()} is outside budget {reference!r}, which runs from "
            f"{budget.starts.isoformat()} to {budget.ends.isoformat()}",
            row=number,
            column="date",
        )
    for period in budget.closed:
        if period.contains(day):
            log.add(
                f"{day.isoformat()} falls in {period.label}, which is closed in the pool's books",
                row=number,
                column="date",
            )
    if part not in budget.parts:
        log.add(f"budget {reference!r} has no {part} share", row=number, column="part")
    elif kind is TransactionKind.RECOVERY and part not in budget.direct_payment_parts:
        log.add(
            f"only direct-payment money is recovered, and budget {reference!r} does not pay its "
            f"{part} share as a direct payment",
            row=number,
            column="kind",
        )


def as_rows(block: Block, import_id: int) -> list[tuple[object, ...]]:
    """The block as ``budget_transaction`` rows: the import's id, then a :data:`Line`."""
    return [(import_id, *line) for line in block]
