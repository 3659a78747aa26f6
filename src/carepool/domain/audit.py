"""The audit chains: every change is an event whose keyed hash covers the one before it.

The inbox was the only audit trail of the 2014 plans (NAO). carepool keeps an append-only log
of who changed what, when, with the before and after; each event's hash covers its content
and the previous event's hash, so editing or deleting any stored event breaks the chain at
that point and ``carepool audit verify`` says where.

The log is several chains, not one: each pool and each plan has its own, and everything else
(allocations, accounts, imported vintages) is on the national chain. Writers in different
chains never wait for each other, and each chain is checked on its own. A chain's first event
links to a genesis hash made from the chain's name, so an event moved into another chain
breaks both.

The hashes are HMAC-SHA256 under the audit key, which is kept outside the database: someone
who can write to the database but lacks the key cannot recompute them after an edit, nor
forge an event. A chain alone cannot show that its newest events were removed, since what is
left still links up, so the database also keeps each chain's head (its latest sequence and
hash, under the key) and a seal counting the chains (under the key): removing the newest
events, whole chains or every event no longer matches them. Someone who holds the key, or
who puts back an older copy of the whole log, is caught only by a checkpoint the operator
keeps outside the database (:func:`verify_checkpoint`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from carepool.domain.errors import CarepoolError

GENESIS = "0" * 64
"""The hash the first event of the national chain links to."""

NATIONAL = "national"
"""The chain of every change that belongs to no pool or plan."""

LOG = "*"
"""The name a break of the whole log (its seal) is reported under, which no chain has."""

MIN_KEY_BYTES = 32
"""A shorter audit key could be guessed, and then the hashes recomputed after an edit."""


def pool_chain(pool_label: str) -> str:
    """The chain of a pool's changes: its ledger, returns, forecasts and settlements."""
    return f"pool/{pool_label}"


def plan_chain(year: str, area_code: str) -> str:
    """The chain of a plan's changes: its versions and its moves through the workflow."""
    return f"plan/{year}/{area_code}"


