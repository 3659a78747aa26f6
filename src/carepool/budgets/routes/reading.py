"""What the budget pages read, in the shapes their templates draw.

The pages call the budgets service only through this module, so each template is written
against one small, stable set of view types whatever the service's own types look like.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from carepool import config
from carepool.budgets import service
from carepool.budgets.published import GROUP_LABELS, Counts
from carepool.budgets.routes.setup import (
    COUNCIL_HOLDINGS,
    ELIGIBILITY,
    FIELD_OF_COLUMN,
    NHS_HOLDINGS,
    Checked,
)
from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.money import format_money
from carepool.domain.periods import Quarter, programme_financial_years, quarters_of
from carepool.domain.personal_budget import BudgetStatus, Eligibility
from carepool.domain.roles import SYSTEM, Principal
from carepool.geography.service import year_geography
from carepool.pools.service import ledger
from carepool.web.forms import PageErrors

HOLDING_LABELS = {
    "notional": "Notional",
    "third_party": "Third party",
    "direct_payment": "Direct payment",
    "council_managed": "Council-managed",
}
STATUS_LABELS = {s.value: s.value.capitalize() for s in BudgetStatus}
KIND_LABELS = {
    "direct_payment_return": "Direct payment return",
    "provider_invoice": "Provider invoice",
    "card_statement": "Card account statement",
    "recovery": "Recovery of unspent money",
}
PART_LABELS = {"nhs": "NHS", "council": "Council"}

UNSPENT_SHARE = 2
"""A budget is flagged *largely unspent* when less than 1/UNSPENT_SHARE of what it should have
spent by now (its whole, pro rata to the time gone) has been spent: the coordinator then
reviews the support plan and, for a direct payment, recovers what is not needed."""

SHOWN = 200
"""Budgets listed on one page; filters narrow a long list."""


@dataclass(frozen=True, slots=True)
class Filters:
    status: str = ""
    eligibility: str = ""
    holding: str = ""

    @property
    def any(self) -> bool:
        return bool(self.status or self.eligibility or self.holding)


@dataclass(frozen=True, slots=True)
class Choices:
    statuses: tuple[tuple[str, str], ...]
    eligibility: tuple[tuple[str, str], ...]
    nhs_holdings: tuple[tuple[str, str], ...]
    council_holdings: tuple[tuple[str, str], ...]
    holdings: tuple[tuple[str, str], ...]


def filter_choices() -> Choices:
    """Every value a filter or the set-up form offers, with its label."""
    return Choices(
        statuses=tuple(STATUS_LABELS.items()),
        eligibility=tuple((c, GROUP_LABELS[c]) for c in ELIGIBILITY),
        nhs_holdings=tuple((c, HOLDING_LABELS[c]) for c in NHS_HOLDINGS),
        council_holdings=tuple((c, HOLDING_LABELS[c]) for c in COUNCIL_HOLDINGS),
        holdings=tuple(HOLDING_LABELS.items()),
    )


# ---------------------------------------------------------------------------------------
# Areas and quarters


def area_name(session: Session, area_code: str) -> str:
    """The area's name; an area with no pool (so no budgets) is a 404."""
    pool = next((p for p in ledger.pools(session) if p.area_code == area_code), None)
    if pool is None:
        raise NotFound(f"there is no pooled budget for {area_code!r}, so no personal budgets")
    return year_geography(session, pool.year).area(area_code).name


def areas(session: Session) -> list[tuple[str, str]]:
    """Every area with a pool, by name: (code, name)."""
    found: dict[str, str] = {}
    for pool in ledger.pools(session):
        if pool.area_code not in found:
            found[pool.area_code] = year_geography(session, pool.year).area(pool.area_code).name
    return sorted(found.items(), key=lambda item: item[1])


def quarters(session: Session) -> list[Quarter]:
    """The quarters of every financial year a pool covers, in order."""
    years = {y for pool in ledger.pools(session) for y in programme_financial_years(pool.year)}
    return quarters_of(sorted(years))


