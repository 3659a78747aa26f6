"""Reading the audit log: the newest events, checking the chains (``carepool audit verify``)
and anchoring their heads (``carepool audit checkpoint``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.audit.repository import AuditEventRow
from carepool.domain.audit import (
    AuditRecord,
    ChainBreak,
    ChainHead,
    verify_chain,
    verify_checkpoint,
)
from carepool.domain.errors import CarepoolError


@dataclass(frozen=True, slots=True)
class Verification:
    """What ``carepool audit verify`` found: the events, each chain's head and every break."""

    events: int
    heads: tuple[ChainHead, ...]
    checkpoints: int
    breaks: tuple[ChainBreak, ...]


def verify(session: Session) -> tuple[int, list[ChainBreak]]:
    """How many events there are, and every break in their chains or against a checkpoint."""
    found = check(session)
    return found.events, list(found.breaks)


def check(session: Session, kept: Iterable[ChainHead] = ()) -> Verification:
    """Check every chain, and that each still holds the heads its checkpoints saw.

    ``kept`` are checkpoints the operator kept outside the database (``--checkpoint FILE``);
    those stored in the database are always compared too.
    """
    chains: dict[str, list[AuditRecord]] = {
        name: list(records) for name, records in groupby(audit.chains(session), lambda r: r.chain)
    }
    breaks = [b for name, records in chains.items() for b in verify_chain(records, name)]
    anchors = [*audit.checkpoints(session), *kept]
    for anchor in sorted(set(anchors), key=lambda h: (h.chain, h.sequence, h.hash)):
        breaks.extend(verify_checkpoint(chains.get(anchor.chain, []), anchor))
    heads = tuple(ChainHead(name, rs[-1].sequence, rs[-1].hash) for name, rs in chains.items())
    events = sum(len(records) for records in chains.values())
    return Verification(events, heads, len(set(anchors)), tuple(breaks))


def checkpoint(session: Session) -> list[ChainHead]:
    """Store each chain's head as a checkpoint, and return them for the operator to keep."""
    taken = audit.heads(session)
    audit.add_checkpoints(session, taken, dt.datetime.now(dt.UTC))
    return taken


def checkpoint_document(taken: Iterable[ChainHead]) -> dict[str, Any]:
    """The checkpoint as the operator keeps it (docs/formats.md, ``audit checkpoint``)."""
    return {"chains": [{"chain": h.chain, "sequence": h.sequence, "hash": h.hash} for h in taken]}


def read_checkpoint(path: Path) -> list[ChainHead]:
    """The heads in a kept checkpoint file; a file that is not one is a user error."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [
            ChainHead(str(c["chain"]), int(c["sequence"]), str(c["hash"]))
            for c in document["chains"]
        ]
    except (ValueError, KeyError, TypeError) as error:
        raise CarepoolError(
            f"{path.name} is not a checkpoint written by 'carepool audit checkpoint'"
        ) from error


def recent(session: Session, limit: int = 50) -> list[AuditEventRow]:
    """The newest events, newest first, for the national team's pages."""
    return audit.recent(session, limit)
