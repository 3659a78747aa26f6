"""All database access for the pooled-budget ledger.

Entries are written in bulk with their legs, and each account's running balance is
moved by the same transaction, so a balance is never read by re-summing postings and can
never disagree with them unless something outside carepool edits the tables (which
:func:`posting_totals` lets ``carepool ledger check`` detect). On PostgreSQL the pool's row is
locked first, so two people posting to one pool at once are put in a queue rather than both
reading the same balance; SQLite serialises writers on its own.

A simple entry (two legs, one the other's opposite) keeps its legs on its own row; a
compound entry has posting rows (see :class:`~carepool.store.models.LedgerEntryRow`). Every
reader goes through :func:`_legs` or :func:`_stored`, which put the two shapes back together,
so nothing above this module knows which shape an entry was kept in.

Spend files are posted through a stage of their own: see
:mod:`carepool.pools.repository.spend_stage`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Subquery,
    Table,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from carepool.domain.ledger import Accounts, Entry, EntryKind, Posting
from carepool.domain.money import Pence
from carepool.domain.periods import Period
from carepool.store.models import (
    AccountBalanceRow,
    ClosedPeriodRow,
    LedgerEntryRow,
    LedgerPostingRow,
    PlanRow,
)

# The rows the services hand around: a pool, its spend imports, forecasts and council spend.
from carepool.store.models import ForecastRow as ForecastRow
from carepool.store.models import PoolRow as PoolRow
from carepool.store.models import SpendImportRow as SpendImportRow

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


def add_pool(
    session: Session,
    *,
    year: str,
    area_code: str,
    host_partner: str,
    pool_manager: str,
    risk_share_kind: str | None,
    risk_share_parameters: dict[str, Any],
    instalments: int,
    partners: dict[str, str],
    starts: dt.date,
    ends: dt.date,
    plan_version: int,
    opened_by: str,
    opened_at: dt.datetime,
) -> PoolRow:
    """Open a pool with the terms its plan's Section 75 agreement set."""
    pool = PoolRow(
        year=year,
        area_code=area_code,
        host_partner=host_partner,
        pool_manager=pool_manager,
        risk_share_kind=risk_share_kind,
        risk_share_parameters=risk_share_parameters,
        instalments=instalments,
        partners=partners,
        starts=starts,
        ends=ends,
        plan_version=plan_version,
        opened_by=opened_by,
        opened_at=opened_at,
    )
    session.add(pool)
    session.flush()
    return pool


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


def lock_pools(session: Session, pools: Sequence[PoolRow]) -> None:
    """:func:`lock_pool` for several pools in one statement, in id order (no deadlock)."""
    if session.get_bind().dialect.name == "postgresql":
        ids = sorted(pool.id for pool in pools)
        session.execute(
            select(PoolRow.id).where(PoolRow.id.in_(ids)).order_by(PoolRow.id).with_for_update()
        )
        return
    for pool in pools[:1]:
        lock_pool(session, pool)


