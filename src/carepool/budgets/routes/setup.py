"""The set-up form for a blended personal budget: read every field, say what is wrong with each.

The form asks for the person's NHS number so the service can pseudonymise it; the number is
read once and never put back into the page, not even when the form is shown again with
errors (the person retypes it). Amounts are read by the one money parser; the support plan's
lines must add up to the budget (the NHS and council parts together) to the penny.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from carepool.domain.errors import CarepoolError
from carepool.domain.money import Pence, parse_money
from carepool.domain.personal_budget import (
    BudgetTerms,
    CouncilHolding,
    Eligibility,
    NhsHolding,
    SupportPlanLine,
)
from carepool.domain.pseudonym import is_valid_nhs_number

PLAN_LINES = 6
"""Support plan lines the form offers (it works without JavaScript, so a fixed number)."""

NHS_HOLDINGS = tuple(h.value for h in NhsHolding)
COUNCIL_HOLDINGS = tuple(h.value for h in CouncilHolding)
ELIGIBILITY = tuple(e.value for e in Eligibility)

FIELD_OF_COLUMN = {
    "reference": "reference",
    "nhs_number": "nhs-number",
    "eligibility": "eligibility",
    "starts": "starts-day",
    "ends": "ends-day",
    "review_due": "review-day",
    "total": "nhs-amount",
    "nhs_amount": "nhs-amount",
    "council_amount": "council-amount",
    "nhs_holding": "nhs-holding",
    "council_holding": "council-holding",
    "support_plan": "plan-1-description",
}
"""Where on the form each of the service's problems belongs (by the column it names)."""


@dataclass(frozen=True, slots=True)
class PlanLine:
    description: str
    cost: str


@dataclass(frozen=True, slots=True)
class Checked:
    """A set-up form whose every field could be read: the NHS number and the budget's
    terms, which the service checks as a whole (parts and plan adding up, dates in order)."""

    nhs_number: str
    terms: BudgetTerms


@dataclass(frozen=True, slots=True)
class SetUpForm:
    """What was typed, shown back in the form (every field but the NHS number)."""

    values: dict[str, str] = field(default_factory=dict)
    plan: tuple[PlanLine, ...] = ()
    checked: Checked | None = None

    @classmethod
    def empty(cls) -> SetUpForm:
        return cls({}, tuple(PlanLine("", "") for _ in range(PLAN_LINES)))

    def value(self, name: str) -> str:
        return self.values.get(name, "")


_FIELDS = (
    "reference", "eligibility",
    "starts-day", "starts-month", "starts-year",
    "ends-day", "ends-month", "ends-year",
    "review-day", "review-month", "review-year",
    "nhs-amount", "nhs-holding", "council-amount", "council-holding",
)  # fmt: skip


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


class _Checker:
    """Collects one message per field, in the order the fields appear on the page."""

    def __init__(self, form: FormData) -> None:
        self.form = form
        self.messages: list[tuple[str, str]] = []

    def fail(self, field_id: str, message: str) -> None:
        self.messages.append((field_id, message))

    def money(self, field_id: str, label: str, *, required: bool = False) -> Pence:
        text = _text(self.form, field_id)
        if not text:
            if required:
                self.fail(field_id, f"Enter {label}")
            return Pence(0)
        try:
            return parse_money(text)
        except CarepoolError as exc:
            self.fail(field_id, f"{label[:1].upper()}{label[1:]}: {exc.message}")
            return Pence(0)

    def date(self, prefix: str, label: str) -> dt.date | None:
        parts = [_text(self.form, f"{prefix}-{p}") for p in ("day", "month", "year")]
        if not all(parts):
            self.fail(f"{prefix}-day", f"Enter {label} as a day, month and year")
            return None
        if not all(p.isascii() and p.isdigit() for p in parts):
            self.fail(f"{prefix}-day", f"{label[:1].upper()}{label[1:]} must be numbers")
            return None
        try:
            return dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            self.fail(f"{prefix}-day", f"{label[:1].upper()}{label[1:]} must be a real date")
            return None

    def choice(self, field_id: str, allowed: tuple[str, ...], message: str) -> str:
        value = _text(self.form, field_id)
        if value not in allowed:
            self.fail(field_id, message)
        return value


def _plan(form: FormData, check: _Checker) -> tuple[tuple[PlanLine, ...], list[tuple[str, Pence]]]:
    lines, costed = [], []
    for number in range(1, PLAN_LINES + 1):
        text, cost = _text(form, f"plan-{number}-description"), _text(form, f"plan-{number}-cost")
        lines.append(PlanLine(text, cost))
        if not (text or cost):
            continue
        if not text:
            check.fail(
                f"plan-{number}-description", f"Say what support plan line {number} pays for"
            )
        pence = check.money(f"plan-{number}-cost", f"the cost of support plan line {number}",
                            required=True)  # fmt: skip
        costed.append((text, pence))
    return tuple(lines), costed


def read_set_up(form: FormData, area_code: str) -> tuple[SetUpForm, list[tuple[str, str]]]:
    """The form as typed and every problem reading it (field id, message); when there is
    none, the budget's terms for the service to check and set up."""
    check = _Checker(form)
    reference = _text(form, "reference")
    if not reference:
        check.fail("reference", "Enter the budget's reference")
    nhs_number = _text(form, "nhs-number")
    if not nhs_number:
        check.fail("nhs-number", "Enter the person's NHS number")
    elif not is_valid_nhs_number(nhs_number):
        check.fail(
            "nhs-number", "Enter a valid NHS number: 10 digits whose last is the check digit"
        )
    eligibility = check.choice("eligibility", ELIGIBILITY, "Choose why the person has a budget")
    starts = check.date("starts", "the date the budget starts")
    ends = check.date("ends", "the date the budget ends")
    review = check.date("review", "the review date")
    nhs = check.money("nhs-amount", "the NHS part")
    nhs_holding = _holding(check, "nhs", nhs, NHS_HOLDINGS)
    council = check.money("council-amount", "the council part")
    council_holding = _holding(check, "council", council, COUNCIL_HOLDINGS)
    lines, costed = _plan(form, check)
    typed = {name: _text(form, name) for name in _FIELDS}
    if check.messages or starts is None or ends is None or review is None:
        return SetUpForm(typed, lines), check.messages
    terms = BudgetTerms(
        reference=reference,
        area_code=area_code,
        person="",
        eligibility=Eligibility(eligibility),
        starts=starts,
        ends=ends,
        review_due=review,
        total_pence=nhs + council,
        nhs_pence=nhs,
        council_pence=council,
        nhs_holding=NhsHolding(nhs_holding) if nhs_holding else None,
        council_holding=CouncilHolding(council_holding) if council_holding else None,
        support_plan=tuple(SupportPlanLine(text, cost) for text, cost in costed),
    )
    return SetUpForm(typed, lines, Checked(nhs_number, terms)), []


def _holding(check: _Checker, part: str, amount: int, allowed: tuple[str, ...]) -> str:
    if not amount:
        return ""
    return check.choice(f"{part}-holding", allowed, f"Choose how the {part} part is held")
