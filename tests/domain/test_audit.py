"""Each audit chain detects any edited, removed or reordered event; a checkpoint, a truncation."""

from __future__ import annotations

import dataclasses

from carepool.domain.audit import (
    GENESIS,
    NATIONAL,
    AuditRecord,
    ChainHead,
    event_hash,
    genesis,
    pool_chain,
    verify_chain,
    verify_checkpoint,
)

POOL = pool_chain("2017-19/E06000052")


def _chain(n: int, chain: str = NATIONAL) -> list[AuditRecord]:
    records, previous = [], genesis(chain)
    for sequence in range(1, n + 1):
        fields = dict(sequence=sequence, at=f"2015-04-0{sequence}T00:00:00+00:00", actor="national",
                      action="create", entity="allocation_run", entity_id=str(sequence),
                      before=None, after={"total_pence": sequence * 100})  # fmt: skip
        digest = event_hash(previous_hash=previous, **fields)  # type: ignore[arg-type]
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
