"""All database access for the pooled-budget ledger.

Entries are written in bulk with their postings, and each account's running balance is
moved by the same transaction, so a balance is never read by re-summing postings and can
never disagree with them unless something outside carepool edits the tables (which
:func:`posting_totals` lets ``carepool ledger check`` detect). On PostgreSQL the pool's row is
locked first, so two people posting to one pool at once are put in a queue rather than both
reading the same balance; SQLite serialises writers on its own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import JSON, Connection, Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from carepool.domain.ledger import Entry, EntryKind, Period, Posting
from carepool.domain.money import Pence
from carepool.store.models import (
    AccountBalanceRow,
    ClosedPeriodRow,
    CouncilSpendRow,
    ForecastRow,
    LedgerEntryRow,
    LedgerPostingRow,
    PlanRow,
    PoolRow,
    SpendImportRow,
    SpendLineRow,
)

# Bulk writes go straight to the tables (SQLAlchemy Core): the ORM's per-row bookkeeping
# would cost more than the database does for a large import.
_ENTRIES = cast(Table, LedgerEntryRow.__table__)
_POSTINGS = cast(Table, LedgerPostingRow.__table__)
_BALANCES = cast(Table, AccountBalanceRow.__table__)

_CHUNK = 2000
"""Values per ``IN (…)`` list: well inside SQLite's and PostgreSQL's parameter limits."""


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as stored: its id, the entry itself, and who posted it when."""

    id: int
    entry: Entry
    created_by: str
    created_at: dt.datetime


# --------------------------------------------------------------------------------------------
# Pools


def find_pool(session: Session, year: str, area_code: str) -> PoolRow | None:
    return session.scalars(select(PoolRow).filter_by(year=year, area_code=area_code)).first()


def all_pools(session: Session, year: str | None = None) -> list[PoolRow]:
    query = select(PoolRow).order_by(PoolRow.year, PoolRow.area_code)
    if year is not None:
        query = query.filter_by(year=year)
    return list(session.scalars(query))


def approved_plan_areas(session: Session, year: str, status: str) -> list[str]:
    """Areas whose plan for the year has the given status, in code order."""
    query = (
        select(PlanRow.area_code).filter_by(year=year, status=status).order_by(PlanRow.area_code)
    )
    return list(session.scalars(query))


def lock_pool(session: Session, pool: PoolRow) -> None:
    """Queue writers to one pool behind each other (PostgreSQL row lock until commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(PoolRow.id).where(PoolRow.id == pool.id).with_for_update())


# --------------------------------------------------------------------------------------------
# Entries, postings and balances


def add_entries(
    session: Session, pool_id: int, entries: Sequence[Entry], actor: str, at: dt.datetime
) -> list[int]:
    """Insert entries with their postings and move the running balances; returns the ids.

    The caller has checked every entry (balanced, valid accounts, open periods) and locked
    the pool. Rows go in as a few bulk statements (on PostgreSQL, ``COPY``), so importing
    thousands of spend rows costs a handful of round trips rather than thousands.
    """
    if not entries:
        return []
    session.flush()
    connection = session.connection()
    entry_rows = [_entry_values(pool_id, entry, actor, at) for entry in entries]
    ids = _insert_entries(connection, entry_rows)
    postings = [
        {"entry_id": entry_id, "account": p.account, "amount_pence": p.amount, "memo": p.memo}
        for entry_id, entry in zip(ids, entries, strict=True)
        for p in entry.postings
    ]
    bulk_insert(connection, _POSTINGS, postings)
    deltas: dict[str, int] = defaultdict(int)
    for entry in entries:
        for posting in entry.postings:
            deltas[posting.account] += posting.amount
    _move_balances(session, pool_id, deltas)
    return ids


def _insert_entries(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert entry rows and return their ids in the same order."""
    if connection.dialect.name != "postgresql":
        returning = insert(_ENTRIES).returning(_ENTRIES.c.id, sort_by_parameter_order=True)
        return list(connection.execute(returning, rows).scalars())
    # Take the ids from the sequence first, then COPY the rows in with them: concurrent
    # writers to other pools can never be handed the same id.
    reserve = text(
        "SELECT nextval(pg_get_serial_sequence('ledger_entry', 'id')) "
        "FROM generate_series(1, :count)"
    )
    ids = sorted(connection.execute(reserve, {"count": len(rows)}).scalars())
    bulk_insert(connection, _ENTRIES, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def bulk_insert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows: PostgreSQL's ``COPY`` (tens of times faster than ``INSERT`` there),
    otherwise one ``executemany``. Rows must all have the same keys."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    driver = connection.connection.driver_connection
    assert driver is not None
    names = ", ".join(columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in json_columns else row[c] for c in columns])


