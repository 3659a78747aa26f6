"""Integrated personal budgets: one budget per person, blended from NHS and council money.

A personal budget is the money a person's assessed needs are costed at, agreed in a support
plan and held for them in one of the ways the law allows. A *personal health budget* (the
NHS part) may be notional (the NHS commissions the services), held by a third party, or paid
to the person as a direct payment; the council part (adult social care) is council-managed
or a direct payment. Some people have a legal *right to have* a personal health budget: NHS
Continuing Healthcare adults (from October 2014), children's continuing care (from October
2014), section 117 mental health after-care and wheelchair users (personalised wheelchair
budgets). Others have one because the council assessed eligible needs.

The budget is refused unless its parts add up to the whole, to the penny, and its support
plan's costed lines add up to the whole too: a budget whose parts disagree cannot be
reported, posted or explained to the person.

The person is known only by their keyed pseudonym (:mod:`carepool.domain.pseudonym`): the
NHS number is never stored or printed.

The national personal health budget collection (NHS England's quarterly standard, DAPB2184)
counts people with a personal health budget **live at quarter end** apart from those **active
at any time in the year to date**; users of the figures complain when the two are confused, so
the reports here keep them as two named counts, computed by :func:`quarter_collection`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from carepool.domain.errors import CarepoolError, Problem
from carepool.domain.ledger import account
from carepool.domain.money import Pence, format_money
from carepool.domain.periods import Quarter, financial_year_start


class BudgetError(CarepoolError):
    """A personal budget that cannot be set up as given; nothing was stored."""

    code = "budget_refused"
    http_status = 422


class Eligibility(StrEnum):
    """Why the person has a personal budget: the national collection's eligibility groups."""

    CONTINUING_HEALTHCARE = "continuing_healthcare"
    CHILDRENS_CONTINUING_CARE = "childrens_continuing_care"
    SECTION_117 = "section_117_aftercare"
    WHEELCHAIR = "wheelchair"
    COUNCIL_ELIGIBLE = "council_eligible_needs"

    @property
    def label(self) -> str:
        return _ELIGIBILITY_LABELS[self]

    @property
    def right_to_have(self) -> bool:
        """Whether the person has a legal right to have a personal health budget."""
        return self is not Eligibility.COUNCIL_ELIGIBLE


_ELIGIBILITY_LABELS = {
    Eligibility.CONTINUING_HEALTHCARE: "NHS Continuing Healthcare",
    Eligibility.CHILDRENS_CONTINUING_CARE: "Children's continuing care",
    Eligibility.SECTION_117: "Section 117 after-care",
    Eligibility.WHEELCHAIR: "Personal wheelchair budget",
    Eligibility.COUNCIL_ELIGIBLE: "Council-eligible care and support needs",
}


class NhsHolding(StrEnum):
    """How the NHS part is held (the national collection's budget types)."""

    NOTIONAL = "notional"
    THIRD_PARTY = "third_party"
    DIRECT_PAYMENT = "direct_payment"


class CouncilHolding(StrEnum):
    """How the council part is held (adult social care's delivery mechanisms)."""

    COUNCIL_MANAGED = "council_managed"
    DIRECT_PAYMENT = "direct_payment"


class Part(StrEnum):
    """Which partner's share of the budget a movement belongs to."""

    NHS = "nhs"
    COUNCIL = "council"


