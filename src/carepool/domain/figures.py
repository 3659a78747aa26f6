"""Where each figure in a framework comes from, and which figures are not yet confirmed.

A framework file says what the policy was; the people who run the programme need to know how
sure that is. Every figure (a national total, an earmark, a pot, a deadline, a share) cites a
source, and one that no source confirms is marked unconfirmed with the reason, so pages and
the issue log can list what still needs checking instead of presenting a guess as a fact.

Figures are named by a *key path* that reads like the file: ``streams.ccg_minimum.totals.2016-17``
walks to the table whose ``id`` is ``ccg_minimum`` in the ``streams`` list, then its
``totals`` entry for 2016-17. List items are found by their ``id`` (or ``metric``, ``kind``
or ``name``), so a path survives reordering the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel

ITEM_NAMES = ("id", "metric", "kind", "name")
"""The fields that identify an item of a list in a key path, in order of preference."""

LEGACY_MARKER = "(verify)"
"""How the first framework files marked an unconfirmed figure: in the note beside it."""


@dataclass(frozen=True, slots=True)
class FigureStatus:
    """One figure's key path, its source and, when unconfirmed, why."""

    key: str
    source: str
    unconfirmed: str = ""

    @property
    def confirmed(self) -> bool:
        return not self.unconfirmed


def resolve(root: object, path: str) -> object:
    """The value at ``path`` in ``root``; ``KeyError`` naming the first part that is not there."""
    current = root
    walked: list[str] = []
    for part in path.split("."):
        current = _step(current, part, ".".join(walked) or "the framework")
        walked.append(part)
    return current


def _step(current: object, part: str, where: str) -> object:
    if isinstance(current, BaseModel):
        if part in type(current).model_fields:
            return getattr(current, part)
    elif isinstance(current, Mapping):
        for key, value in current.items():
            if _text(key) == part:
                return value
    elif isinstance(current, Sequence) and not isinstance(current, str):
        found = [item for item in current if _identifies(item, part)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise KeyError(f"{part!r} names {len(found)} items of {where}; it must name one")
    raise KeyError(f"{where} has no {part!r}")


def _identifies(item: object, part: str) -> bool:
    for name in ITEM_NAMES:
        value = getattr(item, name, None)
        if value is not None:
            return _text(value) == part
    return False


def _text(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)
