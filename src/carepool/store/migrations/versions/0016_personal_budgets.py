"""Integrated personal budgets: budgets, support plans, status history and transactions

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 21:30:00.000000

Each budget belongs to one area's pool (its sub-ledger is posted there); the person is held
only as a keyed pseudonym. Transactions files are recorded by SHA-256 so none is imported
twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_budget",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("area_code", sa.String(length=9), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("eligibility", sa.String(length=40), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=False),
        sa.Column("total_pence", sa.BigInteger(), nullable=False),
        sa.Column("nhs_pence", sa.BigInteger(), nullable=False),
        sa.Column("council_pence", sa.BigInteger(), nullable=False),
        sa.Column("nhs_holding", sa.String(length=20), nullable=True),
        sa.Column("council_holding", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("spent_pence", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "nhs_pence + council_pence = total_pence", name=op.f("ck_personal_budget_parts_add_up")
        ),
        sa.CheckConstraint(
            "nhs_pence >= 0 AND council_pence >= 0",
            name=op.f("ck_personal_budget_parts_not_negative"),
        ),
        sa.CheckConstraint("ends >= starts", name=op.f("ck_personal_budget_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pool.id"], name=op.f("fk_personal_budget_pool_id_pool")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_budget")),
        sa.UniqueConstraint("reference", name="uq_personal_budget_reference"),
    )
    op.create_index("ix_personal_budget_area_starts", "personal_budget", ["area_code", "starts"])
    op.create_index(op.f("ix_personal_budget_person"), "personal_budget", ["person"])
    op.create_index(op.f("ix_personal_budget_pool_id"), "personal_budget", ["pool_id"])
    op.create_table(
        "budget_plan_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("cost_pence", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["budget_id"],
            ["personal_budget.id"],
            name=op.f("fk_budget_plan_line_budget_id_personal_budget"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_plan_line")),
        sa.UniqueConstraint("budget_id", "line", name="uq_budget_plan_line_line"),
    )
    op.create_table(
        "budget_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["budget_id"],
            ["personal_budget.id"],
            name=op.f("fk_budget_status_budget_id_personal_budget"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_status")),
    )
    op.create_index(op.f("ix_budget_status_budget_id"), "budget_status", ["budget_id"])
    op.create_table(
        "budget_transaction_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("spend_pence", sa.BigInteger(), nullable=False),
        sa.Column("recovered_pence", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_transaction_import")),
        sa.UniqueConstraint("sha256", name="uq_budget_transaction_import_sha256"),
    )
    op.create_table(
        "budget_transaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("part", sa.String(length=10), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_budget_transaction_amount_positive")),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["budget_transaction_import.id"],
            name=op.f("fk_budget_transaction_import_id_budget_transaction_import"),
        ),
        sa.ForeignKeyConstraint(
            ["budget_id"],
            ["personal_budget.id"],
            name=op.f("fk_budget_transaction_budget_id_personal_budget"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_transaction")),
    )
    op.create_index(
        "ix_budget_transaction_budget_date", "budget_transaction", ["budget_id", "date"]
    )
    op.create_index(op.f("ix_budget_transaction_import_id"), "budget_transaction", ["import_id"])


def downgrade() -> None:
    op.drop_table("budget_transaction")
    op.drop_table("budget_transaction_import")
    op.drop_table("budget_status")
    op.drop_table("budget_plan_line")
    op.drop_table("personal_budget")
