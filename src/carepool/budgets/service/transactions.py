"""Importing budgets' transactions and posting them to the pools' sub-ledgers.

A transactions file is one unit of work: its lines are checked as they are read and
inserted a block at a time inside a savepoint, and if any line has a problem the savepoint
is rolled back and the file refused with every problem named by row and column. A file seen
before (the same SHA-256) is refused, never imported twice.

**Why the sub-ledger is posted per budget per quarter, not per line.** A national year is
millions of lines; an entry per line would make the pools' books ten times the size of the
budgets' own records and the import ten times slower. Each budget's lines in the file are
summed per part (NHS or council), kind (spend or recovery) and quarter, and posted as one
entry whose amount is that exact integer sum, dated on its last line's day and keyed
``pb:<budget>:<quarter>``. Sums of integers are exact, so the pool's personal-budget
accounts equal the budgets' transactions to the penny at every quarter end, and any entry
is traced to its lines by file (``source.import``), budget, part and quarter. Each line is
checked against the pool's closed periods before summing, so no line slips into a closed
month inside an open quarter.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.budgets import repository as repo
from carepool.budgets.files.transactions import BudgetCheck, as_rows, read_blocks
from carepool.budgets.service.budgets import require_manage, sub_ledger_poster
from carepool.domain.errors import ImportRejected, Problem
from carepool.domain.ledger import Accounts, Entry, EntryKind, Posting
from carepool.domain.money import Pence
from carepool.domain.periods import Period, quarter_label
from carepool.domain.personal_budget import BudgetAccounts, Part
from carepool.domain.roles import Principal
from carepool.io.tabular import ProblemLog, file_sha256
from carepool.pools.service import ledger
from carepool.pools.service.ledger import PoolRow
from carepool.store.db import savepoint


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class TransactionImport:
    """What a transactions import did."""

    file_name: str
    sha256: str
    rows: int
    spend_pence: int
    recovered_pence: int
    entries: int

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file_name,
            "sha256": self.sha256,
            "rows": self.rows,
            "spend_pence": self.spend_pence,
            "recovered_pence": self.recovered_pence,
            "entries": self.entries,
        }


Key = tuple[int, str, bool, str]
"""budget id, part, is a recovery, quarter label"""


@dataclass(slots=True)
class _Sum:
    pence: int = 0
    lines: int = 0
    last: dt.date = dt.date.min


def import_transactions(session: Session, path: Path, actor: Principal) -> TransactionImport:
    """Import a transactions file and post it to the sub-ledgers, all or nothing."""
    digest = file_sha256(path)
    seen = repo.find_import(session, digest)
    if seen is not None:
        raise ImportRejected.from_problems(
            path.name,
            [
                Problem(
                    f"this file was already imported (as {seen.file_name!r} on "
                    f"{seen.imported_at:%Y-%m-%d}); a file is imported once",
                    path.name,
                )
            ],
        )
    keys = repo.budget_keys(session)
    pools = {pool.id: pool for pool in ledger.pools(session)}
    closed = ledger.closed_periods_of(session, list(pools.values()))
    checks: dict[str, BudgetCheck] = {}
    touched_areas: set[str] = set()

    def budget(reference: str) -> BudgetCheck | None:
        found = checks.get(reference)
        if found is None:
            key = keys.get(reference)
            if key is None:
                return None
            found = checks[reference] = _check_of(key, closed.get(key.pool_id, []))
            touched_areas.add(key.area_code)
        return found

    log = ProblemLog(path.name)
    repo.begin_writing(session)
    with savepoint(session):
        row = repo.add_import(session, digest, path.name, actor.username, _now())
        sums, rows = _insert_blocks(session, path, budget, log, row.id)
        for area in sorted(touched_areas):
            require_manage(actor, area)
        log.raise_if_any()
        if not rows:
            raise ImportRejected.from_problems(
                path.name, [Problem("the file has no transactions", path.name)]
            )
        by_id = {key.id: key for key in keys.values()}
        entries = _post(session, sums, by_id, pools, actor, row.id)
        spend = sum(s.pence for k, s in sums.items() if not k[2])
        recovered = sum(s.pence for k, s in sums.items() if k[2])
        repo.finish_import(session, row, rows, spend, recovered, entries)
        repo.add_spend(session, _spend_by_budget(sums))
    outcome = TransactionImport(path.name, digest, rows, spend, recovered, entries)
    _audit(session, pools, sums, by_id, actor, outcome)
    return outcome


def _spend_by_budget(sums: dict[Key, _Sum]) -> dict[int, int]:
    spent: dict[int, int] = defaultdict(int)
    for (budget_id, _, recovery, _), total in sums.items():
        if not recovery:
            spent[budget_id] += total.pence
    return dict(spent)


def _check_of(key: repo.BudgetKey, closed: Sequence[Period]) -> BudgetCheck:
    parts = frozenset(
        part
        for part, pence in (
            (Part.NHS.value, key.nhs_pence),
            (Part.COUNCIL.value, key.council_pence),
        )
        if pence
    )
    direct = frozenset(
        part
        for part, holding in (
            (Part.NHS.value, key.nhs_holding),
            (Part.COUNCIL.value, key.council_holding),
        )
        if holding == "direct_payment"
    )
    return BudgetCheck(key.id, key.starts, key.ends, parts, direct, tuple(closed))


def _insert_blocks(
    session: Session,
    path: Path,
    budget: Callable[[str], BudgetCheck | None],
    log: ProblemLog,
    import_id: int,
) -> tuple[dict[Key, _Sum], int]:
    """Insert the file's good rows a block at a time, summing them per budget and quarter.

    Once a problem is found nothing more is inserted (the file will be refused), but every
    row is still read, so every problem is reported.
    """
    sums: dict[Key, _Sum] = {}
    rows = 0
    quarters: dict[tuple[int, int], str] = {}
    for block in read_blocks(path, budget, log):
        rows += len(block)
        if not len(log):
            repo.add_transactions(session, as_rows(block, import_id))
        for budget_id, _, day, kind, part, amount, _ in block:
            label = quarters.get((day.year, day.month))
            if label is None:
                label = quarters[(day.year, day.month)] = quarter_label(day)
            key = (budget_id, part, kind == "recovery", label)
            total = sums.get(key)
            if total is None:
                total = sums[key] = _Sum()
            total.pence += amount
            total.lines += 1
            if day > total.last:
                total.last = day
    return sums, rows


def _post(
    session: Session,
    sums: dict[Key, _Sum],
    by_id: dict[int, repo.BudgetKey],
    pools: dict[int, PoolRow],
    actor: Principal,
    import_id: int,
) -> int:
    batches: dict[int, list[Entry]] = defaultdict(list)
    for key, total in sums.items():
        budget = by_id[key[0]]
        batches[budget.pool_id].append(
            sub_ledger_entry(budget.reference, key, total.pence, total.lines, total.last, import_id)
        )
    poster = sub_ledger_poster(actor, [pools[p].area_code for p in batches])
    ledger.post_across(session, [(pools[p], entries) for p, entries in batches.items()], poster)
    return sum(len(entries) for entries in batches.values())


def sub_ledger_entry(
    reference: str, key: Key, pence: int, lines: int, last: dt.date, import_id: int
) -> Entry:
    """One budget's lines of one part, kind and quarter in a file, as one exact entry."""
    _, part_text, recovery, label = key
    part = Part(part_text)
    held = BudgetAccounts.allocated(part)
    if recovery:
        postings = (Posting(Accounts.BANK, Pence(pence)), Posting(held, Pence(-pence)))
        what = "recovered"
    else:
        postings = (Posting(BudgetAccounts.spend(part), Pence(pence)), Posting(held, Pence(-pence)))
        what = "spend"
    return Entry(
        date=last,
        kind=EntryKind.RECEIPT if recovery else EntryKind.SPEND,
        narration=f"Personal budget {reference}: {part.value} {what}, {lines} line(s), {label}",
        postings=postings,
        correlation=f"pb:{reference}:{label}",
        source={
            "budget_transactions_import": import_id,
            "budget": reference,
            "part": part.value,
            "quarter": label,
            "lines": lines,
        },
    )


def _audit(
    session: Session,
    pools: dict[int, PoolRow],
    sums: dict[Key, _Sum],
    by_id: dict[int, repo.BudgetKey],
    actor: Principal,
    outcome: TransactionImport,
) -> None:
    """One event per pool posted to, naming the file by its SHA-256 (which covers every line)."""
    per_pool: dict[int, int] = defaultdict(int)
    for key, total in sums.items():
        per_pool[by_id[key[0]].pool_id] += total.pence if not key[2] else 0
    ledger.record_for_pools(
        session,
        [
            (pools[p], {**outcome.as_dict(), "pool_spend_pence": spend})
            for p, spend in sorted(per_pool.items())
        ],
        actor=actor.username,
        action="import_budget_transactions",
    )