def lock_pool(session: Session, pool: PoolRow) -> None:
    """Queue writers to one pool behind each other until the unit of work ends.

    On PostgreSQL that is the pool's row lock. SQLite has one writer at a time, so there it
    is the database's write lock, taken now (``BEGIN IMMEDIATE``, waiting its turn) unless
    this unit of work already holds it. Its driver would otherwise start the transaction
    only at the first write, and a savepoint taken before then would be a transaction of
    its own, committed when released.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(PoolRow.id).where(PoolRow.id == pool.id).with_for_update())
        return
    driver = session.connection().connection.driver_connection
    if driver is not None and not driver.in_transaction:
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


# --------------------------------------------------------------------------------------------
# Entries, postings and balances


def add_entries(
    session: Session, pool_id: int, entries: Sequence[Entry], actor: str, at: dt.datetime
) -> list[int]:
    """Insert entries with their legs and move the running balances; returns the ids.

    The caller has checked every entry (balanced, valid accounts, open periods) and locked
    the pool. Rows go in as a few bulk statements (on PostgreSQL, ``COPY``), so importing
    thousands of spend rows costs a handful of round trips rather than thousands.
    """
    return add_entries_across(session, [(pool_id, entries)], actor, at)[pool_id]


def add_entries_across(
    session: Session,
    batches: Sequence[tuple[int, Sequence[Entry]]],
    actor: str,
    at: dt.datetime,
) -> dict[int, list[int]]:
    """:func:`add_entries` for several pools at once, in the same few bulk statements: a
    national payment run posts into 151 pools in one go. The ids, by pool."""
    flat = [(pool_id, entry) for pool_id, entries in batches for entry in entries]
    found: dict[int, list[int]] = {pool_id: [] for pool_id, _ in batches}
    if not flat:
        return found
    session.flush()
    connection = session.connection()
    ids = _insert_entries(connection, [_entry_values(p, e, actor, at) for p, e in flat])
    postings = [
        {
            "entry_id": entry_id,
            "line": line,
            "account": p.account,
            "amount_pence": p.amount,
            "memo": p.memo,
        }
        for entry_id, (_, entry) in zip(ids, flat, strict=True)
        if not is_simple(entry)
        for line, p in enumerate(entry.postings)
    ]
    bulk_insert(connection, _POSTINGS, postings)
    deltas: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry_id, (pool_id, entry) in zip(ids, flat, strict=True):
        found[pool_id].append(entry_id)
        for posting in entry.postings:
            deltas[pool_id][posting.account] += posting.amount
    move_balances_across(session, deltas)
    return found


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


def is_simple(entry: Entry) -> bool:
    """Two legs, one the other's opposite: kept on the entry's own row, with no postings."""
    legs = entry.postings
    return len(legs) == 2 and legs[0].amount == -legs[1].amount


def _entry_values(pool_id: int, entry: Entry, actor: str, at: dt.datetime) -> dict[str, Any]:
    first, second = entry.postings if is_simple(entry) else (None, None)
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
        "leg_account": first.account if first else None,
        "leg_pence": first.amount if first else None,
        "leg_memo": first.memo if first else None,
        "contra_account": second.account if second else None,
        "contra_memo": second.memo if second else None,
    }


def move_balances(session: Session, pool_id: int, deltas: Mapping[str, int]) -> None:
    """Add each account's net movement to its running balance (one statement per kind)."""
    move_balances_across(session, {pool_id: deltas})


