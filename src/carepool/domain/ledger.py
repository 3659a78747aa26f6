"""The pooled budget's double-entry ledger.

Each Section 75 pool keeps its own books. A journal entry is a set of postings to accounts
that sums to zero, to the penny, or it is refused. Entries are never edited: a mistake is
put right by a reversing entry that points at the original. Related entries (an instalment
due and its receipt; the postings of one settlement) share a correlation key, and every entry
records where it came from (plan version, import file and row, person), so any figure can be
traced to its source.

Accounts follow Beancount's five roots so the books export to Beancount unchanged:
``Assets`` (money held or owed to the pool), ``Liabilities`` (owed by the pool), ``Income``
(contributions and risk-share payments in), ``Expenses`` (spend by scheme) and ``Equity``
(balances carried). Debits are positive, credits negative, as in Beancount.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from carepool.domain.errors import CarepoolError, Problem
from carepool.domain.money import Pence, format_money
from carepool.domain.periods import Period

ROOTS = ("Assets", "Liabilities", "Income", "Expenses", "Equity")
_COMPONENT = re.compile(r"^[A-Z0-9][A-Za-z0-9-]*$")


class LedgerError(CarepoolError):
    """An entry or operation the ledger refuses; nothing was posted."""

    code = "ledger_refused"
    http_status = 422


def account(*parts: str) -> str:
    """An account name from parts, made safe for Beancount (``Expenses:Scheme:S1``)."""
    cleaned = [_component(p) for p in parts]
    name = ":".join(cleaned)
    check_account(name)
    return name


def _component(part: str) -> str:
    text = re.sub(r"[^A-Za-z0-9-]+", "-", part.strip()).strip("-")
    return (text[:1].upper() + text[1:]) if text else "X"


def check_account(name: str) -> None:
    parts = name.split(":")
    if parts[0] not in ROOTS or len(parts) < 2 or not all(_COMPONENT.match(p) for p in parts[1:]):
        raise LedgerError(
            f"{name!r} is not an account: it must start with one of {', '.join(ROOTS)} "
            "followed by ':'-separated parts of letters, digits and hyphens"
        )


class Accounts:
    """The accounts every pool uses, named in one place."""

    BANK = "Assets:Pool:Bank"

    @staticmethod
    def receivable(partner: str, stream: str) -> str:
        return account("Assets", "Receivable", partner, stream)

    @staticmethod
    def contribution(partner: str, stream: str) -> str:
        return account("Income", "Contribution", partner, stream)

    @staticmethod
    def scheme(ref: str) -> str:
        return account("Expenses", "Scheme", ref)

    @staticmethod
    def risk_share(partner: str) -> str:
        return account("Income", "RiskShare", partner)

    @staticmethod
    def risk_share_due(partner: str) -> str:
        return account("Assets", "Receivable", partner, "RiskShare")

    @staticmethod
    def refund_due(partner: str) -> str:
        return account("Liabilities", "Payable", partner, "RiskShare")

    PERFORMANCE_HELD = "Assets:Pool:PerformanceHeld"
    """The performance element, set aside from the pool's funds until a payment run says
    how much was earned."""

    PERFORMANCE_RETAINED = "Income:PerformanceRetained"

    @staticmethod
    def performance_retained(partner: str) -> str:
        """The part of the performance element not earned, which stays with the CCG."""
        return account("Income", "PerformanceRetained", partner)


@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    amount: Pence  # debit positive, credit negative
    memo: str = ""


class EntryKind(StrEnum):
    CONTRIBUTION_DUE = "contribution_due"
    RECEIPT = "receipt"
    SPEND = "spend"
    SETTLEMENT = "settlement"
    PERFORMANCE = "performance"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True, slots=True)
class Entry:
    """A balanced journal entry, with where it came from."""

    date: dt.date
    kind: EntryKind
    narration: str
    postings: tuple[Posting, ...]
    correlation: str
    source: Mapping[str, object] = field(default_factory=dict)
    reverses: int | None = None  # id of the entry this one reverses

    def total(self) -> int:
        return sum(p.amount for p in self.postings)


def entry_problems(entry: Entry, closed: Iterable[Period] = ()) -> list[Problem]:
    """Why an entry cannot be posted (empty when it can)."""
    problems: list[Problem] = []
    if len(entry.postings) < 2:
        problems.append(Problem("an entry needs at least two postings"))
    if entry.total() != 0:
        problems.append(
            Problem(
                f"postings sum to {format_money(entry.total())}, not £0.00: every debit needs "
                "an equal credit"
            )
        )
    for posting in entry.postings:
        try:
            check_account(posting.account)
        except LedgerError as exc:
            problems.append(Problem(exc.message))
        if isinstance(posting.amount, bool) or not isinstance(posting.amount, int):
            problems.append(Problem(f"{posting.account}: amounts are whole pence"))
    problems.extend(
        Problem(f"{entry.date.isoformat()} falls in {period.label}, which is closed")
        for period in closed
        if period.contains(entry.date)
    )
    if not entry.correlation.strip():
        problems.append(Problem("an entry needs a correlation key"))
    return problems


def require_postable(entry: Entry, closed: Iterable[Period] = ()) -> None:
    problems = entry_problems(entry, closed)
    if problems:
        raise LedgerError(f"entry {entry.narration!r} refused", problems)


def reversal(entry: Entry, entry_id: int, on: dt.date, reason: str) -> Entry:
    """The entry that cancels ``entry``: same accounts, opposite amounts, pointing back."""
    return Entry(
        date=on,
        kind=EntryKind.REVERSAL,
        narration=f"Reversal of entry {entry_id}: {reason}",
        postings=tuple(Posting(p.account, Pence(-p.amount), p.memo) for p in entry.postings),
        correlation=entry.correlation,
        source={"reverses": entry_id, "reason": reason},
        reverses=entry_id,
    )


def balances(entries: Iterable[Entry], until: dt.date | None = None) -> dict[str, Pence]:
    """Each account's balance from the entries (dated on or before ``until``)."""
    totals: dict[str, int] = defaultdict(int)
    for entry in entries:
        if until is None or entry.date <= until:
            for posting in entry.postings:
                totals[posting.account] += posting.amount
    return {name: Pence(amount) for name, amount in sorted(totals.items()) if amount}


