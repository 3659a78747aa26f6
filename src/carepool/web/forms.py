"""What every form page shares: the posted form, errors collected for the GOV.UK error
summary, and running a service step so that a refusal is shown on the page, not as a crash.

A page that takes a form collects every reason a step was refused in :class:`PageErrors`,
which the templates draw as the error summary and the messages beside each field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import FormData

from carepool.domain.errors import CarepoolError, Conflict, Problem

T = TypeVar("T")


async def posted_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form, for pages whose fields depend on the plan (one per contribution...).

    Starlette keeps the parsed form on the request, so this reads what the CSRF check read;
    uploaded files in it are closed once the response has been sent.
    """
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()


@dataclass
class PageErrors:
    """Messages for the error summary (each linked to a field when there is one) and the same
    messages beside their fields, with the HTTP status the page should be sent with."""

    summary: list[tuple[str, str]] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    status: int = 400
    report: str = ""  # every problem as CSV, when there are more than the summary shows
    more: int = 0

    def add(self, message: str, field_id: str = "") -> None:
        self.summary.append((field_id, message))
        if field_id and field_id not in self.fields:
            self.fields[field_id] = message

    def add_error(
        self,
        error: CarepoolError,
        field_id: str = "",
        located: Callable[[Problem], str] | None = None,
    ) -> None:
        """The error and its first problems in the summary; every problem in :attr:`report`.

        A file with thousands of bad rows would otherwise put thousands of links on one page:
        the first :data:`SHOWN` say what kind of thing is wrong, and the whole list
        downloads as a CSV to work through in a spreadsheet.
        """
        self.status = status_of(error)
        self.add(_sentence(error.message), field_id)
        say = located or problem_text
        for problem in error.problems[:SHOWN]:
            self.add(_sentence(say(problem)), field_id)
        self.more = max(0, len(error.problems) - SHOWN)
        if self.more:
            self.report = problem_report(error.problems)

    def __bool__(self) -> bool:
        return bool(self.summary)


def attempt(
    session: Session,
    errors: PageErrors,
    step: Callable[[], T],
    field_id: str = "",
    *,
    subject: str = "plan",
) -> T | None:
    """Run a service step; if it refuses, undo everything it did and keep its reasons.

    The request's unit of work commits whatever is in the session when the page is returned,
    so a refused step must be rolled back here, before the page showing the refusal is drawn.
    Two people saving at the same instant is told apart from a bug: it is a conflict, named
    after what they were changing (``subject``: "plan", "return"…).
    """
    try:
        return step()
    except CarepoolError as exc:
        session.rollback()
        errors.add_error(exc, field_id)
    except StaleDataError:
        session.rollback()
        errors.add_error(
            Conflict(
                f"someone else changed this {subject} at the same moment; look at it again, "
                "then do this again if it is still needed"
            ),
            field_id,
        )
    return None


SHOWN = 20
"""Problems listed in an error summary; beyond them the page offers the whole list as CSV."""


def problem_report(problems: Sequence[Problem]) -> str:
    """Every problem as CSV: file, row, column, cell, key and what is wrong."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["file", "row", "column", "cell", "key", "problem"])
    for p in problems:
        writer.writerow(
            [p.file or "", "" if p.row is None else p.row, p.column or "", p.cell or "",
             p.key or "", p.message]
        )  # fmt: skip
    return buffer.getvalue()


def problem_text(problem: Problem) -> str:
    """A problem as one line, starting with where it is: a workbook's sheet and cell, or a
    field of the plan (rule problems already name their section in the message)."""
    if problem.cell:
        return f"{problem.cell}: {problem.message}"
    if problem.key and problem.file and problem.key not in problem.message:
        return f"{problem.key}: {problem.message}"
    return problem.message


def _sentence(message: str) -> str:
    """Start with a capital, unless the message starts with a file or cell name."""
    first = message.split(" ", 1)[0]
    if not message or any(mark in first for mark in ".!_"):
        return message
    return message[:1].upper() + message[1:]


def status_of(error: CarepoolError) -> int:
    return error.http_status if error.http_status >= 400 else 400
