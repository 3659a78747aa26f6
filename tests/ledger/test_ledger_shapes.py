"""How entries are kept: a simple entry is one row, a compound one has posting rows.

Readers must not be able to tell the two apart, the pool an entry names must exist on
either engine (PostgreSQL checks it per statement by trigger, SQLite by its foreign key),
and revision 0007 moves stored entries between the shapes without changing a figure.
"""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from ledger_helpers import Area, WriteSpend, bare_entry, bare_pool, finance, the_pool
from sqlalchemy import Engine, MetaData, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from carepool.audit import repository as audit
from carepool.domain.ledger import Accounts, Entry, EntryKind, Posting
from carepool.domain.money import Pence
from carepool.domain.periods import Period
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger
from carepool.store.db import alembic_config, migrate, unit_of_work
from carepool.store.models import LedgerEntryRow, LedgerPostingRow, PoolRow

AT = dt.datetime(2015, 6, 1, 12, tzinfo=dt.UTC)
DAY = dt.date(2015, 6, 1)

SIMPLE = Entry(
    date=DAY,
    kind=EntryKind.ADJUSTMENT,
    narration="Moved between schemes",
    postings=(
        Posting(Accounts.scheme("S1"), Pence(-2_500), "to S2"),
        Posting(Accounts.scheme("S2"), Pence(2_500), "from S1"),
    ),
    correlation="move:1",
    source={"note": "a simple entry"},
)
COMPOUND = Entry(
    date=DAY,
    kind=EntryKind.ADJUSTMENT,
    narration="Split across two schemes",
    postings=(
        Posting(Accounts.scheme("S1"), Pence(1_000), "part"),
        Posting(Accounts.scheme("S2"), Pence(1_500), "part"),
        Posting(Accounts.BANK, Pence(-2_500), "paid"),
    ),
    correlation="split:1",
)


def posting_rows(session: object, entry_id: int) -> int:
    query = select(func.count()).where(LedgerPostingRow.entry_id == entry_id)
    return int(session.scalar(query) or 0)  # type: ignore[attr-defined]


def test_simple_and_compound_entries_read_back_as_posted(pool_area: Area) -> None:
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        simple, compound = repo.add_entries(session, pool.id, [SIMPLE, COMPOUND], "f", AT)

        assert (posting_rows(session, simple), posting_rows(session, compound)) == (0, 3)
        row = session.get(LedgerEntryRow, simple)
        assert row is not None
        assert (row.leg_account, row.leg_pence, row.contra_account) == (
            Accounts.scheme("S1"),
            -2_500,
            Accounts.scheme("S2"),
        )
        for entry_id, entry in ((simple, SIMPLE), (compound, COMPOUND)):
            stored = repo.get_entry(session, pool.id, entry_id)
            assert stored is not None and stored.entry == entry
        listed = {s.id: s.entry for s in repo.entries(session, pool.id)}
        streamed = dict(repo.stream_entries(session, pool.id))
        assert listed[simple] == streamed[simple] == SIMPLE
        assert listed[compound] == streamed[compound] == COMPOUND
        assert repo.posting_totals(session, pool.id) == repo.balances(session, pool.id)
        assert repo.unbalanced_entries(session, pool.id) == []
        by_key = repo.correlation_totals(session, pool.id, Accounts.scheme("S2"))
        assert (by_key["move:1"], by_key["split:1"]) == (2_500, 1_500)
        days = [Period("before", DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1))]
        days.append(Period("on", DAY, DAY))
        moved = repo.quarter_movements_of(session, [pool.id], Accounts.scheme("S1"), days, DAY)
        assert moved == {pool.id: [(Accounts.scheme("S1"), 1, True, -1_500)]}
        earlier = DAY - dt.timedelta(days=1)
        moved = repo.quarter_movements_of(session, [pool.id], Accounts.scheme("S1"), days, earlier)
        assert moved == {pool.id: [(Accounts.scheme("S1"), 1, False, -1_500)]}
        # entries written straight through the repository still need their audit event
        audit.record(session, actor="test", action="post", entity="pool", entity_id=pool.id)


def test_a_spend_row_is_one_row_with_both_legs(pool_area: Area, write_spend: WriteSpend) -> None:
    path = write_spend("may.csv", [("2015-05-11", "S2", "Trust", "100", "INV-9")])
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        postings_before = session.scalar(select(func.count()).select_from(LedgerPostingRow))
        ledger.import_spend(session, pool, path, finance(pool_area.code))

        [spend] = repo.entries(session, pool.id, kind=EntryKind.SPEND)
        assert spend.entry.postings == (
            Posting(Accounts.scheme("S2"), Pence(10_000), "Trust"),
            Posting(Accounts.BANK, Pence(-10_000), "INV-9"),
        )
        assert posting_rows(session, spend.id) == 0
        assert session.scalar(select(func.count()).select_from(LedgerPostingRow)) == (
            postings_before
        )