def move_balances_across(session: Session, deltas: Mapping[int, Mapping[str, int]]) -> None:
    """:func:`move_balances` for several pools, still one statement per kind."""
    existing = {
        (pool_id, name): row_id
        for pool_id, name, row_id in session.execute(
            select(
                AccountBalanceRow.pool_id, AccountBalanceRow.account, AccountBalanceRow.id
            ).where(AccountBalanceRow.pool_id.in_(list(deltas)))
        ).all()
    }
    moves = [
        (p, name, amount)
        for p, pool_deltas in deltas.items()
        for name, amount in pool_deltas.items()
    ]
    changes = [
        {"row_id": existing[(p, name)], "delta": amount}
        for p, name, amount in moves
        if (p, name) in existing and amount
    ]
    if changes:
        statement = (
            update(_BALANCES)
            .where(_BALANCES.c.id == bindparam("row_id"))
            .values(balance_pence=_BALANCES.c.balance_pence + bindparam("delta"))
        )
        session.connection().execute(statement, changes)
    new = [
        {"pool_id": p, "account": name, "balance_pence": amount}
        for p, name, amount in moves
        if (p, name) not in existing
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
    """Each account's legs summed afresh (optionally only entries dated in a range)."""
    conditions = [_ENTRIES.c.pool_id == pool_id]
    if since is not None:
        conditions.append(_ENTRIES.c.date >= since)
    if until is not None:
        conditions.append(_ENTRIES.c.date <= until)
    leg = _legs(*conditions)
    query = (
        select(leg.c.account, func.sum(leg.c.amount_pence))
        .group_by(leg.c.account)
        .order_by(leg.c.account)
    )
    return {name: Pence(int(total)) for name, total in session.execute(query)}


# ---------------------------------------------------------------------------------------
# Many pools at once, for the lists of every pool: one query each, not one per pool


def posting_totals_of(
    session: Session, pool_ids: Sequence[int], until: dt.date
) -> dict[int, dict[str, Pence]]:
    """:func:`posting_totals` up to ``until`` of each pool, by pool id."""
    leg = _legs(_ENTRIES.c.pool_id.in_(pool_ids), _ENTRIES.c.date <= until)
    query = select(leg.c.pool_id, leg.c.account, func.sum(leg.c.amount_pence)).group_by(
        leg.c.pool_id, leg.c.account
    )
    found: dict[int, dict[str, Pence]] = {i: {} for i in pool_ids}
    for pool_id, name, total in session.execute(query):
        found[pool_id][name] = Pence(int(total))
    return found


def quarter_movements_of(
    session: Session,
    pool_ids: Sequence[int],
    prefix: str,
    spans: Sequence[Period],
    as_at: dt.date,
) -> dict[int, list[tuple[str, int, bool, int]]]:
    """Each pool's net movement on accounts under ``prefix`` within ``spans`` (consecutive
    periods, a year's quarters), by pool id: (account, index of the span, dated on or before
    ``as_at``, amount). A year's spend summed in the database to a few rows an account,
    rather than one a day."""
    leg = _legs(
        _ENTRIES.c.pool_id.in_(pool_ids),
        _ENTRIES.c.date >= spans[0].start,
        _ENTRIES.c.date <= spans[-1].end,
    )
    span = case(*((leg.c.date <= p.end, i) for i, p in enumerate(spans)), else_=len(spans))
    dated = case((leg.c.date <= as_at, 1), else_=0)
    # Grouped by the inner query's columns: PostgreSQL does not see two renderings of the
    # same CASE, each with its own parameters, as one expression.
    marked = (
        select(leg.c.pool_id, leg.c.account, span.label("span"), dated.label("dated"))
        .add_columns(leg.c.amount_pence)
        .where(leg.c.account.startswith(prefix, autoescape=True))
        .subquery("marked")
    )
    m = marked.c
    query = select(m.pool_id, m.account, m.span, m.dated, func.sum(m.amount_pence)).group_by(
        m.pool_id, m.account, m.span, m.dated
    )
    found: dict[int, list[tuple[str, int, bool, int]]] = {i: [] for i in pool_ids}
    for pool_id, name, index, before, total in session.execute(query):
        found[pool_id].append((name, int(index), bool(before), int(total)))
    return found


def forecasts_of(session: Session, pool_ids: Sequence[int]) -> dict[int, list[ForecastRow]]:
    """:func:`forecasts` of each pool, by pool id."""
    query = (
        select(ForecastRow)
        .where(ForecastRow.pool_id.in_(pool_ids))
        .order_by(ForecastRow.as_at, ForecastRow.id)
    )
    found: dict[int, list[ForecastRow]] = {i: [] for i in pool_ids}
    for row in session.scalars(query):
        found[row.pool_id].append(row)
    return found


def settled_pools(session: Session, pool_ids: Sequence[int]) -> set[int]:
    """The pools holding a settlement entry that has not been reversed."""
    e = _ENTRIES.c
    undone = set(
        session.scalars(
            select(e.reverses_id).where(e.pool_id.in_(pool_ids), e.reverses_id.is_not(None))
        )
    )
    settling = session.execute(
        select(e.id, e.pool_id).where(e.pool_id.in_(pool_ids), e.kind == EntryKind.SETTLEMENT.value)
    )
    return {pool_id for entry_id, pool_id in settling if entry_id not in undone}


def movements_by_pool(
    session: Session, pool_ids: Sequence[int], since: dt.date, until: dt.date
) -> dict[int, dict[str, int]]:
    """Each pool's net movement on every account over a date range, in one query."""
    if not pool_ids:
        return {}
    leg = _legs(
        _ENTRIES.c.pool_id.in_(sorted(pool_ids)), _ENTRIES.c.date >= since, _ENTRIES.c.date <= until
    )
    query = select(leg.c.pool_id, leg.c.account, func.sum(leg.c.amount_pence)).group_by(
        leg.c.pool_id, leg.c.account
    )
    found: dict[int, dict[str, int]] = {}
    for pool_id, name, total in session.execute(query):
        found.setdefault(pool_id, {})[name] = int(total)
    return found


def entry_count(session: Session, pool_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(LedgerEntryRow).filter_by(pool_id=pool_id))
        or 0
    )


