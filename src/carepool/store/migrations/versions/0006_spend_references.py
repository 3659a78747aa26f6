"""spend references on the entries themselves; postings keyed by entry and line

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 03:45:00.000000

A spend row's reference moves from its own table (``spend_line``, one more row, three
foreign-key checks and three index entries per posted row) onto the row's entry, unique per
pool where set. The row's date, scheme and amount were copies of what the entry and its
postings already say, and its file and row are in the entry's ``source``.

Postings lose their own row id: the key is (entry, line), so a posting costs one index entry
instead of two, and SQLite keeps them in that order without a separate row id.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SET = sa.text("reference IS NOT NULL")


def upgrade() -> None:
    op.add_column("ledger_entry", sa.Column("reference", sa.String(length=100), nullable=True))
    op.execute(
        "UPDATE ledger_entry SET reference = (SELECT l.reference FROM spend_line AS l "
        "WHERE l.entry_id = ledger_entry.id) "
        "WHERE id IN (SELECT entry_id FROM spend_line)"
    )
    op.create_index(
        "uq_ledger_entry_pool_reference",
        "ledger_entry",
        ["pool_id", "reference"],
        unique=True,
        sqlite_where=_SET,
        postgresql_where=_SET,
    )
    op.drop_index("ix_spend_line_import_id", table_name="spend_line")
    op.drop_table("spend_line")
    _rebuild_postings(keyed=True)


def _rebuild_postings(*, keyed: bool) -> None:
    """Copy the postings into a table of the other shape, then put it in the old one's place.

    Nothing refers to postings, so the old table can go; the new one gets the old one's
    constraint names (on PostgreSQL, after the old ones are renamed out of the way).
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE ledger_posting "
            "RENAME CONSTRAINT pk_ledger_posting TO pk_ledger_posting_old"
        )
    if keyed:
        op.create_table(
            "ledger_posting_new",
            sa.Column("entry_id", sa.Integer(), nullable=False),
            sa.Column("line", sa.Integer(), autoincrement=False, nullable=False),
            *_leg(),
            sa.PrimaryKeyConstraint("entry_id", "line", name="pk_ledger_posting"),
            sqlite_with_rowid=False,
        )
        op.execute(
            "INSERT INTO ledger_posting_new (entry_id, line, account, amount_pence, memo) "
            "SELECT entry_id, row_number() OVER (PARTITION BY entry_id ORDER BY id) - 1, "
            "account, amount_pence, memo FROM ledger_posting ORDER BY entry_id, id"
        )
        op.drop_index("ix_ledger_posting_entry_id", table_name="ledger_posting")
    else:
        op.create_table(
            "ledger_posting_new",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("entry_id", sa.Integer(), nullable=False),
            *_leg(),
            sa.PrimaryKeyConstraint("id", name="pk_ledger_posting"),
        )
        op.execute(
            "INSERT INTO ledger_posting_new (entry_id, account, amount_pence, memo) "
            "SELECT entry_id, account, amount_pence, memo FROM ledger_posting "
            "ORDER BY entry_id, line"
        )
    op.drop_table("ledger_posting")
    op.rename_table("ledger_posting_new", "ledger_posting")
    if not keyed:
        op.create_index("ix_ledger_posting_entry_id", "ledger_posting", ["entry_id"])


def _leg() -> tuple[sa.Column[Any] | sa.ForeignKeyConstraint, ...]:
    """What every posting has besides its key (new objects each time: a table owns them)."""
    return (
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entry.id"], name="fk_ledger_posting_entry_id_ledger_entry"
        ),
    )


def downgrade() -> None:
    """Back to ``spend_line``, which only a database with no posted spend rows can do.

    The old table held each row's import and row number as columns; rebuilding them from
    the entries' ``source`` is not worth the risk of getting a ledger wrong, so a database
    with posted spend is left as it is and the downgrade refuses.
    """
    posted = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM ledger_entry WHERE reference IS NOT NULL")
    )
    if posted:
        raise RuntimeError(
            f"{posted} posted spend rows would lose their references: restore a backup "
            "taken before revision 0006 instead of downgrading"
        )
    op.create_table(
        "spend_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("spend_date", sa.Date(), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entry.id"], name=op.f("fk_spend_line_entry_id_ledger_entry")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["spend_import.id"], name=op.f("fk_spend_line_import_id_spend_import")
        ),
        sa.ForeignKeyConstraint(["pool_id"], ["pool.id"], name=op.f("fk_spend_line_pool_id_pool")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend_line")),
        sa.UniqueConstraint("pool_id", "reference", name="uq_spend_line_pool_reference"),
    )
    op.create_index("ix_spend_line_import_id", "spend_line", ["import_id"], unique=False)
    _rebuild_postings(keyed=False)
    op.drop_index("uq_ledger_entry_pool_reference", table_name="ledger_entry")
    # Plain ALTER on both engines: SQLite's batch mode would copy ledger_entry and drop the
    # old table, which the postings' foreign keys refuse once there are any.
    op.execute("ALTER TABLE ledger_entry DROP COLUMN reference")
