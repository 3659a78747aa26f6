"""Each audit chain detects any edited, removed or reordered event; under the audit key, any
event recomputed or forged without it; its keyed head, a truncation; the seal, a chain removed
whole; a checkpoint, a rewrite by someone holding the key."""

from __future__ import annotations

import dataclasses

import pytest

from carepool.domain.audit import (
    GENESIS,
    LOG,
    NATIONAL,
    AuditRecord,
    ChainHead,
    KeyedHead,
    Seal,
    check_key,
    event_hash,
    genesis,
    key_id,
    new_seal,
    pool_chain,
    verify_chain,
    verify_checkpoint,
    verify_keyed_chain,
    verify_log,
)
from carepool.domain.errors import CarepoolError

POOL = pool_chain("2017-19/E06000052")
KEY = b"an audit key of thirty-two bytes or more, for tests"
OTHER_KEY = b"another audit key of thirty-two bytes or more, too"


def _chain(
    n: int, chain: str = NATIONAL, key: bytes | None = None, keyed_from: int = 1
) -> list[AuditRecord]:
    """``n`` events; with ``key``, those from ``keyed_from`` on hashed under it."""
    records, previous = [], genesis(chain)
    for sequence in range(1, n + 1):
        fields = dict(sequence=sequence, at=f"2015-04-0{sequence}T00:00:00+00:00", actor="national",
                      action="create", entity="allocation_run", entity_id=str(sequence),
                      before=None, after={"total_pence": sequence * 100})  # fmt: skip
        keyed = key if sequence >= keyed_from else None
        digest = event_hash(previous_hash=previous, key=keyed, **fields)  # type: ignore[arg-type]
        records.append(AuditRecord(**fields, previous_hash=previous, hash=digest, chain=chain))  # type: ignore[arg-type]
        previous = digest
    return records


def test_an_untouched_chain_verifies() -> None:
    assert verify_chain(_chain(5)) == []


def test_an_edited_event_is_found() -> None:
    records = _chain(5)
    records[2] = dataclasses.replace(records[2], after={"total_pence": 1})
    breaks = verify_chain(records)
    assert [(b.sequence, b.reason) for b in breaks] == [
        (3, "its content was changed after it was written")
    ]


def test_a_removed_event_is_found() -> None:
    records = _chain(5)
    del records[1]
    reasons = {b.reason for b in verify_chain(records) if b.sequence == 3}
    assert any("missing or reordered" in r for r in reasons)
    assert "does not link to the event before it" in reasons


def test_a_rewritten_tail_still_breaks_at_the_first_edit() -> None:
    records = _chain(3)
    records[0] = dataclasses.replace(records[0], actor="someone else")
    assert verify_chain(records)[0].sequence == 1


def test_the_national_chain_keeps_the_genesis_it_always_had() -> None:
    assert genesis(NATIONAL) == GENESIS
    assert _chain(1)[0].previous_hash == GENESIS


def test_a_pool_chain_verifies_on_its_own_and_names_itself_in_breaks() -> None:
    records = _chain(4, POOL)
    assert verify_chain(records, POOL) == []
    records[1] = dataclasses.replace(records[1], actor="someone else")
    assert [(b.chain, b.sequence) for b in verify_chain(records, POOL)] == [(POOL, 2)]


def test_an_event_moved_into_another_chain_breaks_it() -> None:
    """Each chain's first event links to a genesis made from its name."""
    moved = [dataclasses.replace(r, chain=NATIONAL) for r in _chain(2, POOL)]
    breaks = verify_chain(moved, NATIONAL)
    assert (1, "does not link to the event before it") in [(b.sequence, b.reason) for b in breaks]


def test_reordered_events_are_found() -> None:
    records = _chain(4, POOL)
    records[1], records[2] = records[2], records[1]
    assert {b.sequence for b in verify_chain(records, POOL)} >= {2, 3}


def test_removing_the_newest_events_is_found_only_by_a_checkpoint() -> None:
    records = _chain(5, POOL)
    head = ChainHead(POOL, 5, records[-1].hash)
    truncated = records[:3]
    assert verify_chain(truncated, POOL) == []  # what is left still links up
    [found] = verify_checkpoint(truncated, head)
    assert (found.chain, found.sequence) == (POOL, 5)
    assert (
        "the chain ends at event 3" in found.reason and "newest events were removed" in found.reason
    )


def test_a_chain_rewritten_past_its_checkpoint_is_found() -> None:
    records = _chain(3, POOL)
    assert verify_checkpoint(records, ChainHead(POOL, 3, records[-1].hash)) == []
    [found] = verify_checkpoint(records, ChainHead(POOL, 2, "f" * 64))
    assert "differs from the checkpoint" in found.reason


def test_a_chain_removed_whole_is_found_by_its_checkpoint() -> None:
    [found] = verify_checkpoint([], ChainHead(POOL, 2, "a" * 64))
    assert "the chain ends at event 0" in found.reason


def _recomputed(records: list[AuditRecord], index: int, key: bytes | None) -> list[AuditRecord]:
    """Edit one event and recompute its hash and every later one, with or without ``key``."""
    changed = records[:index]
    previous = records[index - 1].hash if index else genesis(records[0].chain)
    for record in records[index:]:
        actor = "mallory" if len(changed) == index else record.actor
        fields = dict(sequence=record.sequence, at=record.at, actor=actor, action=record.action,
                      entity=record.entity, entity_id=record.entity_id, before=record.before,
                      after=record.after)  # fmt: skip
        digest = event_hash(previous_hash=previous, key=key, **fields)  # type: ignore[arg-type]
        changed.append(dataclasses.replace(record, actor=actor, previous_hash=previous,
                                           hash=digest))  # fmt: skip
        previous = digest
    return changed


