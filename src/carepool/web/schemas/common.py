"""What every schema shares: the base model, money in pence, times, and the error envelope."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from carepool.domain.errors import Problem


class Schema(BaseModel):
    """A response shape: frozen, no undeclared keys, and keys written by their aliases (so a
    field can be called ``from`` or ``return`` in JSON) both by FastAPI and ``model_dump``."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", serialize_by_alias=True, validate_by_name=True
    )


Pence = Annotated[int, Field(strict=True, description="an amount in integer pence")]
"""Money in a response: whole pence, never a float (strict, so a float is a bug caught here)."""

Timestamp = Annotated[str, Field(description="an ISO 8601 date and time")]


def utc_iso(moment: dt.datetime) -> str:
    """SQLite gives times back without their zone; every stored time is UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


class ProblemOut(Schema):
    """One problem with what was sent or stored: where it is (file, row, column, key, cell)
    as far as it is known, and what is wrong."""

    message: str
    file: str | None
    row: int | None
    column: str | None
    key: str | None
    cell: str | None

    @classmethod
    def of(cls, problem: Problem) -> ProblemOut:
        return cls(
            message=problem.message,
            file=problem.file,
            row=problem.row,
            column=problem.column,
            key=problem.key,
            cell=problem.cell,
        )


class ErrorBody(Schema):
    code: str
    message: str
    problems: list[ProblemOut]


class ErrorEnvelope(Schema):
    """The shape of every API error response (documented in the OpenAPI schema)."""

    error: ErrorBody
