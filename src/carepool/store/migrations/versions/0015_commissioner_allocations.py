"""Commissioners' allocations, the NHS side of the pooling tracker's money in scope

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:30:00.000000

One row per clinical commissioning group and financial year: its allocation in pence, from
an imported table (or the demo, marked synthetic), replaced whole year by year.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commissioner_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("financial_year", sa.String(length=7), nullable=False),
        sa.Column("commissioner_code", sa.String(length=9), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commissioner_allocation")),
        sa.UniqueConstraint(
            "financial_year", "commissioner_code", name="uq_commissioner_allocation_year"
        ),
    )
    op.create_index(
        op.f("ix_commissioner_allocation_financial_year"),
        "commissioner_allocation",
        ["financial_year"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_commissioner_allocation_financial_year"), table_name="commissioner_allocation"
    )
    op.drop_table("commissioner_allocation")