def test_an_entry_must_name_a_pool_that_exists_and_a_pool_keeps_its_entries(
    pool_area: Area,
) -> None:
    """The same refusals on both engines, however each enforces them."""
    insert_entry = text(
        "INSERT INTO ledger_entry (pool_id, date, kind, narration, correlation, source, "
        "created_by, created_at) VALUES (:pool, :day, 'adjustment', '', 'x', '{}', 'f', :at)"
    )
    # PostgreSQL's triggers say which rule it was (SQLite says only "FOREIGN KEY").
    said = {"postgresql": ("which does not exist", "has ledger entries")}.get(
        pool_area.engine.dialect.name, ("FOREIGN KEY", "FOREIGN KEY")
    )
    with unit_of_work(pool_area.engine) as session:
        pool_id = the_pool(session, pool_area.code).id
        entries = repo.entry_count(session, pool_id)
    with pytest.raises(IntegrityError, match=said[0]), unit_of_work(pool_area.engine) as session:
        session.execute(insert_entry, {"pool": pool_id + 1000, "day": DAY, "at": AT})
    with pytest.raises(IntegrityError, match=said[1]), unit_of_work(pool_area.engine) as session:
        session.execute(text("DELETE FROM pool WHERE id = :id"), {"id": pool_id})
    with pytest.raises(IntegrityError, match=said[1]), unit_of_work(pool_area.engine) as session:
        session.execute(text("UPDATE pool SET id = id + 1000 WHERE id = :id"), {"id": pool_id})
    with unit_of_work(pool_area.engine) as session:  # other changes to the pool are allowed
        session.execute(
            text("UPDATE pool SET pool_manager = 'B. Okafor' WHERE id = :id"), {"id": pool_id}
        )
        session.execute(insert_entry, {"pool": pool_id, "day": DAY, "at": AT})
    with unit_of_work(pool_area.engine) as session:
        assert repo.entry_count(session, pool_id) == entries + 1
        assert session.get(PoolRow, pool_id) is not None


def _reversal_refusals(
    engine: Engine, pool_id: int, reversed_id: int, said: tuple[str, str]
) -> None:
    """Reversing nothing, reversing an entry twice, and deleting or renumbering an entry
    that another reverses are all refused, each with what ``said`` matches."""
    reversing = {**bare_entry(AT), "pool_id": pool_id, "date": DAY, "kind": "reversal"}
    with pytest.raises(IntegrityError, match=said[0]), engine.begin() as connection:
        connection.execute(
            insert(LedgerEntryRow.__table__), {**reversing, "correlation": "r", "reverses_id": 9**9}
        )
    with pytest.raises(IntegrityError, match=r"(?i)unique"), engine.begin() as connection:
        connection.execute(
            insert(LedgerEntryRow.__table__),
            {**reversing, "correlation": "again", "reverses_id": reversed_id},
        )
    with pytest.raises(IntegrityError, match=said[1]), engine.begin() as connection:
        connection.execute(text("DELETE FROM ledger_entry WHERE id = :id"), {"id": reversed_id})
    with pytest.raises(IntegrityError, match=said[1]), engine.begin() as connection:
        connection.execute(
            text("UPDATE ledger_entry SET id = id + 1000 WHERE id = :id"), {"id": reversed_id}
        )


def test_an_entry_reverses_one_that_exists_and_is_reversed_once(pool_area: Area) -> None:
    """The same refusals on both engines, however each enforces them; entries that reverse
    nothing (any number of them) and an entry's other changes are allowed."""
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        first = ledger.post(session, pool, SIMPLE, finance(pool_area.code))
        ledger.post(session, pool, COMPOUND, finance(pool_area.code))
        reversal = ledger.reverse(session, pool, first, "posted in error", finance(pool_area.code))
        entries = repo.entry_count(session, pool.id)
    # PostgreSQL's triggers say which rule it was (SQLite says only "FOREIGN KEY").
    said = {"postgresql": ("which does not exist", "is reversed by another entry")}.get(
        pool_area.engine.dialect.name, ("FOREIGN KEY", "FOREIGN KEY")
    )
    _reversal_refusals(pool_area.engine, pool.id, first, said)
    with unit_of_work(pool_area.engine) as session:
        session.execute(
            text("UPDATE ledger_entry SET narration = 'Moved' WHERE id = :id"), {"id": first}
        )
        assert repo.entry_count(session, pool.id) == entries
        stored = repo.get_entry(session, pool.id, reversal)
        assert stored is not None and stored.entry.reverses == first


