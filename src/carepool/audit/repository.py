"""Writing and reading the hash-chained audit log.

Every service that changes something calls :func:`record` inside the same unit of work, so a
change and its audit event are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from carepool.domain.audit import GENESIS, AuditRecord, event_hash
from carepool.store.models import AuditEventRow as AuditEventRow

_CHAIN_LOCK = 7_512_015  # PostgreSQL advisory lock key: one writer extends the chain at a time


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: Any = None,
    after: Any = None,
) -> AuditEventRow:
    """Append an event after the current last one, linking to its hash."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last = session.scalars(
        select(AuditEventRow).order_by(AuditEventRow.sequence.desc()).limit(1)
    ).first()
    sequence = (last.sequence if last else 0) + 1
    previous = last.hash if last else GENESIS
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
        **fields, previous_hash=previous, hash=event_hash(previous_hash=previous, **fields)
    )
    session.add(row)
    session.flush()
    return row


def chain(session: Session) -> Iterator[AuditRecord]:
    """Every event in order, as the pure chain checker reads them."""
    rows = session.scalars(select(AuditEventRow).order_by(AuditEventRow.sequence))
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
        )


def recent(session: Session, limit: int = 50) -> list[AuditEventRow]:
    return list(
        session.scalars(select(AuditEventRow).order_by(AuditEventRow.sequence.desc()).limit(limit))
    )
