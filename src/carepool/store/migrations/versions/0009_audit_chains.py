"""The audit log becomes one chain per pool, per plan and a national one; checkpoints anchor heads

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:00:00.000000

Every audited write in every pool used to queue behind one lock to extend one chain. Each
event now names its ``chain``, and its ``sequence`` counts within that chain, so the primary
key becomes (chain, sequence). The events already written stay, unchanged and with the same
hashes, as the national chain.

``audit_checkpoint`` keeps the head of each chain as ``carepool audit checkpoint`` saw it, so
that ``carepool audit verify`` can tell when the newest events were removed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as table:
        table.add_column(
            sa.Column("chain", sa.String(length=120), nullable=False, server_default="national")
        )
    with op.batch_alter_table("audit_event") as table:
        table.alter_column("chain", server_default=None)
        table.drop_constraint(op.f("pk_audit_event"), type_="primary")
        table.create_primary_key(op.f("pk_audit_event"), ["chain", "sequence"])
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chain", sa.String(length=120), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
    )
    op.create_index(op.f("ix_audit_checkpoint_chain"), "audit_checkpoint", ["chain"])


def downgrade() -> None:
    """Refused while any event is on a chain other than the national one.

    One chain could take them back only by renumbering and rehashing every event, which is
    exactly what the log must never allow.
    """
    others = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM audit_event WHERE chain <> 'national'")
    )
    if others:
        raise RuntimeError(
            f"{others} audit events are on pool or plan chains; one chain cannot hold them "
            "without rewriting their hashes"
        )
    op.drop_index(op.f("ix_audit_checkpoint_chain"), table_name="audit_checkpoint")
    op.drop_table("audit_checkpoint")
    with op.batch_alter_table("audit_event") as table:
        table.drop_constraint(op.f("pk_audit_event"), type_="primary")
        table.create_primary_key(op.f("pk_audit_event"), ["sequence"])
    with op.batch_alter_table("audit_event") as table:
        table.drop_column("chain")
