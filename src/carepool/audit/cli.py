"""``carepool audit``: verifying the hash chains and anchoring their heads with checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carepool.audit import service as audit_log
from carepool.audit.service import checkpoint_document, read_checkpoint
from carepool.cli.common import (
    JsonFlag,
    emit,
    err,
    work,
)
from carepool.domain.audit import LOG, ChainBreak

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


CheckpointFile = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        help="Also compare against a checkpoint file kept outside the database.",
        exists=True,
        dir_okay=False,
    ),
]


@audit_app.command("verify")
def audit_verify(as_json: JsonFlag = False, checkpoint: CheckpointFile = None) -> None:
    """Check that no audit event was edited, removed, added or reordered."""
    kept = read_checkpoint(checkpoint) if checkpoint else []
    with work() as session:
        found = audit_log.check(session, kept)
    if as_json:
        emit(
            {
                "events": found.events,
                "ok": not found.breaks,
                "breaks": [
                    {"sequence": b.sequence, "reason": b.reason, "chain": b.chain}
                    for b in found.breaks
                ],
                "chains": [
                    {"chain": h.chain, "events": h.sequence, "head": h.hash} for h in found.heads
                ],
                "checkpoints": found.checkpoints,
            }
        )
    if found.breaks:
        for b in found.breaks:
            err.print(f"[red]{_where(b)}:[/red] {b.reason}")
        raise typer.Exit(1)
    if not as_json:
        err.print(
            f"Audit chain intact: {found.events:,} events in {len(found.heads):,} chains, "
            f"{found.checkpoints:,} checkpoints held"
        )


def _where(found: ChainBreak) -> str:
    if found.chain == LOG:
        return "The audit log"
    return f"Audit event {found.sequence} of chain {found.chain}"


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Record each chain's latest event, and print it as JSON to keep outside the database.

    ``audit verify`` compares the chains against every stored checkpoint, and against a kept
    file given with ``--checkpoint``, so removing the newest events is found.
    """
    with work() as session:
        taken = audit_log.checkpoint(session)
    emit(checkpoint_document(taken))
    err.print(f"Checkpoint of {len(taken):,} chains taken")


@audit_app.command("adopt")
def audit_adopt(as_json: JsonFlag = False) -> None:
    """Take chains written before keyed hashes under the audit key, once, after upgrading.

    Each such chain must verify as it stands; it then gets a keyed head and later events are
    keyed. Run it once: a chain that loses its keyed head later is a break to investigate, not
    one to adopt again (docs/developer-guide.md, Security properties).
    """
    with work() as session:
        taken = audit_log.adopt(session)
    if as_json:
        emit({"adopted": [{"chain": h.chain, "events": h.sequence} for h in taken]})
    err.print(f"Adopted {len(taken):,} chains of {sum(h.sequence for h in taken):,} events")
