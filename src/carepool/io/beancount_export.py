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

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from carepool.domain.ledger import Entry

CURRENCY = "GBP"


@dataclass(frozen=True, slots=True)
class LedgerBook:
    """Everything an export needs: the pool's name and start, its entries and balances."""

    title: str
    opened: dt.date
    entries: Sequence[tuple[int, Entry]]  # (entry id, entry), in date order
    balances: Mapping[str, int]  # carepool's running balances, pence


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
    named = {p.account for _, entry in book.entries for p in entry.postings}
    return sorted(named | set(book.balances))


def assertion_date(book: LedgerBook) -> dt.date:
    """The day after the last entry: Beancount asserts balances at the start of a day."""
    last = max((entry.date for _, entry in book.entries), default=book.opened)
    return last + dt.timedelta(days=1)


def beancount_text(book: LedgerBook) -> str:
    """The whole ledger as a Beancount file that ``bean-check`` accepts."""
    opened = min([book.opened, *(entry.date for _, entry in book.entries)])
    names = accounts_of(book)
    lines = [
        f"; {book.title}",
        "; Written by carepool. Amounts in pounds; every figure traces to carepool's entry id.",
        f'option "title" {_quoted(book.title)}',
        f'option "operating_currency" "{CURRENCY}"',
        "",
        f"{opened.isoformat()} commodity {CURRENCY}",
        "",
    ]
    lines += [f"{opened.isoformat()} open {name} {CURRENCY}" for name in names]
    lines.append("")
    for entry_id, entry in book.entries:
        lines += _transaction(entry_id, entry)
        lines.append("")
    on = assertion_date(book).isoformat()
    for name in names:
        total = _subtree_total(book.balances, name)
        lines.append(f"{on} balance {name} {decimal_text(total)} ~ 0.00 {CURRENCY}")
    return "\n".join(lines) + "\n"


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
    writer = csv.writer(buffer, lineterminator="\n")
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
    return buffer.getvalue()


def balances_csv(book: LedgerBook) -> str:
    """Each account's balance, in pounds and in pence."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("account", "balance", "balance_pence"))
    for name in accounts_of(book):
        amount = book.balances.get(name, 0)
        writer.writerow((name, decimal_text(amount), amount))
    return buffer.getvalue()
