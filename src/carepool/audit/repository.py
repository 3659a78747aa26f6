"""Writing and reading the hash-chained audit log.

Every service that changes something calls :func:`record` inside the same unit of work, so a
change and its audit event are committed together or not at all. The unit of work holds
services to it (:mod:`carepool.store.audited`): a transaction that wrote to an audited table
and recorded no event is refused at commit, and so rolled back whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from carepool.domain.audit import NATIONAL, AuditRecord, ChainHead, event_hash, genesis
from carepool.store.audited import note_event
from carepool.store.models import (
    AuditCheckpointRow,
)
from carepool.store.models import AuditEventRow as AuditEventRow

_LOCK_SPACE = 7_512_015
"""PostgreSQL advisory lock space of the audit chains: one writer extends a chain at a time."""


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
    note_event(session)
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


def about(
    session: Session, entity: str, entity_id: str, chain: str | None = None
) -> list[AuditEventRow]:
    """Every event about one thing (on one chain, if given), oldest first."""
    query = select(AuditEventRow).where(
        AuditEventRow.entity == entity, AuditEventRow.entity_id == entity_id
    )
    if chain is not None:
        query = query.where(AuditEventRow.chain == chain)
    return list(session.scalars(query.order_by(AuditEventRow.at, AuditEventRow.sequence)))
