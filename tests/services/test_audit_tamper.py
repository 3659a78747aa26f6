"""Tampering with the audit log through the database alone is found by ``audit verify``.

Each test builds a small log through the services, changes it with raw SQL as someone who can
write to the database but does not hold the audit key would (issue 15, finding 4), and
checks that verifying names the break. Someone who does hold the key can rewrite the log
consistently; only a checkpoint kept outside the database finds that, as the last tests show.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from carepool.accounts import service as accounts
from carepool.audit import repository as audit
from carepool.audit import service as audit_log
from carepool.audit.service import Verification, checkpoint_document, read_checkpoint
from carepool.domain.audit import (
    LOG,
    NATIONAL,
    AuditRecord,
    KeyedHead,
    event_hash,
    genesis,
    pool_chain,
)
from carepool.domain.errors import CarepoolError
from carepool.domain.roles import SYSTEM
from carepool.store.db import unit_of_work

POOL = pool_chain("2017-19/E06000052")
POOL_EVENTS = 12


@pytest.fixture
def logged(engine: Engine) -> Engine:
    """An account (an audited row and its event on the national chain) and a pool's chain of
    twelve events, recorded in two units of work."""
    with unit_of_work(engine) as session:
        accounts.create_user(session, "alice", "a long passphrase", ["analyst"], SYSTEM)
        for number in range(1, 6):
            audit.record(session, actor="x", action="post", entity="entry", entity_id=number,
                         after={"pence": number}, chain=POOL)  # fmt: skip
    with unit_of_work(engine) as session:
        for number in range(6, POOL_EVENTS + 1):
            audit.record(session, actor="x", action="post", entity="entry", entity_id=number,
                         after={"pence": number}, chain=POOL)  # fmt: skip
    return engine


def _check(engine: Engine, kept: Path | None = None) -> Verification:
    with unit_of_work(engine) as session:
        return audit_log.check(session, read_checkpoint(kept) if kept else [])


def _breaks(found: Verification) -> list[tuple[str, int, str]]:
    return [(b.chain, b.sequence, b.reason) for b in found.breaks]


def _sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _records(engine: Engine, chain: str) -> list[AuditRecord]:
    with unit_of_work(engine) as session:
        return list(audit.chain(session, chain))


def test_an_untouched_log_verifies(logged: Engine) -> None:
    found = _check(logged)
    assert found.breaks == () and found.events == POOL_EVENTS + 1


def test_a_new_database_verifies_with_no_events(engine: Engine) -> None:
    found = _check(engine)
    assert found.breaks == () and found.events == 0


def test_the_newest_event_deleted_is_found(logged: Engine) -> None:
    _sql(logged, f"DELETE FROM audit_event WHERE chain = '{POOL}' AND sequence = {POOL_EVENTS}")
    [(chain, sequence, reason)] = _breaks(_check(logged))
    assert (chain, sequence) == (POOL, POOL_EVENTS)
    assert reason == (
        f"the chain ends at event {POOL_EVENTS - 1} but its keyed head records event "
        f"{POOL_EVENTS}; the newest events were removed"
    )


def test_the_last_ten_events_deleted_are_found(logged: Engine) -> None:
    _sql(logged, f"DELETE FROM audit_event WHERE chain = '{POOL}' AND sequence > 2")
    [(chain, _, reason)] = _breaks(_check(logged))
    assert chain == POOL and reason.startswith("the chain ends at event 2 but its keyed head")


def test_the_head_moved_back_without_the_key_is_found(logged: Engine) -> None:
    """Deleting the newest events and moving the keyed head back to match leaves its MAC
    wrong, since the MAC cannot be made without the key."""
    eleventh = _records(logged, POOL)[-2]
    _sql(
        logged,
        f"DELETE FROM audit_event WHERE chain = '{POOL}' AND sequence = {POOL_EVENTS}",
        f"UPDATE audit_head SET sequence = {POOL_EVENTS - 1}, hash = '{eleventh.hash}' "
        f"WHERE chain = '{POOL}'",
    )
    assert _breaks(_check(logged)) == [
        (POOL, POOL_EVENTS - 1, "its keyed head was changed without the audit key")
    ]
    changed = f"the keyed head of audit chain {POOL} was changed"
    with pytest.raises(CarepoolError, match=changed), unit_of_work(logged) as session:
        # signing the head again would hide the removal
        audit.record(session, actor="x", action="post", entity="entry", entity_id=13,
                     chain=POOL)  # fmt: skip
    assert _breaks(_check(logged))


def test_a_seal_recounted_without_the_key_is_not_signed_again(logged: Engine) -> None:
    _sql(
        logged,
        f"DELETE FROM audit_event WHERE chain = '{POOL}'",
        f"DELETE FROM audit_head WHERE chain = '{POOL}'",
        "UPDATE audit_seal SET chains = 1",
    )
    assert (LOG, 0, "the log's seal was changed without the audit key") in _breaks(_check(logged))
    refused = pytest.raises(CarepoolError, match="the audit log's seal was changed")
    with refused, unit_of_work(logged) as session:
        audit.record(session, actor="x", action="open", entity="pool", entity_id=2,
                     chain=pool_chain("2017-19/E08000025"))  # fmt: skip


@pytest.mark.parametrize(
    ("also", "expected"),
    [
        pytest.param((), "its keyed head records event", id="events"),
        pytest.param(("DELETE FROM audit_head",), "the log's seal counts 2 chains", id="heads"),
        pytest.param(
            ("DELETE FROM audit_head", "DELETE FROM audit_seal"),
            "the log has no events, but app_user hold rows; the log was emptied",
            id="heads-and-seal",
        ),
    ],
)
def test_every_event_deleted_is_found(logged: Engine, also: tuple[str, ...], expected: str) -> None:
    """However much of the keyed record goes with the events."""
    _sql(logged, "DELETE FROM audit_event", *also)
    found = _check(logged)
    assert found.events == 0
    assert any(expected in reason for _, _, reason in _breaks(found))


def test_a_whole_chain_deleted_with_its_head_is_found(logged: Engine) -> None:
    _sql(
        logged,
        f"DELETE FROM audit_event WHERE chain = '{POOL}'",
        f"DELETE FROM audit_head WHERE chain = '{POOL}'",
    )
    assert _breaks(_check(logged)) == [
        (LOG, 0, "the log's seal counts 2 chains but 1 have a keyed head; whole chains were "
         "removed or added")
    ]  # fmt: skip


def _rewrite(engine: Engine, sequence: int, key: bytes | None) -> None:
    """Change one pool event's actor and recompute every later hash, and the head's, the way
    whoever does it can: with ``key`` as the log does, without it by plain SHA-256 (and the
    head's MAC left as it was)."""
    records = _records(engine, POOL)
    previous = records[sequence - 2].hash if sequence > 1 else genesis(POOL)
    with engine.begin() as connection:
        for record in records[sequence - 1 :]:
            actor = "mallory" if record.sequence == sequence else record.actor
            fields = {"sequence": record.sequence, "at": record.at, "actor": actor,
                      "action": record.action, "entity": record.entity,
                      "entity_id": record.entity_id, "before": record.before,
                      "after": record.after}  # fmt: skip
            digest = event_hash(previous_hash=previous, key=key, **fields)  # type: ignore[arg-type]
            connection.execute(
                text("UPDATE audit_event SET actor = :actor, previous_hash = :previous, "
                     "hash = :hash WHERE chain = :chain AND sequence = :sequence"),
                {"actor": actor, "previous": previous, "hash": digest, "chain": POOL,
                 "sequence": record.sequence},
            )  # fmt: skip
            previous = digest
        head = KeyedHead(POOL, records[-1].sequence, previous)
        connection.execute(
            text("UPDATE audit_head SET hash = :hash WHERE chain = :chain"),
            {"hash": previous, "chain": POOL},
        )
        if key is not None:
            connection.execute(
                text("UPDATE audit_head SET mac = :mac WHERE chain = :chain"),
                {"mac": head.signed(key).mac, "chain": POOL},
            )


def test_an_event_edited_and_later_hashes_recomputed_without_the_key_is_found(
    logged: Engine,
) -> None:
    _rewrite(logged, 3, key=None)
    found = _breaks(_check(logged))
    assert found[0] == (
        POOL, 3, "its hash does not match its content under the audit key: it was changed, "
        "or written without the key",
    )  # fmt: skip
    assert {sequence for _, sequence, _ in found} == set(range(3, POOL_EVENTS + 1))
    assert (POOL, POOL_EVENTS, "its keyed head was changed without the audit key") in found


def test_a_forged_event_appended_is_found(logged: Engine) -> None:
    """Linked to the real head, hashed by SHA-256, with the head moved on to it."""
    newest = _records(logged, POOL)[-1]
    forged = {"sequence": POOL_EVENTS + 1, "at": newest.at, "actor": "x", "action": "post",
              "entity": "entry", "entity_id": "99", "before": None, "after": None}  # fmt: skip
    digest = event_hash(previous_hash=newest.hash, **forged)  # type: ignore[arg-type]
    with logged.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_event (chain, sequence, at, actor, action, entity, "
                 "entity_id, previous_hash, hash) VALUES (:chain, :sequence, :at, :actor, "
                 ":action, :entity, :entity_id, :previous, :hash)"),
            {**forged, "chain": POOL, "previous": newest.hash, "hash": digest},
        )  # fmt: skip
    before_head = _breaks(_check(logged))
    _sql(logged, f"UPDATE audit_head SET sequence = {POOL_EVENTS + 1}, hash = '{digest}' "
                 f"WHERE chain = '{POOL}'")  # fmt: skip
    after_head = _breaks(_check(logged))
    written_without_key = (POOL, POOL_EVENTS + 1, "its hash does not match its content under "
                           "the audit key: it was changed, or written without the key")  # fmt: skip
    assert written_without_key in before_head and written_without_key in after_head
    assert any("events were added without the audit key" in r for _, _, r in before_head)
    assert any("keyed head was changed without the audit key" in r for _, _, r in after_head)