def unbalanced_entries(session: Session, pool_id: int) -> list[int]:
    """Ids of stored entries whose legs do not sum to zero (there should be none)."""
    leg = _legs(_ENTRIES.c.pool_id == pool_id)
    query = (
        select(leg.c.entry_id).group_by(leg.c.entry_id).having(func.sum(leg.c.amount_pence) != 0)
    )
    return list(session.scalars(query))


def entries(
    session: Session, pool_id: int, *, kind: EntryKind | None = None, correlation: str | None = None
) -> list[StoredEntry]:
    """A pool's entries in date order (then posting order), with their postings.

    Read as plain rows: a year's books can hold a million entries, and ORM objects for each
    would cost several times what the entries themselves do.
    """
    conditions = []
    if kind is not None:
        conditions.append(_ENTRIES.c.kind == kind.value)
    if correlation is not None:
        conditions.append(_ENTRIES.c.correlation == correlation)
    return list(_read_entries(session, pool_id, *conditions))


def stream_entries(session: Session, pool_id: int) -> Iterator[tuple[int, Entry]]:
    """A pool's entries in date order with their postings, read as they are used.

    The rows are fetched in batches (a server-side cursor on PostgreSQL), so an export of a
    million entries holds a few thousand at a time.
    """
    return ((stored.id, stored.entry) for stored in _read_entries(session, pool_id))


def _read_entries(
    session: Session, pool_id: int, *conditions: ColumnElement[bool]
) -> Iterator[StoredEntry]:
    """One query over entries and their postings, in order, grouped back into entries."""
    query = (
        select(*_ENTRY_COLUMNS, _POSTINGS.c.account, _POSTINGS.c.amount_pence, _POSTINGS.c.memo)
        .outerjoin(_POSTINGS, _POSTINGS.c.entry_id == _ENTRIES.c.id)
        .where(_ENTRIES.c.pool_id == pool_id, *conditions)
        .order_by(_ENTRIES.c.date, _ENTRIES.c.id, _POSTINGS.c.line)
        .execution_options(yield_per=_STREAM_BATCH)
    )
    current: Any = None
    legs: list[Posting] = []
    for row in session.execute(query):
        if current is not None and row.id != current.id:
            yield _stored(current, legs)
            legs = []
        current = row
        if row.account is not None:  # an entry with no postings still appears (check finds it)
            legs.append(Posting(row.account, Pence(row.amount_pence), row.memo))
    if current is not None:
        yield _stored(current, legs)


_STREAM_BATCH = 5_000


def posted_accounts(session: Session, pool_id: int) -> set[str]:
    """Every account a leg of the pool's entries names."""
    leg = _legs(_ENTRIES.c.pool_id == pool_id)
    return set(session.scalars(select(leg.c.account).distinct()))


def entry_dates(session: Session, pool_id: int) -> tuple[dt.date | None, dt.date | None]:
    """The pool's earliest and latest entry dates (None, None before its first entry)."""
    query = select(func.min(_ENTRIES.c.date), func.max(_ENTRIES.c.date)).where(
        _ENTRIES.c.pool_id == pool_id
    )
    first, last = session.execute(query).one()
    return first, last


_ENTRY_COLUMNS = (
    _ENTRIES.c.id,
    _ENTRIES.c.date,
    _ENTRIES.c.kind,
    _ENTRIES.c.narration,
    _ENTRIES.c.correlation,
    _ENTRIES.c.source,
    _ENTRIES.c.reverses_id,
    _ENTRIES.c.created_by,
    _ENTRIES.c.created_at,
    _ENTRIES.c.leg_account,
    _ENTRIES.c.leg_pence,
    _ENTRIES.c.leg_memo,
    _ENTRIES.c.contra_account,
    _ENTRIES.c.contra_memo,
)