class BudgetStatus(StrEnum):
    """Where a budget stands; each change is a history row, so any date's status is known."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


class TransactionKind(StrEnum):
    """What a line of a budget's transactions file is.

    Spend comes from direct-payment returns (what the person spent from their account),
    provider invoices (notional and third-party budgets, council-managed money) and card
    account statements (prepaid cards). A *recovery* is unspent direct-payment money taken
    back: it is not spend, it returns to the pool.
    """

    DIRECT_PAYMENT_RETURN = "direct_payment_return"
    PROVIDER_INVOICE = "provider_invoice"
    CARD_STATEMENT = "card_statement"
    RECOVERY = "recovery"

    @property
    def is_spend(self) -> bool:
        return self is not TransactionKind.RECOVERY


# --------------------------------------------------------------------------------------------
# The pool's personal-budget accounts (the sub-ledger)


class BudgetAccounts:
    """The pool accounts personal budgets post to, named in one place.

    Setting a budget up moves its amount from the pool's bank into the budgets' allocated
    account for each part; spend moves it from there to the personal-budget scheme's
    expenses; a recovery moves unspent direct-payment money back to the bank. So the
    allocated account is always what the budgets still hold, and the expenses account is
    always what they have spent.
    """

    @staticmethod
    def allocated(part: Part) -> str:
        return _ALLOCATED[part]

    @staticmethod
    def spend(part: Part) -> str:
        return _SPEND[part]


_PART_NAMES = {Part.NHS: "NHS", Part.COUNCIL: "Council"}
_ALLOCATED = {
    p: account("Assets", "PersonalBudget", "Allocated", n) for p, n in _PART_NAMES.items()
}
_SPEND = {p: account("Expenses", "Scheme", "PersonalBudgets", n) for p, n in _PART_NAMES.items()}


# --------------------------------------------------------------------------------------------
# A budget


@dataclass(frozen=True, slots=True)
class SupportPlanLine:
    """One costed line of the support plan (what the money buys, for the budget's span)."""

    description: str
    cost_pence: Pence


@dataclass(frozen=True, slots=True)
class BudgetTerms:
    """A personal budget as it is agreed: checked by :func:`budget_problems` before storing."""

    reference: str
    area_code: str
    person: str  # the keyed pseudonym, never the NHS number
    eligibility: Eligibility
    starts: dt.date
    ends: dt.date
    review_due: dt.date
    total_pence: int
    nhs_pence: int
    council_pence: int
    nhs_holding: NhsHolding | None
    council_holding: CouncilHolding | None
    support_plan: tuple[SupportPlanLine, ...] = field(default=())

    def part_pence(self, part: Part) -> int:
        return self.nhs_pence if part is Part.NHS else self.council_pence

    @property
    def is_health_budget(self) -> bool:
        """Whether it includes a personal health budget (an NHS part)."""
        return self.nhs_pence > 0


def budget_problems(terms: BudgetTerms) -> list[Problem]:
    """Why a budget cannot be set up (empty when it can), each naming its field."""
    problems: list[Problem] = []

    def say(column: str, message: str) -> None:
        problems.append(Problem(message, column=column))

    if not terms.reference.strip():
        say("reference", "a budget needs a reference")
    for column, amount in (
        ("total", terms.total_pence),
        ("nhs_amount", terms.nhs_pence),
        ("council_amount", terms.council_pence),
    ):
        if amount < 0:
            say(column, f"{format_money(amount)} is negative")
    if terms.total_pence <= 0:
        say("total", "a budget must be more than £0.00")
    if terms.nhs_pence + terms.council_pence != terms.total_pence:
        say(
            "total",
            f"the NHS share {format_money(terms.nhs_pence)} and the council share "
            f"{format_money(terms.council_pence)} add up to "
            f"{format_money(terms.nhs_pence + terms.council_pence)}, not the whole budget "
            f"{format_money(terms.total_pence)}",
        )
    problems.extend(_holding_problems(terms))
    if terms.ends < terms.starts:
        say("ends", f"the budget ends ({terms.ends}) before it starts ({terms.starts})")
    if terms.review_due < terms.starts:
        say("review_due", "the review date is before the budget starts")
    if (
        terms.eligibility is Eligibility.COUNCIL_ELIGIBLE
        and terms.nhs_pence
        and not (terms.council_pence)
    ):
        say("eligibility", "a budget for council-eligible needs alone needs a council share")
    problems.extend(_plan_problems(terms))
    return problems


def _holding_problems(terms: BudgetTerms) -> list[Problem]:
    problems = []
    if terms.nhs_pence > 0 and terms.nhs_holding is None:
        problems.append(
            Problem(
                "an NHS share needs how it is held (notional, third_party or direct_payment)",
                column="nhs_holding",
            )
        )
    if terms.nhs_pence == 0 and terms.nhs_holding is not None:
        problems.append(Problem("there is no NHS share to hold", column="nhs_holding"))
    if terms.council_pence > 0 and terms.council_holding is None:
        problems.append(
            Problem(
                "a council share needs how it is held (council_managed or direct_payment)",
                column="council_holding",
            )
        )
    if terms.council_pence == 0 and terms.council_holding is not None:
        problems.append(Problem("there is no council share to hold", column="council_holding"))
    return problems


def _plan_problems(terms: BudgetTerms) -> list[Problem]:
    if not terms.support_plan:
        return [Problem("a budget needs a costed support plan", column="support_plan")]
    problems = [
        Problem(
            f"the line {line.description!r} costs {format_money(line.cost_pence)}",
            column="support_plan",
        )
        for line in terms.support_plan
        if line.cost_pence <= 0 or not line.description.strip()
    ]
    costed = sum(line.cost_pence for line in terms.support_plan)
    if costed != terms.total_pence:
        problems.append(
            Problem(
                f"the support plan's lines cost {format_money(costed)}, not the whole budget "
                f"{format_money(terms.total_pence)}",
                column="support_plan",
            )
        )
    return problems


def require_valid(terms: BudgetTerms) -> None:
    problems = budget_problems(terms)
    if problems:
        raise BudgetError(f"budget {terms.reference!r} refused", problems)


def status_on(history: Sequence[tuple[dt.date, BudgetStatus]], day: dt.date) -> BudgetStatus | None:
    """The status in force at the end of ``day``: the latest change on or before it."""
    found = None
    for since, status in sorted(history, key=lambda change: change[0]):
        if since <= day:
            found = status
    return found


# --------------------------------------------------------------------------------------------
# The quarterly collection


@dataclass(frozen=True, slots=True)
class BudgetFacts:
    """What the collection needs of one budget: its dates, types, status history and spend."""

    eligibility: Eligibility
    starts: dt.date
    ends: dt.date
    nhs_pence: int
    council_pence: int
    nhs_holding: NhsHolding | None
    council_holding: CouncilHolding | None
    history: tuple[tuple[dt.date, BudgetStatus], ...]

    def live_on(self, day: dt.date) -> bool:
        """Live: set up, not ended, not suspended at the end of ``day``."""
        if not self.starts <= day <= self.ends:
            return False
        return status_on(self.history, day) is BudgetStatus.ACTIVE

    def active_between(self, first: dt.date, last: dt.date) -> bool:
        """Active at any time between the two days (so counted in the year to date)."""
        if self.starts > last or self.ends < first:
            return False
        changes = sorted(self.history)
        for index, (since, status) in enumerate(changes):
            until = (
                changes[index + 1][0] - dt.timedelta(days=1) if index + 1 < len(changes) else last
            )
            if status is BudgetStatus.ACTIVE and since <= last and until >= first:
                return True
        return False


@dataclass(frozen=True, slots=True)
class QuarterCollection:
    """The national personal health budget collection for a quarter, plus the council's
    direct-payment measure, from one set of budgets and their spend.

    ``live_at_quarter_end`` and ``active_in_year`` are people with a personal health budget
    (an NHS part); ``by_type`` and ``by_eligibility`` break down the live ones. The council's
    measure (ASCOF 1C style) is the share of people with a council part active in the year
    who take it as a direct payment.
    """

    quarter: str
    live_at_quarter_end: int
    active_in_year: int
    by_type: dict[str, int]
    by_eligibility: dict[str, int]
    active_in_year_by_eligibility: dict[str, int]
    spend_pence: int
    spend_year_to_date_pence: int
    direct_payment_spend_pence: int
    council_direct_payments: int
    council_people: int

    @property
    def council_direct_payment_share(self) -> Fraction | None:
        if not self.council_people:
            return None
        return Fraction(self.council_direct_payments, self.council_people)


def quarter_collection(
    q: Quarter,
    budgets: Iterable[BudgetFacts],
    spend_in_quarter: int,
    spend_year_to_date: int,
    direct_payment_spend: int,
) -> QuarterCollection:
    """Count the quarter's collection from the budgets (the reference computation)."""
    year_start = financial_year_start(q.financial_year)
    end = q.period.end
    live = active = council_dp = council_people = 0
    by_type: Counter[str] = Counter({h.value: 0 for h in NhsHolding})
    by_group: Counter[str] = Counter({e.value: 0 for e in Eligibility})
    active_group: Counter[str] = Counter({e.value: 0 for e in Eligibility})
    for budget in budgets:
        in_year = budget.active_between(year_start, end)
        if budget.nhs_pence > 0 and budget.nhs_holding is not None:
            if budget.live_on(end):
                live += 1
                by_type[budget.nhs_holding.value] += 1
                by_group[budget.eligibility.value] += 1
            if in_year:
                active += 1
                active_group[budget.eligibility.value] += 1
        if budget.council_pence > 0 and in_year:
            council_people += 1
            council_dp += budget.council_holding is CouncilHolding.DIRECT_PAYMENT
    return QuarterCollection(
        quarter=q.label,
        live_at_quarter_end=live,
        active_in_year=active,
        by_type=dict(by_type),
        by_eligibility=dict(by_group),
        active_in_year_by_eligibility=dict(active_group),
        spend_pence=spend_in_quarter,
        spend_year_to_date_pence=spend_year_to_date,
        direct_payment_spend_pence=direct_payment_spend,
        council_direct_payments=council_dp,
        council_people=council_people,
    )
