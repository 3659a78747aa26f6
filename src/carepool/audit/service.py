"""Reading the audit log: the newest events, checking the chains (``carepool audit verify``),
anchoring their heads (``carepool audit checkpoint``) and taking in chains written before keyed
hashes (``carepool audit adopt``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.audit.repository import AuditEventRow
from carepool.config import audit_key
from carepool.domain.audit import (
    LOG,
    AuditRecord,
    ChainBreak,
    ChainHead,
    KeyedHead,
    check_key,
    verify_chain,
    verify_checkpoint,
    verify_log,
)
from carepool.domain.errors import CarepoolError, Problem


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
    """Check every chain under the audit key, against its keyed head and the log's seal, and
    that each still holds the heads its checkpoints saw.

    ``kept`` are checkpoints the operator kept outside the database (``--checkpoint FILE``);
    those stored in the database are always compared too.
    """
    chains = _chains(session)
    breaks = verify_log(chains, audit.keyed_heads(session), audit.seal(session), _key())
    if not chains:
        breaks.extend(_emptied(session))
    anchors = [*audit.checkpoints(session), *kept]
    for anchor in sorted(set(anchors), key=lambda h: (h.chain, h.sequence, h.hash)):
        breaks.extend(verify_checkpoint(chains.get(anchor.chain, []), anchor))
    heads = tuple(ChainHead(name, rs[-1].sequence, rs[-1].hash) for name, rs in chains.items())
    events = sum(len(records) for records in chains.values())
    return Verification(events, heads, len(set(anchors)), tuple(breaks))


def _key() -> bytes:
    return check_key(audit_key())


def _chains(session: Session) -> dict[str, list[AuditRecord]]:
    return {
        name: list(records) for name, records in groupby(audit.chains(session), lambda r: r.chain)
    }


def _emptied(session: Session) -> list[ChainBreak]:
    """An empty log beside rows that were each written with an event was emptied, even if
    its heads and seal went with it."""
    tables = audit.audited_rows(session)
    if not tables:
        return []
    reason = f"the log has no events, but {', '.join(tables)} hold rows; the log was emptied"
    return [ChainBreak(0, reason, LOG)]


def adopt(session: Session) -> list[KeyedHead]:
    """Take the chains written before keyed hashes under the audit key, once each is checked.

    Each chain with events and no keyed head must verify by plain SHA-256 as it stands; it
    then gets a keyed head at its latest event, and its later events are keyed. A chain that
    does not verify is refused with its breaks, and nothing is adopted.
    """
    key = audit.log_key(session)
    held = audit.keyed_heads(session)
    unadopted = {name: rs for name, rs in _chains(session).items() if name not in held}
    breaks = [b for name, rs in unadopted.items() for b in verify_chain(rs, name)]
    if breaks:
        raise CarepoolError(
            "chains written before keyed hashes do not verify, so none was adopted",
            [Problem(f"chain {b.chain}, event {b.sequence}: {b.reason}") for b in breaks],
        )
    taken = [
        KeyedHead(name, rs[-1].sequence, rs[-1].hash, keyed_from=rs[-1].sequence + 1)
        for name, rs in unadopted.items()
    ]
    audit.adopt(session, taken, key)
    return taken


def change_stamp(session: Session) -> int:
    """A number that moves whenever the programme's data changes, for caches to key on.

    Every write to an audited table records an event in the same unit of work (the unit of
    work refuses one that does not), so a result worked out from those tables stays true
    until another event is recorded.
    """
    return audit.events_recorded(session)


T = TypeVar("T")
_KEPT = 8
"""How many results of each kind are kept: a few databases and years (tests, the demo); a
change makes the older stamps' results unreachable, so they are dropped in bulk."""
_RESULTS: dict[str, dict[tuple[str, int, Hashable, int], object]] = {}


def until_changed(session: Session, kind: str, key: Hashable, work: Callable[[], T]) -> T:
    """``work()``'s result, reused while nothing audited changes (:func:`change_stamp`).

    For pages that read the whole nation (every pool's position, every area's payments):
    worked out afresh, each request would repeat the same reading of an unchanged nation.
    ``kind`` names the result, ``key`` what it depends on besides the data (a year, a day);
    the engine (its address and identity) is part of the key, so two databases, even two
    in memory, never share a result.
    Only results built from audited tables may be kept this way.
    """
    stamp = change_stamp(session)
    kept = _RESULTS.setdefault(kind, {})
    engine = session.get_bind().engine
    full = (str(engine.url), id(engine), key, stamp)
    found = kept.get(full)
    if found is None:
        found = work()
        if len(kept) >= _KEPT:
            kept.clear()
        kept[full] = found  # another request may clear the dict meanwhile: return our own
    return cast(T, found)


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
