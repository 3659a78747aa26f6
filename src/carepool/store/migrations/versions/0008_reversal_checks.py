"""PostgreSQL checks an entry's reversed entry per statement; its unique index leaves NULLs out

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 08:00:00.000000

Almost every entry reverses nothing (every spend row), yet on PostgreSQL each one paid for
its ``reverses_id``: a row-by-row foreign key check, queued and run per row even for a NULL,
and an entry in the column's unique index, which holds NULLs too. Together they were about
a seventh of a large spend import's time. So, on PostgreSQL only:

* the unique constraint becomes a partial unique index, ``uq_ledger_entry_reversal``, over
  the entries that do reverse one (it refuses the same things: NULLs never clashed);
* the foreign key is replaced, as the pool's was in 0007, by a statement-level trigger that
  checks (and key-share locks) the entries reversed by all the rows a statement wrote, plus
  a row trigger that refuses to delete or renumber an entry that another reverses.

SQLite's checks are cheap, and its constraint could only change by rebuilding the table, so
SQLite is unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_REVERSAL_KEY = "fk_ledger_entry_reverses_id_ledger_entry"
_UNIQUE = "uq_ledger_entry_reverses_id"
_PARTIAL = "uq_ledger_entry_reversal"  # another name: the models hold both (SQLite, PostgreSQL)

_REVERSAL_CHECK = """
CREATE FUNCTION ledger_entry_reversed_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing record;
BEGIN
    -- Lock the entries the statement's rows reverse, as a foreign key would (once, not per
    -- row); most statements reverse nothing, and this finds so from the rows they wrote.
    PERFORM 1 FROM ledger_entry WHERE id IN
        (SELECT reverses_id FROM written WHERE reverses_id IS NOT NULL) FOR KEY SHARE;
    SELECT w.id, w.reverses_id INTO missing FROM written AS w
        WHERE w.reverses_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ledger_entry AS e WHERE e.id = w.reverses_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % reverses entry %, which does not exist',
            missing.id, missing.reverses_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{key}',
                  TABLE = 'ledger_entry';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_entry_reversed_inserted AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_entry_reversed_exists();
CREATE TRIGGER ledger_entry_reversed_updated AFTER UPDATE ON ledger_entry
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_entry_reversed_exists();
CREATE FUNCTION ledger_entry_keeps_its_reversals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id THEN
            RETURN NEW;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_entry WHERE reverses_id = OLD.id) THEN
        RAISE EXCEPTION 'ledger entry % is reversed by another entry', OLD.id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{key}',
                  TABLE = 'ledger_entry';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_entry_keeps_its_reversals BEFORE DELETE OR UPDATE OF id ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_keeps_its_reversals();
""".replace("{key}", _REVERSAL_KEY)

_REVERSAL_CHECK_DROPPED = """
DROP TRIGGER ledger_entry_keeps_its_reversals ON ledger_entry;
DROP FUNCTION ledger_entry_keeps_its_reversals();
DROP TRIGGER ledger_entry_reversed_updated ON ledger_entry;
DROP TRIGGER ledger_entry_reversed_inserted ON ledger_entry;
DROP FUNCTION ledger_entry_reversed_exists();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(op.f(_REVERSAL_KEY), "ledger_entry", type_="foreignkey")
    op.drop_constraint(op.f(_UNIQUE), "ledger_entry", type_="unique")
    op.create_index(
        op.f(_PARTIAL),
        "ledger_entry",
        ["reverses_id"],
        unique=True,
        postgresql_where=sa.text("reverses_id IS NOT NULL"),
    )
    op.execute(_REVERSAL_CHECK)


def downgrade() -> None:
    """The unique constraint and the foreign key come back; the triggers go."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_REVERSAL_CHECK_DROPPED)
    op.drop_index(op.f(_PARTIAL), table_name="ledger_entry")
    op.create_unique_constraint(op.f(_UNIQUE), "ledger_entry", ["reverses_id"])
    op.create_foreign_key(
        op.f(_REVERSAL_KEY), "ledger_entry", "ledger_entry", ["reverses_id"], ["id"]
    )
