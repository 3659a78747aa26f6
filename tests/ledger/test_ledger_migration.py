"""Revision 0006 moves posted spend references onto their entries without losing one."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from ledger_helpers import bare_entry, bare_pool
from sqlalchemy import Engine, MetaData, insert, inspect, select

from carepool.store.db import alembic_config, migrate

AT = dt.datetime(2015, 6, 1, 12, tzinfo=dt.UTC)


def _rows_at_0005(engine: Engine) -> None:
    """A pool with two spend entries (one posted from a file) and a receipt, as 0005 kept them."""
    tables = MetaData()
    tables.reflect(engine)
    pool, entry, imported, line = (
        tables.tables[name] for name in ("pool", "ledger_entry", "spend_import", "spend_line")
    )
    with engine.begin() as connection:
        connection.execute(insert(pool), bare_pool(AT))
        common = bare_entry(AT)
        connection.execute(
            insert(entry),
            [
                {"id": 10, "date": dt.date(2015, 5, 1), "kind": "spend",
                 "correlation": "spend:INV-1", **common},
                {"id": 11, "date": dt.date(2015, 5, 2), "kind": "spend",
                 "correlation": "spend:INV-2", **common},
                {"id": 12, "date": dt.date(2015, 5, 3), "kind": "receipt",
                 "correlation": "due:x", **common},
            ],
        )  # fmt: skip
        connection.execute(
            insert(imported),
            {"id": 5, "pool_id": 1, "sha256": "0" * 64, "file_name": "spend.csv", "rows": 2,
             "posted": 2, "skipped": 0, "imported_at": AT, "imported_by": "finance"},
        )  # fmt: skip
        connection.execute(
            insert(line),
            [
                {"pool_id": 1, "reference": ref, "import_id": 5, "entry_id": entry_id,
                 "row_number": n, "spend_date": dt.date(2015, 5, n), "scheme": "S1",
                 "amount_pence": 100}
                for n, (ref, entry_id) in enumerate((("INV-1", 10), ("INV-2", 11)), start=1)
            ],
        )  # fmt: skip


def test_references_move_onto_their_entries(empty_engine: Engine) -> None:
    command.upgrade(alembic_config(empty_engine), "0005")
    _rows_at_0005(empty_engine)

    migrate(empty_engine)

    assert "spend_line" not in inspect(empty_engine).get_table_names()
    tables = MetaData()
    tables.reflect(empty_engine, only=["ledger_entry"])
    entry = tables.tables["ledger_entry"]
    with empty_engine.connect() as connection:
        moved = dict(connection.execute(select(entry.c.id, entry.c.reference)).all())
    assert moved == {10: "INV-1", 11: "INV-2", 12: None}


def test_going_back_refuses_to_drop_references(empty_engine: Engine) -> None:
    command.upgrade(alembic_config(empty_engine), "0005")
    _rows_at_0005(empty_engine)
    migrate(empty_engine)

    with pytest.raises(RuntimeError, match="2 posted spend rows would lose their references"):
        command.downgrade(alembic_config(empty_engine), "0005")


def test_going_back_and_forth_on_a_ledger_without_spend(empty_engine: Engine) -> None:
    """Entries and postings of other kinds survive the round trip (their keys included)."""
    command.upgrade(alembic_config(empty_engine), "0005")
    _rows_at_0005(empty_engine)
    with empty_engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM spend_line")
        connection.exec_driver_sql(
            "INSERT INTO ledger_posting (entry_id, account, amount_pence, memo) "
            "VALUES (12, 'Assets:Pool:Bank', 500, '')"
        )
    migrate(empty_engine)

    command.downgrade(alembic_config(empty_engine), "0005")
    assert "spend_line" in inspect(empty_engine).get_table_names()
    migrate(empty_engine)

    assert "spend_line" not in inspect(empty_engine).get_table_names()
    with empty_engine.connect() as connection:
        counts = [
            connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            for table in ("ledger_entry", "ledger_posting")
        ]
    assert counts == [3, 1]
