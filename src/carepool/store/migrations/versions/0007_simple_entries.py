"""simple entries keep both legs on their own row; PostgreSQL checks an entry's pool per statement

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 06:30:00.000000

An entry of two legs, one the other's opposite (every spend row, receipt and most
reversals), now keeps them on its own row, so posting a spend row writes one row instead of
three. Entries already stored in that shape are moved across and their posting rows removed;
compound entries keep their postings. A check constraint keeps the five leg columns all set
or all empty.

On PostgreSQL the entry's foreign key to its pool is replaced by a statement-level trigger
that checks (and key-share locks) the pools named by all the rows a statement wrote, plus a
row trigger on ``pool`` that refuses to delete or renumber a pool with entries. PostgreSQL
checks a foreign key row by row, which cost about a third of a large spend import's time;
SQLite's check is cheap, so SQLite keeps its key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_CHECK = "ck_ledger_entry_simple_legs"
_LEGS = (
    "(leg_account IS NULL AND leg_pence IS NULL AND leg_memo IS NULL "
    "AND contra_account IS NULL AND contra_memo IS NULL) OR "
    "(leg_account IS NOT NULL AND leg_pence IS NOT NULL AND leg_memo IS NOT NULL "
    "AND contra_account IS NOT NULL AND contra_memo IS NOT NULL)"
)
_POOL_KEY = "fk_ledger_entry_pool_id_pool"

_POOL_CHECK = """
CREATE FUNCTION ledger_entry_pool_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing record;
BEGIN
    -- Lock the pools the statement's rows name, as a foreign key would (once, not per row).
    PERFORM 1 FROM pool WHERE id IN (SELECT DISTINCT pool_id FROM written) FOR KEY SHARE;
    SELECT w.id, w.pool_id INTO missing FROM written AS w
        WHERE NOT EXISTS (SELECT 1 FROM pool WHERE pool.id = w.pool_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % names pool %, which does not exist',
            missing.id, missing.pool_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{key}',
                  TABLE = 'ledger_entry';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_entry_pool_inserted AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_entry_pool_exists();
CREATE TRIGGER ledger_entry_pool_updated AFTER UPDATE ON ledger_entry
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_entry_pool_exists();
CREATE FUNCTION pool_keeps_its_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id THEN
            RETURN NEW;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_entry WHERE pool_id = OLD.id) THEN
        RAISE EXCEPTION 'pool % has ledger entries', OLD.id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{key}',
                  TABLE = 'pool';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pool_keeps_its_entries BEFORE DELETE OR UPDATE ON pool
    FOR EACH ROW EXECUTE FUNCTION pool_keeps_its_entries();
""".replace("{key}", _POOL_KEY)

_POOL_CHECK_DROPPED = """
DROP TRIGGER pool_keeps_its_entries ON pool;
DROP FUNCTION pool_keeps_its_entries();
DROP TRIGGER ledger_entry_pool_updated ON ledger_entry;
DROP TRIGGER ledger_entry_pool_inserted ON ledger_entry;
DROP FUNCTION ledger_entry_pool_exists();
"""

_SIMPLE = (
    "SELECT entry_id FROM ledger_posting GROUP BY entry_id "
    "HAVING count(*) = 2 AND min(line) = 0 AND max(line) = 1 AND sum(amount_pence) = 0"
)


def _leg(line: int, column: str) -> str:
    return (
        f"(SELECT p.{column} FROM ledger_posting AS p "
        f"WHERE p.entry_id = ledger_entry.id AND p.line = {line})"
    )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column("ledger_entry", sa.Column("leg_account", sa.String(length=200), nullable=True))
    op.add_column("ledger_entry", sa.Column("leg_pence", sa.BigInteger(), nullable=True))
    op.add_column("ledger_entry", sa.Column("leg_memo", sa.String(length=300), nullable=True))
    op.add_column("ledger_entry", sa.Column("contra_account", sa.String(length=200), nullable=True))
    if postgresql:
        op.add_column(
            "ledger_entry", sa.Column("contra_memo", sa.String(length=300), nullable=True)
        )
        op.create_check_constraint(op.f(_CHECK), "ledger_entry", sa.text(_LEGS))
    else:  # SQLite adds a check only with a column
        op.execute(
            "ALTER TABLE ledger_entry ADD COLUMN contra_memo VARCHAR(300) "
            f"CONSTRAINT {_CHECK} CHECK ({_LEGS})"
        )
    op.execute(
        f"UPDATE ledger_entry SET leg_account = {_leg(0, 'account')}, "
        f"leg_pence = {_leg(0, 'amount_pence')}, leg_memo = {_leg(0, 'memo')}, "
        f"contra_account = {_leg(1, 'account')}, contra_memo = {_leg(1, 'memo')} "
        f"WHERE id IN ({_SIMPLE})"
    )
    op.execute(
        "DELETE FROM ledger_posting WHERE entry_id IN "
        "(SELECT id FROM ledger_entry WHERE leg_account IS NOT NULL)"
    )
    if postgresql:
        op.drop_constraint(op.f(_POOL_KEY), "ledger_entry", type_="foreignkey")
        op.execute(_POOL_CHECK)


def downgrade() -> None:
    """Every simple entry's legs back into posting rows, then the columns go."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(_POOL_CHECK_DROPPED)
        op.create_foreign_key(op.f(_POOL_KEY), "ledger_entry", "pool", ["pool_id"], ["id"])
    op.execute(
        "INSERT INTO ledger_posting (entry_id, line, account, amount_pence, memo) "
        "SELECT id, 0, leg_account, leg_pence, leg_memo FROM ledger_entry "
        "WHERE leg_account IS NOT NULL "
        "UNION ALL SELECT id, 1, contra_account, -leg_pence, contra_memo FROM ledger_entry "
        "WHERE leg_account IS NOT NULL ORDER BY 1, 2"
    )
    if postgresql:
        op.drop_constraint(op.f(_CHECK), "ledger_entry", type_="check")
    # On SQLite the check belongs to contra_memo, so it goes with it, first (a table rebuild
    # is not needed, and could not drop the entries while postings refer to them).
    for column in ("contra_memo", "contra_account", "leg_memo", "leg_pence", "leg_account"):
        op.execute(f"ALTER TABLE ledger_entry DROP COLUMN {column}")
