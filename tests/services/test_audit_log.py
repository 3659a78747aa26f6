"""The audit log by construction: no audited change commits without an event, chains are
independent (on PostgreSQL writers of two pools do not wait for each other), revision 0009
keeps the events written before it, and revision 0014 keeps them until they are adopted under
the audit key."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import Engine, MetaData, func, insert, select, text
from sqlalchemy.exc import OperationalError

from carepool.accounts import service as accounts
from carepool.audit import repository as audit
from carepool.audit import service as audit_log
from carepool.domain.audit import NATIONAL, event_hash, genesis, pool_chain
from carepool.domain.errors import CarepoolError
from carepool.domain.roles import SYSTEM
from carepool.store.audited import UnauditedChange
from carepool.store.db import alembic_config, migrate, unit_of_work
from carepool.store.models import UserRow, Vintage

AT = dt.datetime(2015, 4, 1, tzinfo=dt.UTC)
POOL_A, POOL_B = pool_chain("2017-19/E06000052"), pool_chain("2017-19/E08000025")


def _users(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(UserRow.__table__)) or 0)


def test_an_audited_change_without_an_event_fails_and_stores_nothing(engine: Engine) -> None:
    with (
        pytest.raises(UnauditedChange, match="changed app_user but recorded no audit event"),
        unit_of_work(engine) as session,
    ):
        session.add(UserRow(username="mallory", display_name="", password_hash="x", grants=[]))
    assert _users(engine) == 0


def test_a_core_insert_into_an_audited_table_is_seen_too(engine: Engine) -> None:
    with pytest.raises(UnauditedChange, match="vintage"), unit_of_work(engine) as session:
        session.execute(
            insert(Vintage),
            [{"kind": "councils", "name": "x", "source": "x.csv", "sha256": "0" * 64, "rows": 0,
              "synthetic": False, "imported_at": AT, "imported_by": "x"}],
        )  # fmt: skip
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(Vintage)) == 0


def test_the_same_change_with_its_event_commits(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        accounts.create_user(session, "alice", "a long passphrase", ["analyst"], SYSTEM)
    assert _users(engine) == 1


def test_a_failed_unit_of_work_does_not_leave_its_writes_counted(engine: Engine) -> None:
    """Reading alone commits freely, also in a session whose earlier transaction rolled back."""
    with unit_of_work(engine) as session:
        session.add(UserRow(username="mallory", display_name="", password_hash="x", grants=[]))
        session.flush()
        session.rollback()
        assert session.scalar(select(func.count()).select_from(UserRow)) == 0


def test_chains_number_their_events_on_their_own(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for chain in (POOL_A, POOL_B, POOL_A, NATIONAL):
            audit.record(session, actor="x", action="post", entity="pool", entity_id=1,
                         chain=chain)  # fmt: skip
    with unit_of_work(engine) as session:
        found = audit_log.check(session)
        heads = {h.chain: h.sequence for h in audit.heads(session)}
    assert found.breaks == () and found.events == 4
    assert heads == {POOL_A: 2, POOL_B: 1, NATIONAL: 1}


def test_a_checkpoint_finds_the_newest_events_removed(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for _ in range(3):
            audit.record(session, actor="x", action="post", entity="pool", entity_id=1,
                         chain=POOL_A)  # fmt: skip
    with unit_of_work(engine) as session:
        audit_log.checkpoint(session)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE sequence = 3"))
    with unit_of_work(engine) as session:
        count, breaks = audit_log.verify(session)
    assert count == 2
    assert {(b.chain, b.sequence) for b in breaks} == {(POOL_A, 3)}
    assert any("a checkpoint saw event 3" in b.reason for b in breaks)


@pytest.mark.postgres
def test_writers_of_two_pools_do_not_wait_for_each_other(engine: Engine) -> None:
    """A writer holding pool A's chain leaves pool B's free; a second writer of A would wait.

    Both chains are opened first: opening a chain counts it in the log's seal, one writer at
    a time, which happens once in a chain's life.
    """
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    with unit_of_work(engine) as session:
        for chain in (POOL_A, POOL_B):
            audit.record(session, actor="x", action="open", entity="pool", entity_id=0,
                         chain=chain)  # fmt: skip
    with unit_of_work(engine) as holding:
        audit.record(holding, actor="a", action="post", entity="pool", entity_id=1, chain=POOL_A)
        with unit_of_work(engine) as other:
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
            audit.record(other, actor="b", action="post", entity="pool", entity_id=2,
                         chain=POOL_B)  # fmt: skip
        with pytest.raises(OperationalError, match="lock timeout"), unit_of_work(engine) as same:
            same.execute(text("SET LOCAL lock_timeout = '200ms'"))
            audit.record(same, actor="c", action="post", entity="pool", entity_id=3,
                         chain=POOL_A)  # fmt: skip
    with unit_of_work(engine) as session:
        assert {h.chain: h.sequence for h in audit.heads(session)} == {POOL_A: 2, POOL_B: 2}


def _unkeyed_events(engine: Engine, count: int, chain: str | None = None) -> None:
    """A chain as written before keyed hashes: by revision 0008 if ``chain`` is not given
    (one chain, no chain column), else by revisions 0009 to 0013."""
    tables = MetaData()
    tables.reflect(engine, only=["audit_event"])
    previous, rows = genesis(chain or NATIONAL), []
    for sequence in range(1, count + 1):
        fields = {"sequence": sequence, "at": f"2015-04-0{sequence}T00:00:00+00:00",
                  "actor": "national", "action": "create", "entity": "allocation_run",
                  "entity_id": str(sequence), "before": None, "after": {"n": sequence}}  # fmt: skip
        digest = event_hash(previous_hash=previous, **fields)
        rows.append({**fields, "previous_hash": previous, "hash": digest}
                    | ({"chain": chain} if chain else {}))  # fmt: skip
        previous = digest
    with engine.begin() as connection:
        connection.execute(insert(tables.tables["audit_event"]), rows)


def test_events_before_0009_become_the_national_chain_unchanged(empty_engine: Engine) -> None:
    """Revision 0009 keeps them as the national chain; going back to 0008 and up again too."""
    command.upgrade(alembic_config(empty_engine), "0008")
    _unkeyed_events(empty_engine, 3)
    command.upgrade(alembic_config(empty_engine), "0013")
    command.downgrade(alembic_config(empty_engine), "0008")
    with empty_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM audit_event")) == 3
    migrate(empty_engine)
    with unit_of_work(empty_engine) as session:
        assert [h.sequence for h in audit_log.adopt(session)] == [3]
        assert audit_log.verify(session) == (3, [])


def test_unkeyed_chains_are_reported_and_left_alone_until_adopted(empty_engine: Engine) -> None:
    """Revision 0014 keeps the events written before it; 'audit adopt' takes them in once."""
    command.upgrade(alembic_config(empty_engine), "0013")
    _unkeyed_events(empty_engine, 3, POOL_A)
    migrate(empty_engine)
    with unit_of_work(empty_engine) as session:
        count, breaks = audit_log.verify(session)
        assert count == 3 and [(b.chain, b.sequence) for b in breaks] == [(POOL_A, 3)]
        assert "not yet adopted" in breaks[0].reason
    with pytest.raises(CarepoolError, match="has no keyed head"), unit_of_work(empty_engine) as s:
        audit.record(s, actor="x", action="post", entity="pool", entity_id=1, chain=POOL_A)
    with unit_of_work(empty_engine) as session:
        audit_log.adopt(session)
        audit.record(session, actor="x", action="post", entity="pool", entity_id=1, chain=POOL_A)
    with unit_of_work(empty_engine) as session:
        assert audit_log.verify(session) == (4, [])
        assert audit.keyed_heads(session)[POOL_A].keyed_from == 4


def test_an_unkeyed_chain_that_does_not_verify_is_not_adopted(empty_engine: Engine) -> None:
    command.upgrade(alembic_config(empty_engine), "0013")
    _unkeyed_events(empty_engine, 3, POOL_A)
    with empty_engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE sequence = 2"))
    migrate(empty_engine)
    with (
        pytest.raises(CarepoolError, match="none was adopted") as refused,
        unit_of_work(empty_engine) as session,
    ):
        audit_log.adopt(session)
    assert [p.message for p in refused.value.problems] == [
        f"chain {POOL_A}, event 2: its content was changed after it was written"
    ]


def test_going_back_refuses_to_merge_pool_chains(empty_engine: Engine) -> None:
    command.upgrade(alembic_config(empty_engine), "0013")
    _unkeyed_events(empty_engine, 1, POOL_A)
    with pytest.raises(RuntimeError, match="1 audit events are on pool or plan chains"):
        command.downgrade(alembic_config(empty_engine), "0008")
    with empty_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM audit_event")) == 1


def test_going_back_before_keyed_hashes_is_refused_once_one_is_written(
    empty_engine: Engine,
) -> None:
    migrate(empty_engine)
    with unit_of_work(empty_engine) as session:
        audit.record(session, actor="x", action="post", entity="pool", entity_id=1)
    with pytest.raises(RuntimeError, match="1 audit chains hold events with keyed hashes"):
        command.downgrade(alembic_config(empty_engine), "0013")
    with unit_of_work(empty_engine) as session:
        assert audit_log.verify(session) == (1, [])


def test_a_savepoint_released_before_the_event_is_recorded_is_fine(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        with session.begin_nested():
            session.add(UserRow(username="bob", display_name="", password_hash="x", grants=[]))
        audit.record(session, actor="x", action="create", entity="user", entity_id="bob")
    assert _users(engine) == 1


def test_a_savepoint_rolled_back_takes_its_writes_and_its_event_with_it(engine: Engine) -> None:
    """A refused import inside a unit of work leaves nothing to audit; a lost event is missed."""
    with unit_of_work(engine) as session, pytest.raises(RuntimeError), session.begin_nested():
        session.add(UserRow(username="bob", display_name="", password_hash="x", grants=[]))
        session.flush()
        raise RuntimeError("refused")
    assert _users(engine) == 0
    with pytest.raises(UnauditedChange), unit_of_work(engine) as session:
        session.add(UserRow(username="carol", display_name="", password_hash="x", grants=[]))
        with pytest.raises(RuntimeError), session.begin_nested():
            audit.record(session, actor="x", action="create", entity="user", entity_id="carol")
            raise RuntimeError("refused")
    assert _users(engine) == 0


@pytest.mark.postgres
def test_two_writers_opening_chains_at_once_are_both_counted(engine: Engine) -> None:
    """The second waits for the first to commit, rather than counting over it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    with unit_of_work(engine) as first:
        audit.record(first, actor="a", action="post", entity="pool", entity_id=1, chain=POOL_A)
        with pytest.raises(OperationalError, match="lock timeout"), unit_of_work(engine) as second:
            second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            audit.record(second, actor="b", action="post", entity="pool", entity_id=2,
                         chain=POOL_B)  # fmt: skip
    with unit_of_work(engine) as second:
        audit.record(second, actor="b", action="post", entity="pool", entity_id=2, chain=POOL_B)
    with unit_of_work(engine) as session:
        assert audit_log.check(session).breaks == ()


def test_a_kept_result_is_reused_until_an_audit_event_is_recorded(engine: Engine) -> None:
    """Pages that read the whole nation keep their result while nothing audited changes; the
    next event, or another key, works it out again."""
    worked: list[str] = []

    def work(key: str) -> str:
        worked.append(key)
        return f"{key} #{len(worked)}"

    def kept(key: str) -> str:
        with unit_of_work(engine) as session:
            return audit_log.until_changed(session, "test", key, lambda: work(key))

    assert kept("2015-16") == kept("2015-16") == "2015-16 #1"
    assert kept("2017-19") == "2017-19 #2"
    with unit_of_work(engine) as session:
        audit.record(session, actor="x", action="open", entity="pool", entity_id=0)
    assert kept("2015-16") == "2015-16 #3"
    assert worked == ["2015-16", "2017-19", "2015-16"]
