"""The guard that no change goes unaudited: part of the unit of work, not of any service.

The unit of work's session (:class:`AuditedSession`) notes every insert, update or delete of
a table in :data:`AUDITED`, whether an ORM flush or a Core statement wrote it, and refuses to
commit a transaction that wrote one and recorded no audit event
(:func:`carepool.audit.repository.record` calls :func:`note_event`). Savepoints are followed:
one rolled back takes its writes and events with it, one released passes them on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Delete, Engine, Insert, Update, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from carepool.store.models import (
    AllocationRun,
    AmbitionRevisionRow,
    ApiTokenRow,
    Base,
    ClosedPeriodRow,
    CouncilFinanceRow,
    ForecastRow,
    GdpDeflatorRow,
    LedgerEntryRow,
    MetricValueRow,
    PaymentRunRow,
    PlanRow,
    PlanVersionRow,
    PoolRow,
    PublishedStatisticRow,
    ReturnRow,
    SpendImportRow,
    UserRow,
    Vintage,
)
from carepool.store.models_budgets import (
    BudgetStatusRow,
    BudgetTransactionImportRow,
    BudgetTransactionRow,
    PersonalBudgetRow,
    SupportPlanLineRow,
)
from carepool.store.models_pooling import CommissionerAllocationRow

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
        PaymentRunRow,  # every payment run and status change
        AmbitionRevisionRow,
        ClosedPeriodRow,
        SpendImportRow,
        ForecastRow,
        CouncilFinanceRow,  # every council finance return imported
        GdpDeflatorRow,
        CommissionerAllocationRow,  # every commissioners' allocation table imported
        ReturnRow,
        MetricValueRow,
        PersonalBudgetRow,  # every budget set up, changed or ended, and its plan and history
        SupportPlanLineRow,
        BudgetStatusRow,
        BudgetTransactionImportRow,  # every transactions file, with its lines
        BudgetTransactionRow,
    }
)
"""The tables whose every change must come with an audit event in the same unit of work.

Rows that only ever change together with one of these (an allocation's lines, an entry's
postings, the balances they move, a plan's or return's timeline) are covered by it. A new
table that records a decision or money belongs here.
"""

_AUDITED_TABLES = frozenset(model.__table__.name for model in AUDITED)  # type: ignore[attr-defined]


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
            "audit event; call carepool.audit.repository.record with the change"
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


def note_event(session: Session) -> None:
    """Count an audit event recorded in the session's current transaction or savepoint."""
    _tracker(session).now().events += 1
