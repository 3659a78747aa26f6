"""Writing a pool's books out: as Beancount text, and as CSV for spreadsheets.

The Beancount file lets an auditor check carepool's arithmetic with an independent tool:
every entry is a transaction with its correlation key, kind and source as metadata, and a
``balance`` assertion per account (dated the day after the last entry, because Beancount
checks a balance at the *start* of its day) states carepool's own running balance, so
``bean-check`` fails if carepool's balances and the postings ever disagree. The assertions
carry an explicit tolerance of zero (``~ 0.00``): Beancount would otherwise infer half a
penny either side from the two decimal places, and let a one-penny difference through.

Amounts are written from whole pence by integer arithmetic (``12345`` → ``123.45 GBP``);
no float is involved at any point.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TextIO

from carepool.domain.ledger import Entry
from carepool.io.spreadsheet_text import csv_writer

CURRENCY = "GBP"


@dataclass(frozen=True, slots=True)
class LedgerBook:
    """Everything an export needs: the pool's name and dates, its accounts, balances and entries.

    ``entries`` may be a stream read from the database as it is written out: a year's books
    can hold a million entries, and the writers below never hold more than one at a time.
    Everything a writer needs before the first entry (accounts, dates) is given apart.
    """

    title: str
    opened: dt.date  # the pool's first day
    entries: Iterable[tuple[int, Entry]]  # (entry id, entry), in date order
    balances: Mapping[str, int]  # carepool's running balances, pence
    accounts: Collection[str] = ()  # every account any posting names
    first: dt.date | None = None  # the earliest and latest entry dates, if any
    last: dt.date | None = None


def decimal_text(amount: int) -> str:
    """Pence as an exact decimal number of pounds: ``-12345`` → ``-123.45``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def _quoted(text: str) -> str:
    cleaned = " ".join(text.split())
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _source_text(source: Mapping[str, object]) -> str:
    return json.dumps(dict(source), sort_keys=True, ensure_ascii=False, default=str)


def accounts_of(book: LedgerBook) -> list[str]:
    return sorted(set(book.accounts) | set(book.balances))


def assertion_date(book: LedgerBook) -> dt.date:
    """The day after the last entry: Beancount asserts balances at the start of a day."""
    return (book.last or book.opened) + dt.timedelta(days=1)


def beancount_text(book: LedgerBook) -> str:
    """The whole ledger as a Beancount file that ``bean-check`` accepts."""
    out = io.StringIO()
    write_beancount(book, out)
    return out.getvalue()


def write_beancount(book: LedgerBook, out: TextIO) -> None:
    """Write the ledger as Beancount text, one entry at a time."""
    opened = min(book.opened, book.first or book.opened)
    names = accounts_of(book)
    header = [
        f"; {book.title}",
        "; Written by carepool. Amounts in pounds; every figure traces to carepool's entry id.",
        f'option "title" {_quoted(book.title)}',
        f'option "operating_currency" "{CURRENCY}"',
        "",
        f"{opened.isoformat()} commodity {CURRENCY}",
        "",
        *(f"{opened.isoformat()} open {name} {CURRENCY}" for name in names),
        "",
    ]
    out.write("\n".join(header) + "\n")
    for entry_id, entry in book.entries:
        out.write("\n".join(_transaction(entry_id, entry)) + "\n\n")
    on = assertion_date(book).isoformat()
    for name in names:
        total = _subtree_total(book.balances, name)
        out.write(f"{on} balance {name} {decimal_text(total)} ~ 0.00 {CURRENCY}\n")


def _subtree_total(balances: Mapping[str, int], name: str) -> int:
    """Beancount asserts a parent account's balance including its children's."""
    return sum(v for k, v in balances.items() if k == name or k.startswith(name + ":"))


def _transaction(entry_id: int, entry: Entry) -> list[str]:
    lines = [
        f"{entry.date.isoformat()} * {_quoted(entry.narration)}",
        f"  entry-id: {entry_id}",
        f"  kind: {_quoted(entry.kind.value)}",
        f"  correlation: {_quoted(entry.correlation)}",
        f"  source: {_quoted(_source_text(entry.source))}",
    ]
    if entry.reverses is not None:
        lines.append(f"  reverses: {entry.reverses}")
    for posting in entry.postings:
        lines.append(f"  {posting.account}  {decimal_text(posting.amount)} {CURRENCY}")
        if posting.memo:
            lines.append(f"    memo: {_quoted(posting.memo)}")
    return lines


POSTING_COLUMNS = (
    "entry_id",
    "date",
    "kind",
    "narration",
    "correlation",
    "reverses",
    "account",
    "amount",
    "amount_pence",
    "memo",
    "source",
)


def postings_csv(book: LedgerBook) -> str:
    """One row per posting, with its entry's details repeated, for a spreadsheet."""
    buffer = io.StringIO(newline="")
    write_postings_csv(book, buffer)
    return buffer.getvalue()


def write_postings_csv(book: LedgerBook, out: TextIO) -> None:
    """Write the postings CSV, one entry at a time."""
    writer = csv_writer(out)
    writer.writerow(POSTING_COLUMNS)
    for entry_id, entry in book.entries:
        for posting in entry.postings:
            writer.writerow(
                [
                    entry_id,
                    entry.date.isoformat(),
                    entry.kind.value,
                    entry.narration,
                    entry.correlation,
                    "" if entry.reverses is None else entry.reverses,
                    posting.account,
                    decimal_text(posting.amount),
                    posting.amount,
                    posting.memo,
                    _source_text(entry.source),
                ]
            )


def balances_csv(book: LedgerBook) -> str:
    """Each account's balance, in pounds and in pence."""
    buffer = io.StringIO(newline="")
    write_balances_csv(book, buffer)
    return buffer.getvalue()


def write_balances_csv(book: LedgerBook, out: TextIO) -> None:
    writer = csv_writer(out)
    writer.writerow(("account", "balance", "balance_pence"))
    for name in accounts_of(book):
        amount = book.balances.get(name, 0)
        writer.writerow((name, decimal_text(amount), amount))