def _entry_values(pool_id: int, entry: Entry, actor: str, at: dt.datetime) -> dict[str, Any]:
    return {
        "pool_id": pool_id,
        "date": entry.date,
        "kind": entry.kind.value,
        "narration": entry.narration[:500],
        "correlation": entry.correlation,
        "source": dict(entry.source),
        "reverses_id": entry.reverses,
        "created_by": actor,
        "created_at": at,
    }


def _move_balances(session: Session, pool_id: int, deltas: dict[str, int]) -> None:
    existing = dict(
        session.execute(
            select(AccountBalanceRow.account, AccountBalanceRow.id).where(
                AccountBalanceRow.pool_id == pool_id
            )
        ).all()
    )
    changes = [
        {"row_id": existing[name], "delta": amount}
        for name, amount in deltas.items()
        if name in existing and amount
    ]
    if changes:
        statement = (
            update(_BALANCES)
            .where(_BALANCES.c.id == bindparam("row_id"))
            .values(balance_pence=_BALANCES.c.balance_pence + bindparam("delta"))
        )
        session.connection().execute(statement, changes)
    new = [
        {"pool_id": pool_id, "account": name, "balance_pence": amount}
        for name, amount in deltas.items()
        if name not in existing
    ]
    if new:
        bulk_insert(session.connection(), _BALANCES, new)


def balances(session: Session, pool_id: int) -> dict[str, Pence]:
    """Each account's balance from the running-balance table (accounts ever used)."""
    rows = session.execute(
        select(AccountBalanceRow.account, AccountBalanceRow.balance_pence)
        .where(AccountBalanceRow.pool_id == pool_id)
        .order_by(AccountBalanceRow.account)
    )
    return {name: Pence(amount) for name, amount in rows}


def posting_totals(
    session: Session,
    pool_id: int,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, Pence]:
    """Each account's postings summed afresh (optionally only entries dated in a range)."""
    query = (
        select(LedgerPostingRow.account, func.sum(LedgerPostingRow.amount_pence))
        .join(LedgerEntryRow, LedgerEntryRow.id == LedgerPostingRow.entry_id)
        .where(LedgerEntryRow.pool_id == pool_id)
        .group_by(LedgerPostingRow.account)
        .order_by(LedgerPostingRow.account)
    )
    if since is not None:
        query = query.where(LedgerEntryRow.date >= since)
    if until is not None:
        query = query.where(LedgerEntryRow.date <= until)
    return {name: Pence(int(total)) for name, total in session.execute(query)}


def account_movements(
    session: Session, pool_id: int, prefix: str, since: dt.date, until: dt.date
) -> list[tuple[str, dt.date, int]]:
    """(account, date, net amount) for accounts under ``prefix`` dated in the range."""
    query = (
        select(
            LedgerPostingRow.account, LedgerEntryRow.date, func.sum(LedgerPostingRow.amount_pence)
        )
        .join(LedgerEntryRow, LedgerEntryRow.id == LedgerPostingRow.entry_id)
        .where(
            LedgerEntryRow.pool_id == pool_id,
            LedgerEntryRow.date >= since,
            LedgerEntryRow.date <= until,
            LedgerPostingRow.account.startswith(prefix, autoescape=True),
        )
        .group_by(LedgerPostingRow.account, LedgerEntryRow.date)
    )
    return [(name, day, int(total)) for name, day, total in session.execute(query)]


