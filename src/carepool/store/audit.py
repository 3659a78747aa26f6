"""Writing and reading the hash-chained audit log, and the guard that no change goes unaudited.

Every service that changes something calls :func:`record` inside the same unit of work, so a
change and its audit event are committed together or not at all. The unit of work's session
(:class:`AuditedSession`) holds services to it: a transaction that wrote to a table in
:data:`AUDITED` and recorded no event is refused at commit, and so rolled back whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Delete, Engine, Insert, Update, event, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from carepool.domain.audit import NATIONAL, AuditRecord, ChainHead, event_hash, genesis
from carepool.store.metrics import MetricValueRow, PublishedStatisticRow
from carepool.store.models import (
    AllocationRun,
    ApiTokenRow,
    AuditCheckpointRow,
    AuditEventRow,
    Base,
    ClosedPeriodRow,
    CouncilSpendRow,
    ForecastRow,
    LedgerEntryRow,
    PlanRow,
    PlanVersionRow,
    PoolRow,
    ReturnRow,
    SpendImportRow,
    UserRow,
    Vintage,
)

AUDITED: frozenset[type[Base]] = frozenset(
    {
        Vintage,  # every import of councils, populations, shares and published statistics
        PublishedStatisticRow,
        AllocationRun,
        UserRow,
        ApiTokenRow,
        PlanRow,
        PlanVersionRow,
        PoolRow,
        LedgerEntryRow,
        ClosedPeriodRow,
        SpendImportRow,
        ForecastRow,
        CouncilSpendRow,
        ReturnRow,
        MetricValueRow,
    }
)
"""The tables whose every change must come with an audit event in the same unit of work.

Rows that only ever change together with one of these (an allocation's lines, an entry's
postings, the balances they move, a plan's or return's timeline) are covered by it. A new
table that records a decision or money belongs here.
"""

_AUDITED_TABLES = frozenset(model.__table__.name for model in AUDITED)  # type: ignore[attr-defined]

_LOCK_SPACE = 7_512_015
"""PostgreSQL advisory lock space of the audit chains: one writer extends a chain at a time."""

_TRACKER = "carepool.audit"


class UnauditedChange(RuntimeError):
    """A unit of work changed audited tables without recording an audit event (a bug)."""


@dataclass(slots=True)
class _Writes:
    """What one transaction or savepoint wrote to audited tables, and the events it recorded."""

    tables: set[str] = field(default_factory=set)
    events: int = 0

    def take(self, other: _Writes) -> None:
        self.tables |= other.tables
        self.events += other.events


@dataclass(slots=True)
class _Tracker:
    """A unit of work's writes, by the savepoint (or the transaction) they belong to.

    A savepoint rolled back takes its writes and events with it; one released passes them to
    the transaction around it.
    """

    session: Session
    writes: dict[SessionTransaction, _Writes] = field(default_factory=dict)
    connections: list[Connection] = field(default_factory=list)

    def now(self) -> _Writes:
        current = self.session.get_nested_transaction() or self.session.get_transaction()
        return self.writes.setdefault(current, _Writes()) if current else _Writes()


class AuditedSession(Session):
    """The unit of work's session: it refuses to commit an audited change with no event."""


def _tracker(session: Session) -> _Tracker:
    tracker = session.info.get(_TRACKER)
    if tracker is None:
        tracker = session.info[_TRACKER] = _Tracker(session)
    return tracker


@event.listens_for(AuditedSession, "after_begin")
def _watch_connection(session: Session, _transaction: Any, connection: Connection) -> None:
    tracker = _tracker(session)
    connection.info[_TRACKER] = tracker
    tracker.connections.append(connection)


@event.listens_for(Engine, "before_execute")
def _seen_write(connection: Connection, statement: Any, *_args: Any) -> None:
    """Note a write to an audited table: ORM flushes and Core inserts alike come this way."""
    tracker = connection.info.get(_TRACKER)
    if tracker is None or not isinstance(statement, Insert | Update | Delete):
        return
    table = getattr(statement.table, "name", None)
    if table in _AUDITED_TABLES:
        tracker.now().tables.add(table)


@event.listens_for(AuditedSession, "before_commit")
def _refuse_unaudited(session: Session) -> None:
    session.flush()  # pending rows are written now, so the check sees them
    tracker = _tracker(session)
    savepoint = session.get_nested_transaction()
    if savepoint is not None and savepoint.parent is not None:
        released = tracker.writes.pop(savepoint, _Writes())
        tracker.writes.setdefault(savepoint.parent, _Writes()).take(released)
        return  # the event may well come later in the unit of work
    done = _Writes()
    for writes in tracker.writes.values():
        done.take(writes)
    if done.tables and not done.events:
        raise UnauditedChange(
            f"this unit of work changed {', '.join(sorted(done.tables))} but recorded no "
            "audit event; call carepool.store.audit.record with the change"
        )