def _legs(*conditions: ColumnElement[bool]) -> Subquery:
    """Every leg of the entries meeting ``conditions``, beside its entry's date and correlation.

    A simple entry's two legs come from its own row, a compound entry's from its postings.
    The conditions are applied in each of the three parts, so each reads only the rows it
    needs (through the entries' pool index) rather than every leg of every pool.
    """
    e = _ENTRIES.c
    p = _POSTINGS.c
    facts = (e.id.label("entry_id"), e.pool_id, e.date, e.correlation)
    simple = e.leg_account.is_not(None)
    first = select(
        *facts,
        literal(0).label("line"),
        e.leg_account.label("account"),
        e.leg_pence.label("amount_pence"),
        e.leg_memo.label("memo"),
    ).where(simple, *conditions)
    second = select(*facts, literal(1), e.contra_account, -e.leg_pence, e.contra_memo).where(
        simple, *conditions
    )
    compound = (
        select(*facts, p.line, p.account, p.amount_pence, p.memo)
        .join(_POSTINGS, p.entry_id == e.id)
        .where(*conditions)
    )
    return union_all(first, second, compound).subquery("leg")


def _stored(row: Any, postings: list[Posting]) -> StoredEntry:
    """An entry from its row (an ORM object or a plain row with the same names).

    ``postings`` are a compound entry's posting rows; a simple entry's legs are on its row.
    """
    if row.leg_account is not None:
        postings = [
            Posting(row.leg_account, Pence(row.leg_pence), row.leg_memo),
            Posting(row.contra_account, Pence(-row.leg_pence), row.contra_memo),
        ]
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
        select(LedgerPostingRow).filter_by(entry_id=entry_id).order_by(LedgerPostingRow.line)
    )
    return _stored(row, [Posting(p.account, Pence(p.amount_pence), p.memo) for p in postings])