def chosen_quarter(session: Session, offered: list[Quarter], slug: str | None) -> Quarter:
    """The quarter asked for, else the latest ended quarter of the latest year with budgets."""
    if slug:
        for q in offered:
            if q.slug.lower() == slug.strip().lower():
                return q
        raise NotFound(f"there is no quarter {slug!r} with personal budgets")
    if not offered:
        raise NotFound("there are no pooled budgets yet, so no personal budgets")
    today = dt.date.today()
    ended = [q for q in offered if q.period.end <= today] or offered
    for year in sorted({q.financial_year for q in ended}, reverse=True):
        last = [q for q in ended if q.financial_year == year][-1]
        if _report(session, last, None).collection.active_in_year:
            return last
    return ended[-1]


_REPORTS = "carepool.budget_reports"


def _report(session: Session, q: Quarter, area_code: str | None) -> service.QuarterReport:
    """The core report, read as the system: only its aggregates leave this module, and the
    pages publish them through disclosure control unless the viewer may see them exact.

    Kept for the unit of work, so choosing the default quarter and showing it read it once.
    """
    kept: dict[tuple[str, str | None], service.QuarterReport] = session.info.setdefault(
        _REPORTS, {}
    )
    key = (q.label, area_code)
    if key not in kept:
        kept[key] = service.quarter_report(session, q.financial_year, q.number, SYSTEM, area_code)
    return kept[key]


def collection(session: Session, q: Quarter, area_code: str | None) -> Counts:
    place = area_name(session, area_code) if area_code else "England"
    return Counts.of(_report(session, q, area_code), q, place)


# ---------------------------------------------------------------------------------------
# People's budgets


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One budget in the area's list."""

    reference: str
    eligibility: str
    status: str
    holdings: str
    budget_pence: int
    spent_pence: int
    starts: dt.date
    ends: dt.date
    review: dt.date
    overspent: bool
    unspent: bool


def _holdings(nhs: str | None, council: str | None) -> str:
    parts = [f"NHS: {HOLDING_LABELS.get(nhs, nhs)}" if nhs else "",
             f"council: {HOLDING_LABELS.get(council, council)}" if council else ""]  # fmt: skip
    return "; ".join(p for p in parts if p)


def _matches(row: service.BudgetRow, chosen: Filters) -> bool:
    return (
        (not chosen.status or row.status == chosen.status)
        and (not chosen.eligibility or row.eligibility == chosen.eligibility)
        and (not chosen.holding or chosen.holding in (row.nhs_holding, row.council_holding))
    )


def budgets(
    session: Session, area_code: str, chosen: Filters, viewer: Principal
) -> tuple[list[BudgetLine], int]:
    """The area's budgets matching the filters (at most :data:`SHOWN`), and how many match."""
    rows = [r for r in service.list_budgets(session, area_code, viewer) if _matches(r, chosen)]
    today = dt.date.today()
    lines = [
        BudgetLine(
            reference=r.reference,
            eligibility=GROUP_LABELS.get(r.eligibility, r.eligibility),
            status=STATUS_LABELS.get(r.status, r.status),
            holdings=_holdings(r.nhs_holding, r.council_holding),
            budget_pence=r.total_pence,
            spent_pence=r.spent_pence,
            starts=r.starts,
            ends=r.ends,
            review=r.review_due,
            overspent=r.spent_pence > r.total_pence,
            unspent=largely_unspent(
                r.total_pence, r.spent_pence, r.starts, r.ends, min(today, r.ends)
            ),
        )
        for r in rows[:SHOWN]
    ]
    return lines, len(rows)


@dataclass(frozen=True, slots=True)
class Part:
    funder: str
    holding: str
    amount_pence: int
    spent_pence: int


@dataclass(frozen=True, slots=True)
class Spend:
    part: str
    kind: str
    amount_pence: int