def entry_count(session: Session, pool_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(LedgerEntryRow).filter_by(pool_id=pool_id))
        or 0
    )


def unbalanced_entries(session: Session, pool_id: int) -> list[int]:
    """Ids of stored entries whose postings do not sum to zero (there should be none)."""
    query = (
        select(LedgerPostingRow.entry_id)
        .join(LedgerEntryRow, LedgerEntryRow.id == LedgerPostingRow.entry_id)
        .where(LedgerEntryRow.pool_id == pool_id)
        .group_by(LedgerPostingRow.entry_id)
        .having(func.sum(LedgerPostingRow.amount_pence) != 0)
    )
    return list(session.scalars(query))


def entries(
    session: Session, pool_id: int, *, kind: EntryKind | None = None, correlation: str | None = None
) -> list[StoredEntry]:
    """A pool's entries in date order (then posting order), with their postings."""
    query = select(LedgerEntryRow).where(LedgerEntryRow.pool_id == pool_id)
    if kind is not None:
        query = query.where(LedgerEntryRow.kind == kind.value)
    if correlation is not None:
        query = query.where(LedgerEntryRow.correlation == correlation)
    rows = list(session.scalars(query.order_by(LedgerEntryRow.date, LedgerEntryRow.id)))
    legs = _postings_of([row.id for row in rows])
    by_entry: dict[int, list[Posting]] = defaultdict(list)
    for chunk in legs:
        for entry_id, posting in session.execute(chunk):
            by_entry[entry_id].append(
                Posting(posting.account, Pence(posting.amount_pence), posting.memo)
            )
    return [_stored(row, by_entry[row.id]) for row in rows]


def _postings_of(ids: list[int]) -> Iterator[Any]:
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        yield (
            select(LedgerPostingRow.entry_id, LedgerPostingRow)
            .where(LedgerPostingRow.entry_id.in_(chunk))
            .order_by(LedgerPostingRow.id)
        )


def _stored(row: LedgerEntryRow, postings: list[Posting]) -> StoredEntry:
    entry = Entry(
        date=row.date,
        kind=EntryKind(row.kind),
        narration=row.narration,
        postings=tuple(postings),
        correlation=row.correlation,
        source=dict(row.source or {}),
        reverses=row.reverses_id,
    )
    return StoredEntry(row.id, entry, row.created_by, row.created_at)


def get_entry(session: Session, pool_id: int, entry_id: int) -> StoredEntry | None:
    row = session.get(LedgerEntryRow, entry_id)
    if row is None or row.pool_id != pool_id:
        return None
    postings = session.scalars(
        select(LedgerPostingRow).filter_by(entry_id=entry_id).order_by(LedgerPostingRow.id)
    )
    return _stored(row, [Posting(p.account, Pence(p.amount_pence), p.memo) for p in postings])


def reversed_ids(session: Session, pool_id: int) -> set[int]:
    """Ids of the pool's entries that have been reversed."""
    query = select(LedgerEntryRow.reverses_id).where(
        LedgerEntryRow.pool_id == pool_id, LedgerEntryRow.reverses_id.is_not(None)
    )
    return {int(i) for i in session.scalars(query) if i is not None}


def correlation_totals(session: Session, pool_id: int, account: str) -> dict[str, int]:
    """The net posted to one account, per correlation key (instalment due minus paid)."""
    query = (
        select(LedgerEntryRow.correlation, func.sum(LedgerPostingRow.amount_pence))
        .join(LedgerEntryRow, LedgerEntryRow.id == LedgerPostingRow.entry_id)
        .where(LedgerEntryRow.pool_id == pool_id, LedgerPostingRow.account == account)
        .group_by(LedgerEntryRow.correlation)
    )
    return {key: int(total) for key, total in session.execute(query)}


