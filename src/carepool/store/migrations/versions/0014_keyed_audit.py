"""The audit log's hashes are keyed, and its heads are kept under the key

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:30:00.000000

An unkeyed hash can be recomputed by anyone who edits an event, and a chain cannot show that
its newest events, or all of them, were removed. New events are hashed with HMAC-SHA256 under
the audit key, kept outside the database (``carepool.config.audit_key``); ``audit_head`` keeps
each chain's latest sequence and hash under the key, and ``audit_seal`` the number of chains.

The events already written keep their plain SHA-256 hashes. Their chains have no keyed head
until ``carepool audit adopt`` checks them and takes them in; until then ``audit verify``
reports them and no event can be added to them. That is a step the operator takes once, on
purpose: were it done here, anyone able to make a database look older than this revision
could have a rewritten log taken in by the next upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from carepool.config import audit_key
from carepool.domain.audit import check_key, new_seal

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("chain", sa.String(length=120), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("keyed_from", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_head")),
    )
    seal_table = op.create_table(
        "audit_seal",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chains", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seal")),
    )
    seal = new_seal(check_key(audit_key()))
    op.bulk_insert(seal_table, [{"id": 1, "chains": 0, "key_id": seal.key_id, "mac": seal.mac}])


def downgrade() -> None:
    """Refused while any event has a keyed hash: the revision before would find it changed."""
    keyed = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM audit_head WHERE sequence >= keyed_from")
    )
    if keyed:
        raise RuntimeError(
            f"{keyed} audit chains hold events with keyed hashes, which revision 0012 cannot verify"
        )
    op.drop_table("audit_seal")
    op.drop_table("audit_head")
