"""One error hierarchy for everything a user can get wrong.

A :class:`CarepoolError` is a user's problem, not a bug: the CLI prints it without a
traceback, the API wraps it in the JSON error envelope and the web shows it in a GOV.UK error
summary. Anything else that escapes is a bug and is reported as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with some input, and exactly where it is.

    ``where`` is whatever locates it for the person who must fix it: a file with row and
    column, a framework key, a sheet and cell.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    key: str | None = None
    cell: str | None = None  # a spreadsheet cell, e.g. Schemes!J5

    @property
    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        if self.key:
            parts.append(f"key {self.key!r}")
        if self.cell:
            parts.append(f"cell {self.cell}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class CarepoolError(Exception):
    """Something the user asked for cannot be done; the message says why."""

    code = "invalid_request"
    http_status = 400

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  … and {more} more" if more > 0 else ""
        return f"{self.message}\n{shown}{tail}"


class MoneyError(CarepoolError):
    """An amount is not valid money."""

    code = "invalid_money"


class FrameworkError(CarepoolError):
    """A programme year's policy framework is missing or invalid."""

    code = "invalid_framework"


class ImportRejected(CarepoolError):
    """An input file had problems; nothing from it was stored."""

    code = "import_rejected"
    http_status = 422

    @classmethod
    def from_problems(cls, source: str, problems: Iterable[Problem]) -> ImportRejected:
        found = list(problems)
        noun = "problem" if len(found) == 1 else "problems"
        return cls(f"{source}: {len(found)} {noun} found, nothing was imported", found)


class NotFound(CarepoolError):
    """The thing asked for does not exist (or the asker may not know it does)."""

    code = "not_found"
    http_status = 404


class Conflict(CarepoolError):
    """The request clashes with what is already stored."""

    code = "conflict"
    http_status = 409


class StateTransitionError(CarepoolError):
    """A workflow move that is not allowed from the current state."""

    code = "illegal_transition"
    http_status = 409


class Forbidden(CarepoolError):
    """The signed-in user's roles do not allow this."""

    code = "forbidden"
    http_status = 403