def _ledger_at_0006(engine: Engine) -> None:
    """A pool with a simple entry, a compound one and an entry of no legs, as 0006 kept them."""
    tables = MetaData()
    tables.reflect(engine)
    pool, entry, posting = (
        tables.tables[name] for name in ("pool", "ledger_entry", "ledger_posting")
    )
    with engine.begin() as connection:
        connection.execute(insert(pool), bare_pool(AT))
        common = bare_entry(AT)
        connection.execute(
            insert(entry),
            [
                {"id": 10, "date": DAY, "kind": "spend", "correlation": "spend:INV-1",
                 "reference": "INV-1", **common},
                {"id": 11, "date": DAY, "kind": "adjustment", "correlation": "split",
                 "reference": None, **common},
                {"id": 12, "date": DAY, "kind": "adjustment", "correlation": "none",
                 "reference": None, **common},
            ],
        )  # fmt: skip
        connection.execute(insert(posting), LEGS_AT_0006)


LEGS_AT_0006 = [
    {"entry_id": 10, "line": 0, "account": "Expenses:S1", "amount_pence": 700, "memo": "Trust"},
    {"entry_id": 10, "line": 1, "account": "Assets:Bank", "amount_pence": -700, "memo": "INV-1"},
    {"entry_id": 11, "line": 0, "account": "Expenses:S1", "amount_pence": 100, "memo": ""},
    {"entry_id": 11, "line": 1, "account": "Expenses:S2", "amount_pence": 150, "memo": ""},
    {"entry_id": 11, "line": 2, "account": "Assets:Bank", "amount_pence": -250, "memo": ""},
]


def _postings(engine: Engine) -> list[dict[str, object]]:
    tables = MetaData()
    tables.reflect(engine, only=["ledger_posting"])
    posting = tables.tables["ledger_posting"]
    with engine.connect() as connection:
        rows = connection.execute(
            select(posting).order_by(posting.c.entry_id, posting.c.line)
        ).mappings()
        return [dict(row) for row in rows]


def test_revision_0007_moves_simple_entries_onto_their_rows_and_back(empty_engine: Engine) -> None:
    command.upgrade(alembic_config(empty_engine), "0006")
    _ledger_at_0006(empty_engine)

    migrate(empty_engine)

    assert _postings(empty_engine) == LEGS_AT_0006[2:]
    with unit_of_work(empty_engine) as session:
        assert repo.get_entry(session, 1, 10).entry.postings == (  # type: ignore[union-attr]
            Posting("Expenses:S1", Pence(700), "Trust"),
            Posting("Assets:Bank", Pence(-700), "INV-1"),
        )
        assert repo.get_entry(session, 1, 12).entry.postings == ()  # type: ignore[union-attr]
        assert repo.posting_totals(session, 1) == {
            "Assets:Bank": -950,
            "Expenses:S1": 800,
            "Expenses:S2": 150,
        }

    command.downgrade(alembic_config(empty_engine), "0006")
    assert _postings(empty_engine) == LEGS_AT_0006
    migrate(empty_engine)
    assert _postings(empty_engine) == LEGS_AT_0006[2:]


def test_revision_0008_keeps_reversals_checked_down_and_up(empty_engine: Engine) -> None:
    """0008 swaps PostgreSQL's reversal key and constraint for triggers and a partial index
    (SQLite is unchanged); before, after and back down, the same things are refused."""
    config = alembic_config(empty_engine)
    command.upgrade(config, "0007")
    tables = MetaData()
    tables.reflect(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(insert(tables.tables["pool"]), bare_pool(AT))
        common = {**bare_entry(AT), "date": DAY, "correlation": "c", "reference": None}
        connection.execute(
            insert(tables.tables["ledger_entry"]),
            [
                {"id": 20, "kind": "adjustment", "reverses_id": None, **common},
                {"id": 21, "kind": "reversal", "reverses_id": 20, **common},
            ],
        )
    said = ("(?i)foreign key|which does not exist", "(?i)foreign key|is reversed by another")
    _reversal_refusals(empty_engine, 1, 20, said)
    migrate(empty_engine)
    _reversal_refusals(empty_engine, 1, 20, said)
    command.downgrade(config, "0007")
    _reversal_refusals(empty_engine, 1, 20, said)
    migrate(empty_engine)
    _reversal_refusals(empty_engine, 1, 20, said)
    with empty_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM ledger_entry")) == 2
