"""Payment runs: a quarter's payment for performance, its lines and its timeline; revised
ambitions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:43:58.474557

Each run keeps the inputs that make it explainable: the framework file's hash, the design and
its parameters, and the data vintage of the metric values read; each line the plan version
(or the approved revision of its ambition) and metric definition version behind it, and its
working. A revised ambition is kept with its approvals, never overwritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ambition_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.String(length=10), nullable=False),
        sa.Column("area_code", sa.String(length=9), nullable=False),
        sa.Column("metric", sa.String(length=60), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.String(length=40), nullable=False),
        sa.Column("quarters", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("approvals", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.String(length=120), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ambition_revision")),
    )
    with op.batch_alter_table("ambition_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ambition_revision_area_code"), ["area_code"], unique=False
        )

    op.create_table(
        "payment_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.String(length=10), nullable=False),
        sa.Column("quarter", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("design_kind", sa.String(length=40), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("framework_sha256", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=60), nullable=False),
        sa.Column("data_vintage", sa.String(length=120), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("trues_up_id", sa.Integer(), nullable=True),
        sa.Column("correlation", sa.String(length=80), nullable=False),
        sa.Column("drafted_by", sa.String(length=120), nullable=False),
        sa.Column("checked_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trues_up_id"], ["payment_run.id"], name=op.f("fk_payment_run_trues_up_id_payment_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_run")),
        sa.UniqueConstraint("year", "quarter", "version", name="uq_payment_run_version"),
    )
    op.create_table(
        "payment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payment_run.id"], name=op.f("fk_payment_event_run_id_payment_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_event")),
    )
    with op.batch_alter_table("payment_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_event_run_id"), ["run_id"], unique=False)

    op.create_table(
        "payment_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=9), nullable=False),
        sa.Column("baseline", sa.String(length=40), nullable=False),
        sa.Column("plan", sa.String(length=40), nullable=False),
        sa.Column("actual", sa.String(length=40), nullable=True),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("ambition_revision_id", sa.Integer(), nullable=True),
        sa.Column("metric_definition_version", sa.Integer(), nullable=True),
        sa.Column("unit_cost_pence", sa.BigInteger(), nullable=False),
        sa.Column("pot_pence", sa.BigInteger(), nullable=False),
        sa.Column("earned_pence", sa.BigInteger(), nullable=False),
        sa.Column("released_pence", sa.BigInteger(), nullable=False),
        sa.Column("retained_pence", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("working", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ambition_revision_id"],
            ["ambition_revision.id"],
            name=op.f("fk_payment_line_ambition_revision_id_ambition_revision"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payment_run.id"], name=op.f("fk_payment_line_run_id_payment_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_line")),
        sa.UniqueConstraint("run_id", "area_code", name="uq_payment_line_area"),
    )
    with op.batch_alter_table("payment_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_line_area_code"), ["area_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_line_area_code"))

    op.drop_table("payment_line")
    with op.batch_alter_table("payment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_event_run_id"))

    op.drop_table("payment_event")
    op.drop_table("payment_run")
    with op.batch_alter_table("ambition_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ambition_revision_area_code"))

    op.drop_table("ambition_revision")
