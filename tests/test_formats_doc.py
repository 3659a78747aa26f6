"""The documented person-level schemas are the ones the code declares."""

from __future__ import annotations

from pathlib import Path

from carepool.domain.person_level import RECORD_KINDS

FORMATS = Path(__file__).resolve().parent.parent / "docs" / "formats.md"


def test_every_record_kind_and_column_is_documented_with_its_allowed_values() -> None:
    rows = {
        line.split("`")[1]: line
        for line in FORMATS.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    }
    for kind in RECORD_KINDS:
        assert kind.name in rows, f"{kind.name} is not in docs/formats.md"
        for column in kind.columns:
            described = f"`{column.name}` ({column.type.value}"
            if column.allowed:
                described += ": " + ", ".join(column.allowed)
            assert described in rows[kind.name], f"{kind.name}.{column.name} differs in the docs"
