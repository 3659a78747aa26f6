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
    """Check that no audit event was edited, removed or reordered."""
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
            err.print(f"[red]Audit event {b.sequence} of chain {b.chain}:[/red] {b.reason}")
        raise typer.Exit(1)
    if not as_json:
        err.print(
            f"Audit chain intact: {found.events:,} events in {len(found.heads):,} chains, "
            f"{found.checkpoints:,} checkpoints held"
        )


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
