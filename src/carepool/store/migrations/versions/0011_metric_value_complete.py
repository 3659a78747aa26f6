"""A metric value says whether its period is complete

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:00:00.000000

A quarter or year is complete only when the data cover every month it takes; a "2016-17"
worked out from April 2016 alone is April's figure, not the year's, and is stored with
``complete`` false so that no page shows it as the year's. Values stored before this
revision were computed from whole years of data, so they are marked complete; computing a
vintage again replaces them with values that say for themselves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metric_value") as table:
        table.add_column(
            sa.Column("complete", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("metric_value") as table:
        table.alter_column("complete", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("metric_value") as table:
        table.drop_column("complete")
