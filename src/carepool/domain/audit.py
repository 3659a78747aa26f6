"""The audit chains: every change is an event whose hash covers the one before it.

The inbox was the only audit trail of the 2014 plans (NAO). carepool keeps an append-only log
of who changed what, when, with the before and after; each event's hash covers its content
and the previous event's hash, so editing or deleting any stored event breaks the chain at
that point and ``carepool audit verify`` says where.

The log is several chains, not one: each pool and each plan has its own, and everything else
(allocations, accounts, imported vintages) is on the national chain. Writers in different
chains never wait for each other, and each chain is checked on its own. A chain's first event
links to a genesis hash made from the chain's name, so an event moved into another chain
breaks both.

A chain cannot show that its newest events were removed: what is left still links up. So the
head of each chain is anchored by a checkpoint (its latest sequence and hash, kept in the
database and by the operator elsewhere), and a chain that no longer reaches a checkpoint, or
reaches it with another hash, is a break.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
"""The hash the first event of the national chain links to."""

NATIONAL = "national"
"""The chain of every change that belongs to no pool or plan."""


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
) -> str:
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
    return hashlib.sha256((previous_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    sequence: int
    reason: str
    chain: str = NATIONAL


def verify_chain(records: Iterable[AuditRecord], chain: str = NATIONAL) -> list[ChainBreak]:
    """Every place one chain does not hold, in order; an empty list means it is intact."""
    breaks: list[ChainBreak] = []
    expected_previous = genesis(chain)
    expected_sequence = 1
    for record in records:
        breaks.extend(
            ChainBreak(record.sequence, reason, chain)
            for reason in _faults(record, expected_sequence, expected_previous)
        )
        expected_previous = record.hash
        expected_sequence = record.sequence + 1
    return breaks


def _faults(record: AuditRecord, expected_sequence: int, expected_previous: str) -> list[str]:
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
    )
    if recomputed != record.hash:
        faults.append("its content was changed after it was written")
    return faults


def verify_checkpoint(records: Sequence[AuditRecord], checkpoint: ChainHead) -> list[ChainBreak]:
    """Whether one chain still holds the head a checkpoint saw, with the same hash.

    ``records`` are the chain's events in order. Removing the newest events leaves a chain
    that links up, so only the checkpoint can show it.
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