def test_the_log_is_neither_verified_nor_extended_under_another_key(
    logged: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing or misplaced key file would otherwise make every later event look forged."""
    monkeypatch.setenv("CAREPOOL_AUDIT_KEY", "another key, long enough to be accepted as one")
    [(chain, _, reason)] = _breaks(_check(logged))
    assert chain == LOG and "but the key in use is" in reason
    with pytest.raises(CarepoolError, match="but the key in use is"), unit_of_work(logged) as s:
        audit.record(s, actor="x", action="post", entity="entry", entity_id=1, chain=POOL)
    assert _check(logged).events == POOL_EVENTS + 1


def _kept_checkpoint(engine: Engine, folder: Path) -> Path:
    with unit_of_work(engine) as session:
        taken = audit_log.checkpoint(session)
    kept = folder / "checkpoint.json"
    kept.write_text(json.dumps(checkpoint_document(taken)), encoding="utf-8")
    return kept


def test_only_a_kept_checkpoint_finds_a_rewrite_by_someone_holding_the_key(
    logged: Engine, tmp_path: Path, audit_key: str
) -> None:
    kept = _kept_checkpoint(logged, tmp_path)
    _rewrite(logged, 3, key=audit_key.encode())
    _sql(logged, "DELETE FROM audit_checkpoint")
    assert _check(logged).breaks == ()
    assert _breaks(_check(logged, kept)) == [
        (POOL, POOL_EVENTS, "its hash differs from the checkpoint's; the chain was rewritten")
    ]


def test_only_a_kept_checkpoint_finds_an_older_copy_of_the_log_put_back(
    logged: Engine, tmp_path: Path
) -> None:
    """Every row of an older copy was once genuine, its keyed head included: the newest
    events are removed and the head as it stood before them is put back."""
    with logged.connect() as connection:
        old = connection.execute(
            text("SELECT sequence, hash, mac FROM audit_head WHERE chain = :chain"),
            {"chain": POOL},
        ).one()
    with unit_of_work(logged) as session:
        for number in (13, 14):
            audit.record(session, actor="x", action="post", entity="entry", entity_id=number,
                         chain=POOL)  # fmt: skip
    kept = _kept_checkpoint(logged, tmp_path)
    with logged.begin() as connection:
        connection.execute(
            text("DELETE FROM audit_event WHERE chain = :chain AND sequence > :sequence"),
            {"chain": POOL, "sequence": old.sequence},
        )
        connection.execute(
            text("UPDATE audit_head SET sequence = :sequence, hash = :hash, mac = :mac "
                 "WHERE chain = :chain"),
            {"sequence": old.sequence, "hash": old.hash, "mac": old.mac, "chain": POOL},
        )  # fmt: skip
    _sql(logged, "DELETE FROM audit_checkpoint")
    assert _check(logged).breaks == ()
    assert _breaks(_check(logged, kept)) == [
        (POOL, 14, f"the chain ends at event {POOL_EVENTS} but a checkpoint saw event 14; "
         "the newest events were removed")
    ]  # fmt: skip


def test_national_events_are_keyed_too(logged: Engine) -> None:
    [created] = _records(logged, NATIONAL)
    unkeyed = event_hash(previous_hash=created.previous_hash, sequence=1, at=created.at,
                         actor=created.actor, action=created.action, entity=created.entity,
                         entity_id=created.entity_id, before=created.before,
                         after=created.after)  # fmt: skip
    assert created.hash != unkeyed
