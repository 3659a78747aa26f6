"""Writing and reading the hash-chained audit log.

Every service that changes something calls :func:`record` inside the same unit of work, so a
change and its audit event are committed together or not at all. The unit of work holds
services to it (:mod:`carepool.store.audited`): a transaction that wrote to an audited table
and recorded no event is refused at commit, and so rolled back whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Pending:
    """An event to append: what changed, who did it, and the chain it belongs to."""

    actor: str
    action: str
    entity: str
    entity_id: str | int
    before: Any = None
    after: Any = None
    chain: str = NATIONAL


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
    event = Pending(actor, action, entity, entity_id, before, after, chain)
    return record_many(session, [event])[0]


def record_many(session: Session, events: Sequence[Pending]) -> list[AuditEventRow]:
    """Append several events, on one chain or many, in a few statements whatever their
    number: the chains are locked in one statement (in a fixed order, so two writers never
    deadlock) and their heads read in one query. A national payment run records an event on
    each of 151 pools' chains this way."""
    chains = sorted({event.chain for event in events})
    if not chains:
        return []
    if session.get_bind().dialect.name == "postgresql":
        keys = sorted({_chain_lock(name) for name in chains})
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(CAST(:space AS integer), key) "
                "FROM (SELECT unnest(CAST(:keys AS integer[])) AS key ORDER BY 1) AS locks"
            ),
            {"space": _LOCK_SPACE, "keys": keys},
        )
    heads = _heads(session, chains)
    rows = []
    for event in events:
        sequence, previous = heads.get(event.chain, (0, genesis(event.chain)))
        fields = {
            "sequence": sequence + 1,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "actor": event.actor,
            "action": event.action,
            "entity": event.entity,
            "entity_id": str(event.entity_id),
            "before": event.before,
            "after": event.after,
        }
        digest = event_hash(previous_hash=previous, **fields)
        rows.append(AuditEventRow(**fields, chain=event.chain, previous_hash=previous, hash=digest))
        heads[event.chain] = (sequence + 1, digest)
    session.add_all(rows)
    session.flush()
    note_event(session)
    return rows


def _heads(session: Session, chains: Sequence[str]) -> dict[str, tuple[int, str]]:
    """Each chain's last sequence number and hash (chains with no events are left out)."""
    newest = (
        select(AuditEventRow.chain, func.max(AuditEventRow.sequence).label("sequence"))
        .where(AuditEventRow.chain.in_(list(chains)))
        .group_by(AuditEventRow.chain)
        .subquery()
    )
    rows = session.execute(
        select(AuditEventRow.chain, AuditEventRow.sequence, AuditEventRow.hash).join(
            newest,
            (AuditEventRow.chain == newest.c.chain) & (AuditEventRow.sequence == newest.c.sequence),
        )
    )
    return {name: (sequence, digest) for name, sequence, digest in rows}


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
