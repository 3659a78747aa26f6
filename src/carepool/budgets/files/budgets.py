"""The personal budgets file: one row per budget (CSV, or the first sheet of an XLSX).

Columns (see docs/formats.md): ``reference``, ``area``, ``nhs_number``, ``eligibility``,
``starts``, ``ends``, ``review_due``, ``total``, ``nhs_amount``, ``nhs_holding``,
``council_amount``, ``council_holding``, ``support_plan``. The support plan is written in one
cell as ``description: amount`` lines separated by ``;``.

The NHS number is checked and replaced by its keyed pseudonym as the row is read; the number
itself goes no further than this module, and no message repeats it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from carepool.domain.errors import MoneyError
from carepool.domain.money import Pence, parse_money
from carepool.domain.personal_budget import (
    BudgetTerms,
    CouncilHolding,
    Eligibility,
    NhsHolding,
    SupportPlanLine,
    budget_problems,
)
from carepool.domain.pseudonym import is_valid_nhs_number
from carepool.io.tabular import (
    ProblemLog,
    Row,
    date_field,
    optional_text,
    read_table,
    required_text,
)

BUDGET_COLUMNS = (
    "reference",
    "area",
    "nhs_number",
    "eligibility",
    "starts",
    "ends",
    "review_due",
    "total",
    "nhs_amount",
    "nhs_holding",
    "council_amount",
    "council_holding",
    "support_plan",
)


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """A budget as read from its row."""

    row: int
    terms: BudgetTerms


@dataclass(frozen=True, slots=True)
class BudgetFile:
    source: str
    lines: tuple[BudgetLine, ...]
    log: ProblemLog


def read_budgets(path: Path, pseudonymise: Callable[[str], str]) -> BudgetFile:
    """Read and check every row; problems are collected with their row and column."""
    table = read_table(path, required=BUDGET_COLUMNS)
    log = table.problem_log()
    lines = []
    seen: dict[str, int] = {}
    for row in table.rows:
        terms = _terms(row, log, pseudonymise)
        if terms is None:
            continue
        if terms.reference in seen:
            log.add(
                f"budget {terms.reference!r} is also on row {seen[terms.reference]}",
                row=row.number,
                column="reference",
            )
            continue
        seen[terms.reference] = row.number
        lines.append(BudgetLine(row.number, terms))
    return BudgetFile(table.source, tuple(lines), log)


def _terms(row: Row, log: ProblemLog, pseudonymise: Callable[[str], str]) -> BudgetTerms | None:
    before = len(log)
    reference = required_text(row, "reference", log)
    area = required_text(row, "area", log)
    person = _person(row, log, pseudonymise)
    eligibility = _choice(row, "eligibility", Eligibility, log, required=True)
    nhs_holding = _choice(row, "nhs_holding", NhsHolding, log)
    council_holding = _choice(row, "council_holding", CouncilHolding, log)
    starts = date_field(row, "starts", log)
    ends = date_field(row, "ends", log)
    review = date_field(row, "review_due", log)
    total = _money(row, "total", log)
    nhs = _money(row, "nhs_amount", log, blank_is_zero=True)
    council = _money(row, "council_amount", log, blank_is_zero=True)
    plan = _support_plan(row, log)
    if len(log) > before:
        return None
    assert reference and area and person and eligibility and starts and ends and review
    assert total is not None and nhs is not None and council is not None and plan is not None
    terms = BudgetTerms(
        reference=reference,
        area_code=area,
        person=person,
        eligibility=Eligibility(eligibility),
        starts=starts,
        ends=ends,
        review_due=review,
        total_pence=total,
        nhs_pence=nhs,
        council_pence=council,
        nhs_holding=NhsHolding(nhs_holding) if nhs_holding else None,
        council_holding=CouncilHolding(council_holding) if council_holding else None,
        support_plan=plan,
    )
    for problem in budget_problems(terms):
        log.add(problem.message, row=row.number, column=problem.column)
    return None if len(log) > before else terms


def _person(row: Row, log: ProblemLog, pseudonymise: Callable[[str], str]) -> str | None:
    text = row["nhs_number"].strip()
    if not text:
        log.add(
            "this cell is blank but an NHS number is required", row=row.number, column="nhs_number"
        )
        return None
    if not is_valid_nhs_number(text):
        log.add(
            "this is not a valid NHS number (10 digits with a correct check digit)",
            row=row.number,
            column="nhs_number",
        )
        return None
    return pseudonymise("".join(c for c in text if c.isdigit()))


def _choice(
    row: Row,
    column: str,
    kind: type[Eligibility] | type[NhsHolding] | type[CouncilHolding],
    log: ProblemLog,
    *,
    required: bool = False,
) -> str | None:
    value = optional_text(row, column).lower()
    if not value:
        if required:
            log.add("this cell is blank but a value is required", row=row.number, column=column)
        return None
    allowed = [member.value for member in kind]
    if value not in allowed:
        log.add(f"{value!r} is not one of {', '.join(allowed)}", row=row.number, column=column)
        return None
    return value


def _money(row: Row, column: str, log: ProblemLog, *, blank_is_zero: bool = False) -> Pence | None:
    text = row[column].strip()
    if not text and blank_is_zero:
        return Pence(0)
    if not text:
        log.add("this cell is blank but an amount is required", row=row.number, column=column)
        return None
    try:
        return parse_money(text)
    except MoneyError as exc:
        log.add(exc.message, row=row.number, column=column)
        return None


def _support_plan(row: Row, log: ProblemLog) -> tuple[SupportPlanLine, ...] | None:
    text = row["support_plan"].strip()
    if not text:
        log.add("a budget needs a costed support plan", row=row.number, column="support_plan")
        return None
    lines = []
    for part in (p.strip() for p in text.split(";") if p.strip()):
        description, colon, amount = part.rpartition(":")
        try:
            if not colon or not description.strip():
                raise MoneyError(f"{part!r} is not 'description: amount'")
            lines.append(SupportPlanLine(description.strip(), parse_money(amount)))
        except MoneyError as exc:
            log.add(exc.message, row=row.number, column="support_plan")
            return None
    return tuple(lines)