def genesis(chain: str) -> str:
    """The hash a chain's first event links to.

    The national chain keeps :data:`GENESIS`, which its events linked to before there were
    other chains; any other chain's comes from its name.
    """
    if chain == NATIONAL:
        return GENESIS
    return hashlib.sha256(f"carepool audit chain {chain}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One stored audit event, as the chain sees it."""

    sequence: int  # the event's place in its chain, from 1
    at: str  # ISO 8601 UTC timestamp
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    previous_hash: str
    hash: str
    chain: str = NATIONAL


@dataclass(frozen=True, slots=True)
class ChainHead:
    """A chain's latest event, as a checkpoint records it."""

    chain: str
    sequence: int
    hash: str


def canonical(value: Any) -> str:
    """A stable JSON text for hashing: sorted keys, no spaces, non-ASCII kept exactly."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    *,
    previous_hash: str,
    sequence: int,
    at: str,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: Any,
    after: Any,
    key: bytes | None = None,
) -> str:
    """An event's hash: HMAC-SHA256 under the audit ``key``; without a key, the plain SHA-256
    that events written before keyed hashes (revision 0014) carry."""
    body = canonical(
        {
            "sequence": sequence,
            "at": at,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        }
    )
    message = (previous_hash + body).encode("utf-8")
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def check_key(key: bytes) -> bytes:
    """Refuse an audit key too short to keep its hashes from being recomputed by guessing."""
    if len(key) < MIN_KEY_BYTES:
        raise CarepoolError(
            f"the audit key has {len(key)} bytes; it must have at least {MIN_KEY_BYTES}. "
            "Set CAREPOOL_AUDIT_KEY to a long random value, or remove it to have one made"
        )
    return key


def key_id(key: bytes) -> str:
    """A short name for a key, to tell which key a log was written with, revealing nothing."""
    return hmac.new(key, b"carepool audit key id", hashlib.sha256).hexdigest()[:16]


def _mac(key: bytes, kind: str, content: dict[str, Any]) -> str:
    return hmac.new(key, canonical({kind: content}).encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyedHead:
    """A chain's head as the database keeps it beside the events, under the audit key.

    ``sequence`` and ``hash`` are the chain's latest event; events numbered from
    ``keyed_from`` on have keyed hashes, and those before it were written before keyed hashes
    and taken in by ``carepool audit adopt``. ``mac`` covers the rest, so the head cannot be
    moved back to match a chain whose newest events were removed.
    """

    chain: str
    sequence: int
    hash: str
    keyed_from: int = 1
    mac: str = ""

    def signed(self, key: bytes) -> KeyedHead:
        return replace(self, mac=self._mac(key))

    def holds(self, key: bytes) -> bool:
        return hmac.compare_digest(self.mac, self._mac(key))

    def _mac(self, key: bytes) -> str:
        content = {"chain": self.chain, "sequence": self.sequence, "hash": self.hash,
                   "keyed_from": self.keyed_from}  # fmt: skip
        return _mac(key, "head", content)


@dataclass(frozen=True, slots=True)
class Seal:
    """The whole log's record under the audit key: how many chains have a keyed head, and
    which key the log is written with. Deleting whole chains, or every event and every
    head, no longer matches it."""

    chains: int
    key_id: str
    mac: str = ""

    def signed(self, key: bytes) -> Seal:
        return replace(self, mac=self._mac(key))

    def holds(self, key: bytes) -> bool:
        return hmac.compare_digest(self.mac, self._mac(key))

    def _mac(self, key: bytes) -> str:
        return _mac(key, "seal", {"chains": self.chains, "key_id": self.key_id})


def new_seal(key: bytes) -> Seal:
    """The seal of a log with no chains yet, written under ``key``."""
    return Seal(0, key_id(key)).signed(key)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    sequence: int
    reason: str
    chain: str = NATIONAL


def verify_chain(
    records: Iterable[AuditRecord],
    chain: str = NATIONAL,
    *,
    key: bytes | None = None,
    keyed_from: int = 1,
) -> list[ChainBreak]:
    """Every place one chain does not hold, in order; an empty list means it is intact.

    With a ``key``, events numbered from ``keyed_from`` on must carry keyed hashes; without
    one, every event is checked by plain SHA-256, as written before keyed hashes.
    """
    breaks: list[ChainBreak] = []
    expected_previous = genesis(chain)
    expected_sequence = 1
    for record in records:
        keyed = key if key is not None and record.sequence >= keyed_from else None
        breaks.extend(
            ChainBreak(record.sequence, reason, chain)
            for reason in _faults(record, expected_sequence, expected_previous, keyed)
        )
        expected_previous = record.hash
        expected_sequence = record.sequence + 1
    return breaks


def _faults(
    record: AuditRecord, expected_sequence: int, expected_previous: str, key: bytes | None
) -> list[str]:
    faults = []
    if record.sequence != expected_sequence:
        faults.append(f"expected event {expected_sequence} next; events are missing or reordered")
    if record.previous_hash != expected_previous:
        faults.append("does not link to the event before it")
    recomputed = event_hash(
        previous_hash=record.previous_hash,
        sequence=record.sequence,
        at=record.at,
        actor=record.actor,
        action=record.action,
        entity=record.entity,
        entity_id=record.entity_id,
        before=record.before,
        after=record.after,
        key=key,
    )
    if not hmac.compare_digest(recomputed, record.hash):
        faults.append(
            "its content was changed after it was written"
            if key is None
            else "its hash does not match its content under the audit key: it was changed, "
            "or written without the key"
        )
    return faults


def verify_log(
    chains: Mapping[str, Sequence[AuditRecord]],
    heads: Mapping[str, KeyedHead],
    seal: Seal | None,
    key: bytes,
) -> list[ChainBreak]:
    """Every break in the whole log: each chain's events, each against its keyed head, and
    the heads against the seal. ``chains`` are the events of each chain in order."""
    if seal is None:
        if not chains and not heads:
            return []
        return [ChainBreak(0, "the log's seal is missing: it was deleted", LOG)]
    if seal.key_id != key_id(key):
        reason = (
            f"the log is written under audit key {seal.key_id}, but the key in use is "
            f"{key_id(key)}: verify with the key it was written with"
        )
        return [ChainBreak(0, reason, LOG)]
    breaks = _seal_faults(seal, len(heads), key)
    for name in sorted(set(chains) | set(heads)):
        breaks.extend(verify_keyed_chain(chains.get(name, ()), heads.get(name), key, name))
    return breaks


def _seal_faults(seal: Seal, heads: int, key: bytes) -> list[ChainBreak]:
    breaks = []
    if not seal.holds(key):
        breaks.append(ChainBreak(0, "the log's seal was changed without the audit key", LOG))
    if seal.chains != heads:
        reason = (
            f"the log's seal counts {seal.chains} chains but {heads} have a keyed head; "
            "whole chains were removed or added"
        )
        breaks.append(ChainBreak(0, reason, LOG))
    return breaks


def verify_keyed_chain(
    records: Sequence[AuditRecord], head: KeyedHead | None, key: bytes, chain: str
) -> list[ChainBreak]:
    """One chain's events checked under the key, and against the head kept beside them."""
    if head is None:
        last = records[-1].sequence if records else 0
        reason = (
            "the chain has no keyed head: it was deleted, or the chain was written before "
            "keyed hashes and not yet adopted ('carepool audit adopt')"
        )
        return [ChainBreak(last, reason, chain)]
    breaks = verify_chain(records, chain, key=key, keyed_from=head.keyed_from)
    if not head.holds(key):
        reason = "its keyed head was changed without the audit key"
        breaks.append(ChainBreak(head.sequence, reason, chain))
    breaks.extend(_head_faults(records, head))
    return breaks


def _head_faults(records: Sequence[AuditRecord], head: KeyedHead) -> list[ChainBreak]:
    last = records[-1].sequence if records else 0
    if last < head.sequence:
        reason = (
            f"the chain ends at event {last} but its keyed head records event "
            f"{head.sequence}; the newest events were removed"
        )
        return [ChainBreak(head.sequence, reason, head.chain)]
    if last > head.sequence:
        reason = (
            f"the chain goes on past event {head.sequence}, where its keyed head is; "
            "events were added without the audit key"
        )
        return [ChainBreak(head.sequence + 1, reason, head.chain)]
    if records and records[-1].hash != head.hash:
        reason = "the newest event is not the one its keyed head records; it was replaced"
        return [ChainBreak(last, reason, head.chain)]
    return []


def verify_checkpoint(records: Sequence[AuditRecord], checkpoint: ChainHead) -> list[ChainBreak]:
    """Whether one chain still holds the head a checkpoint saw, with the same hash.

    ``records`` are the chain's events in order. The keyed head in the database shows the
    newest events removed, except by someone holding the audit key or putting back an older
    copy of the log; a checkpoint kept outside the database shows it even then.
    """
    at = {record.sequence: record for record in records}
    seen = at.get(checkpoint.sequence)
    if seen is None:
        last = records[-1].sequence if records else 0
        reason = (
            f"the chain ends at event {last} but a checkpoint saw event {checkpoint.sequence}; "
            "the newest events were removed"
        )
        return [ChainBreak(checkpoint.sequence, reason, checkpoint.chain)]
    if seen.hash != checkpoint.hash:
        reason = "its hash differs from the checkpoint's; the chain was rewritten"
        return [ChainBreak(checkpoint.sequence, reason, checkpoint.chain)]
    return []