def last_entry_date(session: Session, pool_id: int) -> dt.date | None:
    return session.scalar(select(func.max(LedgerEntryRow.date)).filter_by(pool_id=pool_id))


# --------------------------------------------------------------------------------------------
# Closed periods


def closed_periods(session: Session, pool_id: int) -> list[Period]:
    rows = session.scalars(
        select(ClosedPeriodRow).filter_by(pool_id=pool_id).order_by(ClosedPeriodRow.starts)
    )
    return [Period(row.label, row.starts, row.ends) for row in rows]


def add_closed_period(
    session: Session, pool_id: int, period: Period, actor: str, at: dt.datetime
) -> ClosedPeriodRow:
    row = ClosedPeriodRow(
        pool_id=pool_id,
        label=period.label,
        starts=period.start,
        ends=period.end,
        closed_by=actor,
        closed_at=at,
    )
    session.add(row)
    session.flush()
    return row


# --------------------------------------------------------------------------------------------
# Spend imports


def find_import(session: Session, pool_id: int, sha256: str) -> SpendImportRow | None:
    return session.scalars(select(SpendImportRow).filter_by(pool_id=pool_id, sha256=sha256)).first()


def imports(session: Session, pool_id: int) -> list[SpendImportRow]:
    return list(
        session.scalars(
            select(SpendImportRow).filter_by(pool_id=pool_id).order_by(SpendImportRow.id)
        )
    )


def add_import(session: Session, row: SpendImportRow) -> SpendImportRow:
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class PostedLine:
    """A spend row already in the ledger, and the file it came from."""

    reference: str
    spend_date: dt.date
    scheme: str
    amount_pence: int
    file_name: str
    row_number: int


def spend_lines_for(
    session: Session, pool_id: int, references: Iterable[str]
) -> dict[str, PostedLine]:
    """The already-posted spend rows among ``references``.

    A short list is looked up by reference; a long one (a year's file) reads the pool's
    posted rows in one pass instead of dozens of ``IN (…)`` lists.
    """
    wanted = set(references)
    query = (
        select(
            SpendLineRow.reference,
            SpendLineRow.spend_date,
            SpendLineRow.scheme,
            SpendLineRow.amount_pence,
            SpendImportRow.file_name,
            SpendLineRow.row_number,
        )
        .join(SpendImportRow, SpendImportRow.id == SpendLineRow.import_id)
        .where(SpendLineRow.pool_id == pool_id)
    )
    if len(wanted) > _CHUNK:
        rows = session.execute(query)
        return {row[0]: PostedLine(*row) for row in rows if row[0] in wanted}
    rows = session.execute(query.where(SpendLineRow.reference.in_(sorted(wanted))))
    return {row[0]: PostedLine(*row) for row in rows}


def add_spend_lines(session: Session, lines: list[dict[str, Any]]) -> None:
    if lines:
        bulk_insert(session.connection(), cast(Table, SpendLineRow.__table__), lines)


# --------------------------------------------------------------------------------------------
# Forecasts and council spend


def add_forecast(session: Session, row: ForecastRow) -> ForecastRow:
    session.add(row)
    session.flush()
    return row


def forecasts(session: Session, pool_id: int) -> list[ForecastRow]:
    """A pool's forecasts, oldest first (so the last for each scheme is the latest)."""
    query = (
        select(ForecastRow).filter_by(pool_id=pool_id).order_by(ForecastRow.as_at, ForecastRow.id)
    )
    return list(session.scalars(query))


def council_spend(session: Session, area_code: str) -> list[CouncilSpendRow]:
    query = (
        select(CouncilSpendRow)
        .filter_by(area_code=area_code)
        .order_by(CouncilSpendRow.financial_year)
    )
    return list(session.scalars(query))


def find_council_spend(
    session: Session, area_code: str, financial_year: str
) -> CouncilSpendRow | None:
    query = select(CouncilSpendRow).filter_by(area_code=area_code, financial_year=financial_year)
    return session.scalars(query).first()