def newest_entry_ids(session: Session, pool_id: int, offset: int, limit: int) -> list[int]:
    """A page of the pool's entry ids, newest first (by date, then by when posted)."""
    return list(
        session.scalars(
            select(LedgerEntryRow.id)
            .where(LedgerEntryRow.pool_id == pool_id)
            .order_by(LedgerEntryRow.date.desc(), LedgerEntryRow.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )


def reversal_of(session: Session, pool_id: int, entry_id: int) -> int | None:
    """The id of the entry that reversed ``entry_id``, if one has."""
    return session.scalar(
        select(LedgerEntryRow.id).where(
            LedgerEntryRow.pool_id == pool_id, LedgerEntryRow.reverses_id == entry_id
        )
    )


def reversed_ids(session: Session, pool_id: int) -> set[int]:
    """Ids of the pool's entries that have been reversed."""
    query = select(LedgerEntryRow.reverses_id).where(
        LedgerEntryRow.pool_id == pool_id, LedgerEntryRow.reverses_id.is_not(None)
    )
    return {int(i) for i in session.scalars(query) if i is not None}


def correlation_totals(session: Session, pool_id: int, account: str) -> dict[str, int]:
    """The net posted to one account, per correlation key (instalment due minus paid)."""
    leg = _legs(_ENTRIES.c.pool_id == pool_id)
    query = (
        select(leg.c.correlation, func.sum(leg.c.amount_pence))
        .where(leg.c.account == account)
        .group_by(leg.c.correlation)
    )
    return {key: int(total) for key, total in session.execute(query)}


def last_entry_date(session: Session, pool_id: int) -> dt.date | None:
    return session.scalar(select(func.max(LedgerEntryRow.date)).filter_by(pool_id=pool_id))


# --------------------------------------------------------------------------------------------
# Closed periods


def closed_periods_of(session: Session, pool_ids: Sequence[int]) -> dict[int, list[Period]]:
    """Every pool's closed periods, for several pools in one query."""
    found: dict[int, list[Period]] = {pool_id: [] for pool_id in pool_ids}
    rows = session.scalars(
        select(ClosedPeriodRow)
        .where(ClosedPeriodRow.pool_id.in_(list(pool_ids)))
        .order_by(ClosedPeriodRow.pool_id, ClosedPeriodRow.starts)
    )
    for row in rows:
        found[row.pool_id].append(Period(row.label, row.starts, row.ends))
    return found


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


def remove_closed_period(session: Session, pool_id: int, label: str) -> bool:
    """Reopen a closed period: whether it was closed."""
    row = session.scalar(select(ClosedPeriodRow).filter_by(pool_id=pool_id, label=label))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


# --------------------------------------------------------------------------------------------
# Spend imports


def find_import(session: Session, pool_id: int, sha256: str) -> SpendImportRow | None:
    return session.scalars(select(SpendImportRow).filter_by(pool_id=pool_id, sha256=sha256)).first()


def get_import(session: Session, pool_id: int, import_id: int) -> SpendImportRow | None:
    """The pool's spend import with this id (``None`` if it belongs to another pool)."""
    row = session.get(SpendImportRow, import_id)
    return row if row is not None and row.pool_id == pool_id else None


def imports(session: Session, pool_id: int) -> list[SpendImportRow]:
    return list(
        session.scalars(
            select(SpendImportRow).filter_by(pool_id=pool_id).order_by(SpendImportRow.id)
        )
    )


def add_import(
    session: Session, pool_id: int, sha256: str, file_name: str, by: str, at: dt.datetime
) -> SpendImportRow:
    """Record a spend file as being imported; its counts are filled in when it is done."""
    row = SpendImportRow(
        pool_id=pool_id,
        sha256=sha256,
        file_name=file_name,
        rows=0,
        posted=0,
        skipped=0,
        imported_at=at,
        imported_by=by,
    )
    session.add(row)
    session.flush()
    return row


def finish_import(session: Session, import_id: int, rows: int, posted: int) -> SpendImportRow:
    """Fill in an import's counts: rows read, rows posted, and the rest skipped as repeats."""
    row = session.get_one(SpendImportRow, import_id)  # in the session since it was added
    row.rows, row.posted, row.skipped = rows, posted, rows - posted
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class PostedLine:
    """A spend row already in the ledger, and the file it came from."""

    reference: str
    spend_date: dt.date
    account: str  # the scheme's expense account, which the row's entry debited
    amount_pence: int
    file_name: str
    row_number: int


def spend_lines_for(
    session: Session, pool_id: int, references: Iterable[str]
) -> dict[str, PostedLine]:
    """The already-posted spend rows among ``references``, read from their entries.

    A spend entry is simple and its first leg debits its scheme, so that leg gives the row's
    scheme and amount; the entry's source names its import (whose row names the file) and
    row. Entries posted before sources were slimmed name the file themselves. A short list
    is looked up by reference; a long one (a year's file) reads the pool's spend entries in
    one pass instead of dozens of ``IN (…)`` lists.
    """
    wanted = set(references)
    query = select(
        _ENTRIES.c.reference,
        _ENTRIES.c.date,
        _ENTRIES.c.leg_account,
        _ENTRIES.c.leg_pence,
        _ENTRIES.c.source,
    ).where(
        _ENTRIES.c.pool_id == pool_id,
        _ENTRIES.c.reference.is_not(None),
        _ENTRIES.c.leg_account.startswith(_SCHEME_PREFIX, autoescape=True),
    )
    if len(wanted) <= _CHUNK:
        query = query.where(_ENTRIES.c.reference.in_(sorted(wanted)))
    files = {row.id: row.file_name for row in imports(session, pool_id)}
    found = {}
    for reference, day, name, amount, source in session.execute(query):
        if reference in wanted:
            found[reference] = PostedLine(
                reference,
                day,
                name,
                amount,
                files.get(int(source.get("import_id", 0)), str(source.get("file", ""))),
                int(source.get("row", 0)),
            )
    return found


_SCHEME_PREFIX = Accounts.scheme("X").removesuffix("X")


# --------------------------------------------------------------------------------------------
# Forecasts and council spend


def add_forecast(
    session: Session,
    pool_id: int,
    scheme: str | None,
    as_at: dt.date,
    amount_pence: int,
    note: str,
    by: str,
    at: dt.datetime,
) -> ForecastRow:
    """Record a forecast of the year's outturn, for the whole pool (no scheme) or one scheme."""
    row = ForecastRow(
        pool_id=pool_id,
        scheme=scheme,
        as_at=as_at,
        amount_pence=amount_pence,
        note=note,
        by=by,
        at=at,
    )
    session.add(row)
    session.flush()
    return row


def forecasts(session: Session, pool_id: int) -> list[ForecastRow]:
    """A pool's forecasts, oldest first (so the last for each scheme is the latest)."""
    query = (
        select(ForecastRow).filter_by(pool_id=pool_id).order_by(ForecastRow.as_at, ForecastRow.id)
    )
    return list(session.scalars(query))
