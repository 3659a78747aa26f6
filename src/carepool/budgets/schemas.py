"""Personal budgets as the command line's ``--json`` and the web's API give them.

The quarter report's key names (``live_at_quarter_end``, ``active_in_year``, ``by_type``,
``spend_pence``, ``ledger_agrees``) are a contract with its readers: keep them as they are.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from carepool.budgets.service import (
    BudgetImport,
    BudgetRow,
    PoolAgreement,
    QuarterReport,
    TransactionImport,
)
from carepool.domain.disclosure import protect_group, publish_count
from carepool.web.schemas.common import Pence, Schema


class BudgetOut(Schema):
    """One budget as listed: never the person's NHS number, only its pseudonym's first part."""

    reference: str
    area_code: str
    person: str
    eligibility: str
    starts: dt.date
    ends: dt.date
    review_due: dt.date
    status: str
    total_pence: Pence
    nhs_pence: Pence
    council_pence: Pence
    nhs_holding: str | None
    council_holding: str | None

    @classmethod
    def of(cls, row: BudgetRow) -> BudgetOut:
        return cls(
            reference=row.reference,
            area_code=row.area_code,
            person=row.person[:12],
            eligibility=row.eligibility,
            starts=row.starts,
            ends=row.ends,
            review_due=row.review_due,
            status=row.status,
            total_pence=row.total_pence,
            nhs_pence=row.nhs_pence,
            council_pence=row.council_pence,
            nhs_holding=row.nhs_holding,
            council_holding=row.council_holding,
        )


class BudgetImportOut(Schema):
    file: str
    sha256: str
    budgets: int
    total_pence: Pence

    @classmethod
    def of(cls, outcome: BudgetImport) -> BudgetImportOut:
        return cls(
            file=outcome.file_name,
            sha256=outcome.sha256,
            budgets=outcome.budgets,
            total_pence=outcome.total_pence,
        )


class TransactionImportOut(Schema):
    file: str
    sha256: str
    rows: int
    spend_pence: Pence
    recovered_pence: Pence
    entries: int

    @classmethod
    def of(cls, outcome: TransactionImport) -> TransactionImportOut:
        return cls(
            file=outcome.file_name,
            sha256=outcome.sha256,
            rows=outcome.rows,
            spend_pence=outcome.spend_pence,
            recovered_pence=outcome.recovered_pence,
            entries=outcome.entries,
        )


class PoolAgreementOut(Schema):
    year: str
    area_code: str
    ledger_spend_pence: Pence
    budget_spend_pence: Pence
    ledger_allocated_pence: Pence
    budget_allocated_pence: Pence
    agrees: bool

    @classmethod
    def of(cls, pool: PoolAgreement) -> PoolAgreementOut:
        return cls(
            year=pool.year,
            area_code=pool.area_code,
            ledger_spend_pence=pool.ledger_spend_pence,
            budget_spend_pence=pool.budget_spend_pence,
            ledger_allocated_pence=pool.ledger_allocated_pence,
            budget_allocated_pence=pool.budget_allocated_pence,
            agrees=pool.agrees,
        )


class CouncilDirectPayments(Schema):
    """The council's measure (ASCOF 1C style): people with a council part active in the year
    and how many take it as a direct payment; the percentage to one decimal place."""

    direct_payments: int
    people: int
    percent: str | None


class PublishedCollection(Schema):
    """The counts as published: 1 to 7 suppressed (``null``), others rounded to 5; the
    breakdowns with secondary suppression, so no suppressed cell can be worked out from the
    others and their total."""

    live_at_quarter_end: int | None
    active_in_year: int | None
    by_type: dict[str, int | None]
    by_eligibility: dict[str, int | None]


class QuarterReportOut(Schema):
    """The quarter's national personal health budget collection, for one area or England.

    ``live_at_quarter_end`` counts budgets live on the quarter's last day; ``active_in_year``
    those active at any time from the start of the financial year to the quarter's end.
    ``by_type`` breaks the live ones down by how the NHS part is held. ``spend_pence`` is the
    quarter's spend (recoveries are not spend). ``ledger_agrees`` is true when every pool's
    personal-budget accounts equal the budgets' allocations and spend to the penny.
    """

    quarter: str
    area_code: str | None
    live_at_quarter_end: int
    active_in_year: int
    by_type: dict[str, int]
    by_eligibility: dict[str, int]
    active_in_year_by_eligibility: dict[str, int]
    spend_pence: Pence
    spend_year_to_date_pence: Pence
    direct_payment_spend_pence: Pence
    council_direct_payments: CouncilDirectPayments
    overspent_budgets: int
    ledger_agrees: bool
    pools: list[PoolAgreementOut]
    published: PublishedCollection

    @classmethod
    def of(cls, report: QuarterReport) -> QuarterReportOut:
        c = report.collection
        share = c.council_direct_payment_share
        percent = None
        if share is not None:
            exact = Decimal(share.numerator) * 100 / Decimal(share.denominator)
            percent = str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        by_type, by_group = protect_group(c.by_type), protect_group(c.by_eligibility)
        return cls(
            quarter=c.quarter,
            area_code=report.area_code,
            live_at_quarter_end=c.live_at_quarter_end,
            active_in_year=c.active_in_year,
            by_type=c.by_type,
            by_eligibility=c.by_eligibility,
            active_in_year_by_eligibility=c.active_in_year_by_eligibility,
            spend_pence=c.spend_pence,
            spend_year_to_date_pence=c.spend_year_to_date_pence,
            direct_payment_spend_pence=c.direct_payment_spend_pence,
            council_direct_payments=CouncilDirectPayments(
                direct_payments=c.council_direct_payments,
                people=c.council_people,
                percent=percent,
            ),
            overspent_budgets=report.overspent,
            ledger_agrees=report.ledger_agrees,
            pools=[PoolAgreementOut.of(pool) for pool in report.pools],
            published=PublishedCollection(
                live_at_quarter_end=publish_count(c.live_at_quarter_end).value,
                active_in_year=publish_count(c.active_in_year).value,
                by_type={k: cell.value for k, cell in by_type.cells.items()},
                by_eligibility={k: cell.value for k, cell in by_group.cells.items()},
            ),
        )