def root_total(balance: Mapping[str, int], root: str, prefix: str = "") -> int:
    start = f"{root}:{prefix}" if prefix else f"{root}:"
    return sum(amount for name, amount in balance.items() if name.startswith(start))


def outturn_variance(balance: Mapping[str, int]) -> int:
    """Spend minus contributions: positive is an overspend the partners must share."""
    income = -root_total(balance, "Income", "Contribution")
    spend = root_total(balance, "Expenses", "Scheme")
    return spend - income


@dataclass(frozen=True, slots=True)
class SpendColumns:
    """Checked spend rows held column by column, ready to post in bulk.

    A year's spend file can have a million rows. One Python object per row would cost more
    than the database spends storing it, so the importer hands the store one list per field.
    Each row becomes one ``spend`` entry of two postings (the scheme's expenses debited, the
    bank credited) keyed by its reference. Dates are ISO text and amounts are whole pence
    above zero. ``rows`` holds the row numbers a person sees in the file, and every list is
    as long as ``rows``.
    """

    rows: Sequence[int]
    days: Sequence[str]
    schemes: Sequence[str]
    providers: Sequence[str]
    amounts: Sequence[int]
    references: Sequence[str]

    def __post_init__(self) -> None:
        fields = (self.days, self.schemes, self.providers, self.amounts, self.references)
        if any(len(values) != len(self.rows) for values in fields):
            raise ValueError("every spend column must have one value per row")

    def __len__(self) -> int:
        return len(self.rows)

    def totals(self) -> dict[str, int]:
        """Pence spent per scheme: each scheme account's move, and the bank's (negated)."""
        totals: dict[str, int] = defaultdict(int)
        for scheme, amount in zip(self.schemes, self.amounts, strict=True):
            totals[scheme] += amount
        return dict(totals)


def split_entry(
    on: dt.date,
    kind: EntryKind,
    narration: str,
    debits: Sequence[tuple[str, int]],
    credit_account: str,
    correlation: str,
    source: Mapping[str, object],
) -> Entry:
    """An entry of several debits balanced by one credit (or the reverse, for negatives)."""
    postings = [Posting(name, Pence(amount)) for name, amount in debits if amount]
    postings.append(Posting(credit_account, Pence(-sum(a for _, a in debits))))
    return Entry(on, kind, narration, tuple(postings), correlation, dict(source))


class Light(StrEnum):
    """How far a forecast outturn is from budget, as budget monitoring reports show it."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


GREEN_WITHIN = Fraction(2, 100)
AMBER_WITHIN = Fraction(5, 100)


def traffic_light(budget: int, forecast: int) -> Light:
    """Green within 2% of budget, amber within 5%, red beyond (exact, no rounding)."""
    difference = abs(forecast - budget)
    if budget == 0:
        return Light.GREEN if difference == 0 else Light.RED
    ratio = Fraction(difference, abs(budget))
    if ratio <= GREEN_WITHIN:
        return Light.GREEN
    return Light.AMBER if ratio <= AMBER_WITHIN else Light.RED


def run_rate(actual: int, elapsed: Fraction) -> Pence:
    """The year's outturn if spending carries on as so far: actual ÷ months elapsed × 12,
    rounded half up to the penny."""
    if elapsed <= 0:
        return Pence(actual)
    exact = Fraction(actual) * 12 / elapsed
    return Pence(int(exact + Fraction(1, 2)) if exact >= 0 else -int(-exact + Fraction(1, 2)))