@dataclass(frozen=True, slots=True)
class Change:
    since: dt.date
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class BudgetPage:
    reference: str
    pseudonym: str
    eligibility: str
    right_to_have: bool
    status: str
    starts: dt.date
    ends: dt.date
    review: dt.date
    parts: tuple[Part, ...]
    plan: tuple[tuple[str, int], ...]
    history: tuple[Change, ...]
    spend: tuple[Spend, ...]
    budget_pence: int
    spent_pence: int
    recovered_pence: int
    overspent: bool
    unspent: bool

    @property
    def remaining_pence(self) -> int:
        return self.budget_pence - self.spent_pence - self.recovered_pence


def largely_unspent(total: int, spent: int, starts: dt.date, ends: dt.date, on: dt.date) -> bool:
    """Whether less than half of what the budget should have spent by ``on`` is spent."""
    if on <= starts or total <= 0:
        return False
    span = (ends - starts).days + 1
    gone = min(span, (on - starts).days + 1)
    return spent * UNSPENT_SHARE * span < total * gone


def budget(session: Session, area_code: str, reference: str, viewer: Principal) -> BudgetPage:
    """One budget of the area; a budget of another area reads exactly like a missing one."""
    detail = service.budget_detail(session, reference, viewer)
    row = detail.budget
    if row.area_code != area_code:
        raise NotFound(f"there is no budget {reference!r}")
    spent = {part: 0 for part in PART_LABELS}
    recovered = 0
    for (part, kind), pence in detail.spend.items():
        if kind == "recovery":
            recovered += pence
        else:
            spent[part] = spent.get(part, 0) + pence
    parts = tuple(
        Part(PART_LABELS[part], HOLDING_LABELS.get(holding or "", holding or ""), amount,
             spent[part])
        for part, holding, amount in (("nhs", row.nhs_holding, row.nhs_pence),
                                      ("council", row.council_holding, row.council_pence))
        if amount
    )  # fmt: skip
    eligibility = Eligibility(row.eligibility)
    return BudgetPage(
        reference=row.reference,
        pseudonym=row.person[:12],
        eligibility=eligibility.label,
        right_to_have=eligibility.right_to_have,
        status=STATUS_LABELS.get(row.status, row.status),
        starts=row.starts,
        ends=row.ends,
        review=row.review_due,
        parts=parts,
        plan=tuple(detail.support_plan),
        history=tuple(Change(s, STATUS_LABELS.get(t, t), r) for s, t, r in detail.history),
        spend=tuple(
            Spend(PART_LABELS.get(p, p), KIND_LABELS.get(k, k), v)
            for (p, k), v in sorted(detail.spend.items())
        ),
        budget_pence=row.total_pence,
        spent_pence=detail.spent_pence,
        recovered_pence=recovered,
        overspent=detail.overspent,
        unspent=largely_unspent(row.total_pence, detail.spent_pence, row.starts, row.ends,
                                min(dt.date.today(), row.ends)),
    )  # fmt: skip


def set_up(session: Session, checked: Checked, viewer: Principal) -> str:
    """Set the budget up (its NHS number pseudonymised on entry); its reference."""
    request = service.BudgetRequest(checked.nhs_number, checked.terms)
    made = service.create_budget(session, request, viewer, key=config.pseudonym_key())
    return made.reference


def field_errors(errors: PageErrors, error: CarepoolError) -> None:
    """The service's refusal on the form: each problem beside the field it names."""
    errors.status = error.http_status if error.http_status >= 400 else 400
    if not error.problems:
        errors.add(_sentence(error.message))
    for problem in error.problems:
        errors.add(_sentence(problem.message), FIELD_OF_COLUMN.get(problem.column or "", ""))


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def import_transactions(session: Session, path: Path, viewer: Principal) -> str:
    """Import a transactions file; what was posted, in a sentence."""
    done = service.import_transactions(session, path, viewer)
    spent = format_money(done.spend_pence)
    said = f"{done.file_name}: {done.rows:,} transactions posted ({spent} spent"
    if done.recovered_pence:
        said += f", {format_money(done.recovered_pence)} recovered"
    return said + ")"
