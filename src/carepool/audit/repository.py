"""Writing and reading the hash-chained audit log.

Every service that changes something calls :func:`record` inside the same unit of work, so a
change and its audit event are committed together or not at all. The unit of work holds
services to it (:mod:`carepool.store.audited`): a transaction that wrote to an audited table
and recorded no event is refused at commit, and so rolled back whole.

Each event's hash is keyed with the audit key (:func:`carepool.config.audit_key`), and the
chain's keyed head is moved in the same transaction, once per chain however many events are
recorded together; the seal is written only when a chain is opened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, select, text
from sqlalchemy.orm import Session

from carepool.config import audit_key
from carepool.domain.audit import (
    NATIONAL,
    AuditRecord,
    ChainHead,
    KeyedHead,
    Seal,
    check_key,
    event_hash,
    genesis,
    key_id,
)
from carepool.domain.errors import CarepoolError
from carepool.store.audited import AUDITED, note_event
from carepool.store.models import (
    AuditCheckpointRow,
    AuditHeadRow,
    AuditSealRow,
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
    _lock(session, chains)
    key = log_key(session)
    heads = _heads(session, chains, key)
    rows = []
    for event in events:
        head = heads[event.chain]
        fields = {
            "sequence": head.sequence + 1,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "actor": event.actor,
            "action": event.action,
            "entity": event.entity,
            "entity_id": str(event.entity_id),
            "before": event.before,
            "after": event.after,
        }
        digest = event_hash(previous_hash=head.hash, key=key, **fields)
        row = AuditEventRow(**fields, chain=event.chain, previous_hash=head.hash, hash=digest)
        rows.append(row)
        head.sequence, head.hash = row.sequence, digest
    for head in heads.values():
        head.mac = _keyed(head).signed(key).mac
    session.add_all(rows)
    session.flush()
    note_event(session)
    return rows


def _lock(session: Session, chains: Sequence[str]) -> None:
    """On PostgreSQL, hold the chains until the transaction ends; SQLite has one writer."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_chain_lock(name) for name in chains})
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(CAST(:space AS integer), key) "
            "FROM (SELECT unnest(CAST(:keys AS integer[])) AS key ORDER BY 1) AS locks"
        ),
        {"space": _LOCK_SPACE, "keys": keys},
    )


_KEY_CHECKED = "carepool.audit.key"


def log_key(session: Session) -> bytes:
    """The audit key, once it is known to be the one the database's log is written with.

    A log is never extended under another key: a lost or misplaced key file would otherwise
    make every later event look forged. Checked once per session.
    """
    key = check_key(audit_key())
    if session.info.get(_KEY_CHECKED) == key:
        return key
    sealed = seal(session)
    if sealed is None:
        raise CarepoolError("the audit log has no seal; run 'carepool audit verify'")
    if sealed.key_id != key_id(key):
        raise CarepoolError(
            f"the audit log is written under audit key {sealed.key_id}, but the key in use is "
            f"{key_id(key)}: set CAREPOOL_AUDIT_KEY, or run where .carepool/audit_key is"
        )
    session.info[_KEY_CHECKED] = key
    return key


def _heads(session: Session, chains: Sequence[str], key: bytes) -> dict[str, AuditHeadRow]:
    """Each chain's keyed head row, opening the chains that have none yet.

    A head changed without the key is refused: extending it would sign it again, and so
    make a change it records, such as the newest events removed, no longer show.
    """
    query = select(AuditHeadRow).where(AuditHeadRow.chain.in_(list(chains)))
    found = {row.chain: row for row in session.scalars(query)}
    for row in found.values():
        if not _keyed(row).holds(key):
            raise _changed(f"the keyed head of audit chain {row.chain}")
    opened = [name for name in chains if name not in found]
    if opened:
        found.update(_open(session, opened, key))
    return found


def _open(session: Session, chains: Sequence[str], key: bytes) -> dict[str, AuditHeadRow]:
    """New chains' heads, counted in the seal; a chain with events but no head is refused,
    since taking it in here would take in whatever a writer without the key left there."""
    unadopted = session.scalars(
        select(AuditEventRow.chain).where(AuditEventRow.chain.in_(list(chains))).distinct()
    ).all()
    if unadopted:
        raise CarepoolError(
            f"the audit chain {unadopted[0]} holds events but has no keyed head; run "
            "'carepool audit verify', and 'carepool audit adopt' once after upgrading from a "
            "version without keyed hashes"
        )
    _count_chains(session, len(chains), key)
    heads = {name: AuditHeadRow(chain=name, sequence=0, hash=genesis(name), keyed_from=1)
             for name in chains}  # fmt: skip
    session.add_all(heads.values())  # signed by the caller once its events are hashed
    return heads


def _count_chains(session: Session, opened: int, key: bytes) -> None:
    """Count newly opened chains in the seal, which must still hold (as for a head)."""
    row = session.scalars(select(AuditSealRow).with_for_update()).one()
    if not Seal(row.chains, row.key_id, row.mac).holds(key):
        raise _changed("the audit log's seal")
    row.chains += opened
    row.mac = Seal(row.chains, row.key_id).signed(key).mac


def _changed(what: str) -> CarepoolError:
    return CarepoolError(
        f"{what} was changed without the audit key, so no event is added to it; run "
        "'carepool audit verify', and restore the audit tables from a backup that verifies"
    )


def _keyed(row: AuditHeadRow) -> KeyedHead:
    return KeyedHead(row.chain, row.sequence, row.hash, row.keyed_from, row.mac)


def keyed_heads(session: Session) -> dict[str, KeyedHead]:
    """Every chain's keyed head, by chain name."""
    return {row.chain: _keyed(row) for row in session.scalars(select(AuditHeadRow))}


def seal(session: Session) -> Seal | None:
    """The log's seal, or ``None`` if it was removed."""
    row = session.get(AuditSealRow, 1)
    return None if row is None else Seal(row.chains, row.key_id, row.mac)


def adopt(session: Session, taken: Iterable[KeyedHead], key: bytes) -> None:
    """Give chains written before keyed hashes their keyed heads, and count them in the seal."""
    heads = [head.signed(key) for head in taken]
    session.add_all(
        AuditHeadRow(chain=h.chain, sequence=h.sequence, hash=h.hash, keyed_from=h.keyed_from,
                     mac=h.mac)
        for h in heads
    )  # fmt: skip
    _count_chains(session, len(heads), key)
    session.flush()


def audited_rows(session: Session) -> list[str]:
    """The audited tables that hold any row: each was written with an event, so an empty log
    beside them was emptied."""
    return [
        model.__tablename__
        for model in sorted(AUDITED, key=lambda m: m.__tablename__)
        if session.scalar(select(literal(1)).select_from(model).limit(1)) is not None
    ]


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


def events_recorded(session: Session) -> int:
    """How many events the chains hold, from their heads (one small row a chain): it grows
    with every event, in the same unit of work as the change the event records."""
    return int(session.scalar(select(func.coalesce(func.sum(AuditHeadRow.sequence), 0))) or 0)


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
    session: Session,
    entity: str,
    entity_id: str,
    chain: str | None = None,
    action: str | None = None,
) -> list[AuditEventRow]:
    """Every event about one thing (on one chain, of one action, if given), oldest first."""
    query = select(AuditEventRow).where(
        AuditEventRow.entity == entity, AuditEventRow.entity_id == entity_id
    )
    if chain is not None:
        query = query.where(AuditEventRow.chain == chain)
    if action is not None:
        query = query.where(AuditEventRow.action == action)
    return list(session.scalars(query.order_by(AuditEventRow.at, AuditEventRow.sequence)))