def _head(records: list[AuditRecord], keyed_from: int = 1) -> KeyedHead:
    last = records[-1]
    return KeyedHead(last.chain, last.sequence, last.hash, keyed_from).signed(KEY)


def test_a_keyed_chain_verifies_under_its_key_only() -> None:
    records = _chain(4, POOL, KEY)
    assert verify_chain(records, POOL, key=KEY) == []
    assert {b.sequence for b in verify_chain(records, POOL, key=OTHER_KEY)} == {1, 2, 3, 4}
    assert {b.sequence for b in verify_chain(records, POOL)} == {1, 2, 3, 4}


def test_an_edit_with_every_later_hash_recomputed_without_the_key_is_found() -> None:
    """What an unkeyed hash let anyone do unnoticed."""
    records = _recomputed(_chain(5, POOL, KEY), 2, key=None)
    breaks = verify_chain(records, POOL, key=KEY)
    assert [b.sequence for b in breaks] == [3, 4, 5]
    assert breaks[0].reason == (
        "its hash does not match its content under the audit key: it was changed, or written "
        "without the key"
    )


def test_a_forged_event_appended_is_found_by_its_hash_and_by_the_head() -> None:
    records = _chain(3, POOL, KEY)
    head = _head(records)
    forged = _recomputed([*records, dataclasses.replace(records[-1], sequence=4)], 3, None)
    breaks = verify_keyed_chain(forged, head, KEY, POOL)
    assert [(b.sequence, b.reason.split(":")[0].split(";")[0]) for b in breaks] == [
        (4, "its hash does not match its content under the audit key"),
        (4, "the chain goes on past event 3, where its keyed head is"),
    ]


def test_events_before_keyed_from_are_checked_as_written_before_keyed_hashes() -> None:
    records = _chain(5, POOL, KEY, keyed_from=4)
    assert verify_chain(records, POOL, key=KEY, keyed_from=4) == []
    assert [b.sequence for b in verify_chain(records, POOL, key=KEY)] == [1, 2, 3]
    assert verify_keyed_chain(records, _head(records, keyed_from=4), KEY, POOL) == []


@pytest.mark.parametrize("removed", [1, 3, 5])
def test_removing_the_newest_events_is_found_by_the_keyed_head(removed: int) -> None:
    records = _chain(5, POOL, KEY)
    [found] = verify_keyed_chain(records[: 5 - removed], _head(records), KEY, POOL)
    assert (found.chain, found.sequence) == (POOL, 5)
    assert found.reason == (
        f"the chain ends at event {5 - removed} but its keyed head records event 5; the newest "
        "events were removed"
    )


def test_a_keyed_head_moved_back_without_the_key_is_found() -> None:
    records = _chain(5, POOL, KEY)
    moved = dataclasses.replace(_head(records), sequence=4, hash=records[3].hash)
    assert [b.reason for b in verify_keyed_chain(records[:4], moved, KEY, POOL)] == [
        "its keyed head was changed without the audit key"
    ]


def test_the_newest_event_replaced_is_found_by_the_keyed_head() -> None:
    records = _chain(3, POOL, KEY)
    head = dataclasses.replace(_head(records), hash="f" * 64).signed(KEY)  # as if replaced
    [found] = verify_keyed_chain(records, head, KEY, POOL)
    assert found.reason == "the newest event is not the one its keyed head records; it was replaced"


def test_a_chain_without_a_keyed_head_is_a_break() -> None:
    [found] = verify_keyed_chain(_chain(2, POOL), None, KEY, POOL)
    assert (found.sequence, found.chain) == (2, POOL) and "has no keyed head" in found.reason


def test_the_seal_counts_the_chains() -> None:
    national, pool = _chain(2, NATIONAL, KEY), _chain(3, POOL, KEY)
    chains = {NATIONAL: national, POOL: pool}
    heads = {NATIONAL: _head(national), POOL: _head(pool)}
    seal = Seal(2, key_id(KEY)).signed(KEY)
    assert verify_log(chains, heads, seal, KEY) == []
    without_pool = verify_log({NATIONAL: national}, {NATIONAL: heads[NATIONAL]}, seal, KEY)
    assert [b.reason for b in without_pool] == [
        "the log's seal counts 2 chains but 1 have a keyed head; whole chains were removed or added"
    ]
    recounted = dataclasses.replace(seal, chains=1)
    assert (LOG, 0, "the log's seal was changed without the audit key") in [
        (b.chain, b.sequence, b.reason)
        for b in verify_log({NATIONAL: national}, {NATIONAL: heads[NATIONAL]}, recounted, KEY)
    ]


def test_a_log_without_its_seal_is_a_break_unless_it_is_empty() -> None:
    records = _chain(1, NATIONAL, KEY)
    assert verify_log({}, {}, None, KEY) == []
    [found] = verify_log({NATIONAL: records}, {}, None, KEY)
    assert (found.chain, found.reason) == (LOG, "the log's seal is missing: it was deleted")
    assert verify_log({}, {}, new_seal(KEY), KEY) == []


def test_a_log_is_verified_only_under_the_key_it_was_written_with() -> None:
    records = _chain(2, NATIONAL, KEY)
    [found] = verify_log({NATIONAL: records}, {NATIONAL: _head(records)}, new_seal(KEY), OTHER_KEY)
    assert found.chain == LOG
    assert f"written under audit key {key_id(KEY)}, but the key in use is" in found.reason


def test_a_short_audit_key_is_refused() -> None:
    assert check_key(KEY) == KEY
    with pytest.raises(CarepoolError, match="CAREPOOL_AUDIT_KEY"):
        check_key(b"short")
