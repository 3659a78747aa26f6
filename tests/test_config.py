"""Keys kept outside the database: made once on first use, readable by their owner only."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from carepool.config import audit_key


def test_the_audit_key_is_made_once_and_kept_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAREPOOL_AUDIT_KEY")
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: audit_key(tmp_path), range(16)))
    [key] = keys
    assert len(key) >= 32 and audit_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "audit_key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["audit_key"]


def test_the_audit_key_from_the_environment_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_AUDIT_KEY", "a key the operator keeps elsewhere")
    assert audit_key(tmp_path) == b"a key the operator keeps elsewhere"
    assert not (tmp_path / "audit_key").exists()
