"""The audit chain: every change is an event whose hash covers the one before it.

The inbox was the only audit trail of the 2014 plans (NAO). carepool keeps an append-only log
of who changed what, when, with the before and after; each event's hash covers its content
and the previous event's hash, so editing or deleting any stored event breaks the chain at
that point and ``carepool audit verify`` says where.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
"""The hash the first event links to."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One stored audit event, as the chain sees it."""

    sequence: int
    at: str  # ISO 8601 UTC timestamp
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    previous_hash: str
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


def verify_chain(records: Iterable[AuditRecord]) -> list[ChainBreak]:
    """Every place the chain does not hold, in order; an empty list means it is intact."""
    breaks: list[ChainBreak] = []
    expected_previous = GENESIS
    expected_sequence = 1
    for record in records:
        if record.sequence != expected_sequence:
            breaks.append(
                ChainBreak(
                    record.sequence,
                    f"expected event {expected_sequence} next; events are missing or reordered",
                )
            )
        if record.previous_hash != expected_previous:
            breaks.append(ChainBreak(record.sequence, "does not link to the event before it"))
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
            breaks.append(
                ChainBreak(record.sequence, "its content was changed after it was written")
            )
        expected_previous = record.hash
        expected_sequence = record.sequence + 1
    return breaks
