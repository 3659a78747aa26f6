"""The audit chain detects any edited, removed or reordered event."""

from __future__ import annotations

import dataclasses

from carepool.domain.audit import GENESIS, AuditRecord, event_hash, verify_chain


def _chain(n: int) -> list[AuditRecord]:
    records, previous = [], GENESIS
    for sequence in range(1, n + 1):
        fields = dict(sequence=sequence, at=f"2015-04-0{sequence}T00:00:00+00:00", actor="national",
                      action="create", entity="allocation_run", entity_id=str(sequence),
                      before=None, after={"total_pence": sequence * 100})  # fmt: skip
        digest = event_hash(previous_hash=previous, **fields)  # type: ignore[arg-type]
        records.append(AuditRecord(**fields, previous_hash=previous, hash=digest))  # type: ignore[arg-type]
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
