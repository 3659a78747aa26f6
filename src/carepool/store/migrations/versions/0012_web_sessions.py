"""Signed-in sessions are recorded so that signing out ends them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:30:00.000000

A session cookie names a random id whose SHA-256 is kept here; the service honours the cookie
only while the row is not revoked. Signing out, a password change and deactivating an account
revoke rows, so a copied cookie stops working at once rather than when it expires.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id_sha256", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id_sha256", name=op.f("pk_web_session")),
    )
    op.create_index(op.f("ix_web_session_username"), "web_session", ["username"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_session_username"), table_name="web_session")
    op.drop_table("web_session")