@event.listens_for(AuditedSession, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    tracker = session.info.get(_TRACKER)
    if tracker is None:
        return
    tracker.writes.pop(transaction, None)  # a savepoint's still here only if rolled back
    if transaction.parent is not None:
        return
    session.info.pop(_TRACKER, None)
    for connection in tracker.connections:
        if not connection.closed:  # a closed one's next transaction replaces the tracker
            connection.info.pop(_TRACKER, None)


def _chain_lock(chain: str) -> int:
    """A 32-bit advisory lock key for a chain; two chains rarely share one, harmlessly."""
    return int.from_bytes(hashlib.sha256(chain.encode()).digest()[:4], "big", signed=True)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: Any = None,
    after: Any = None,
    chain: str = NATIONAL,
) -> AuditEventRow:
    """Append an event to its chain after the chain's last one, linking to its hash.

    On PostgreSQL the chain is locked until the transaction ends, so events of one chain are
    numbered one after another while writers of other chains carry on.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))"),
            {"space": _LOCK_SPACE, "key": _chain_lock(chain)},
        )
    last = session.scalars(
        select(AuditEventRow)
        .where(AuditEventRow.chain == chain)
        .order_by(AuditEventRow.sequence.desc())
        .limit(1)
    ).first()
    sequence = (last.sequence if last else 0) + 1
    previous = last.hash if last else genesis(chain)
    at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    fields = {
        "sequence": sequence,
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": before,
        "after": after,
    }
    row = AuditEventRow(
        **fields,
        chain=chain,
        previous_hash=previous,
        hash=event_hash(previous_hash=previous, **fields),
    )
    session.add(row)
    session.flush()
    _tracker(session).now().events += 1
    return row


def chain(session: Session, name: str = NATIONAL) -> Iterator[AuditRecord]:
    """One chain's events in order, as the chain checker reads them."""
    query = select(AuditEventRow).where(AuditEventRow.chain == name)
    return _records(session.scalars(query.order_by(AuditEventRow.sequence)))


def chains(session: Session) -> Iterator[AuditRecord]:
    """Every event, chain by chain and in order within each."""
    query = select(AuditEventRow).order_by(AuditEventRow.chain, AuditEventRow.sequence)
    return _records(session.scalars(query))


def _records(rows: Iterable[AuditEventRow]) -> Iterator[AuditRecord]:
    for row in rows:
        yield AuditRecord(
            sequence=row.sequence,
            at=row.at,
            actor=row.actor,
            action=row.action,
            entity=row.entity,
            entity_id=row.entity_id,
            before=row.before,
            after=row.after,
            previous_hash=row.previous_hash,
            hash=row.hash,
            chain=row.chain,
        )


def heads(session: Session) -> list[ChainHead]:
    """Each chain's latest event, by chain name."""
    latest = (
        select(AuditEventRow.chain, func.max(AuditEventRow.sequence).label("sequence"))
        .group_by(AuditEventRow.chain)
        .subquery()
    )
    query = (
        select(AuditEventRow.chain, AuditEventRow.sequence, AuditEventRow.hash)
        .join(
            latest,
            (AuditEventRow.chain == latest.c.chain) & (AuditEventRow.sequence == latest.c.sequence),
        )
        .order_by(AuditEventRow.chain)
    )
    return [ChainHead(name, sequence, digest) for name, sequence, digest in session.execute(query)]


def add_checkpoints(session: Session, taken: Iterable[ChainHead], at: dt.datetime) -> None:
    session.add_all(
        AuditCheckpointRow(taken_at=at, chain=h.chain, sequence=h.sequence, hash=h.hash)
        for h in taken
    )
    session.flush()


def checkpoints(session: Session) -> list[ChainHead]:
    """Every head a checkpoint saw, oldest first."""
    rows = session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.id))
    return [ChainHead(row.chain, row.sequence, row.hash) for row in rows]


def recent(session: Session, limit: int = 50) -> list[AuditEventRow]:
    """The newest events of all chains, newest first."""
    return list(
        session.scalars(
            select(AuditEventRow)
            .order_by(AuditEventRow.at.desc(), AuditEventRow.sequence.desc())
            .limit(limit)
        )
    )
