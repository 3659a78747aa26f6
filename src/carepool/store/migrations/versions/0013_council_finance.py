"""Councils' adult social care finance returns and GDP deflators, for the substitution check

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:40:00.000000

One row per council and year holds the figures of NHS Digital's published return (cash
pence, null where unavailable), with the return's basis; the deflators are HM Treasury's
index as the exact published decimal text, so real terms are computed without a float.

They replace ``council_spend``, the one-figure-a-year file the earlier check read: its
figures were cash, with no basis and no NHS income, and are dropped with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("council_spend")
    op.create_table(
        "council_finance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_code", sa.String(length=9), nullable=False),
        sa.Column("financial_year", sa.String(length=7), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.Column("published_name", sa.String(length=200), nullable=False),
        sa.Column("dh_code", sa.String(length=10), nullable=False),
        sa.Column("gross_current_expenditure_pence", sa.BigInteger(), nullable=True),
        sa.Column("nhs_income_pence", sa.BigInteger(), nullable=True),
        sa.Column("joint_arrangements_income_pence", sa.BigInteger(), nullable=True),
        sa.Column("bcf_income_pence", sa.BigInteger(), nullable=True),
        sa.Column("bridging_expenditure_pence", sa.BigInteger(), nullable=True),
        sa.Column("bridging_income_pence", sa.BigInteger(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_finance")),
        sa.UniqueConstraint("council_code", "financial_year", name="uq_council_finance_year"),
    )
    op.create_index(
        op.f("ix_council_finance_financial_year"), "council_finance", ["financial_year"]
    )
    op.create_table(
        "gdp_deflator",
        sa.Column("financial_year", sa.String(length=7), nullable=False),
        sa.Column("index_value", sa.String(length=20), nullable=False),
        sa.Column("reference_year", sa.String(length=7), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("financial_year", name=op.f("pk_gdp_deflator")),
    )


def downgrade() -> None:
    op.drop_table("gdp_deflator")
    op.drop_index(op.f("ix_council_finance_financial_year"), table_name="council_finance")
    op.drop_table("council_finance")
    op.create_table(
        "council_spend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=9), nullable=False),
        sa.Column("financial_year", sa.String(length=7), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_spend")),
        sa.UniqueConstraint("area_code", "financial_year", name="uq_council_spend_area_year"),
    )
