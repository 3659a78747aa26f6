"""Pooled budgets: pools at a glance, one pool's balances and budget against actual, its
ledger entries, and its quarterly returns. A ledger entry has one shape wherever it is shown.
Also what the ``carepool ledger`` commands did: a spend import, a settlement, the books'
check, councils' own spend imported, and the substitution check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field

from carepool.domain.quarterly_return import QuarterlyReturn
from carepool.pools.repository.ledger import StoredEntry
from carepool.pools.service import settlement
from carepool.pools.service.ledger import PoolCheck, SpendOutcome, pool_label
from carepool.pools.service.reports import (
    BudgetLine,
    BudgetReport,
)
from carepool.pools.service.returns import (
    PoolPosition,
    ReturnCell,
    ReturnsOverview,
    ReturnView,
    SettlementView,
)
from carepool.web.schemas.common import Pence, Schema, Timestamp, utc_iso

if TYPE_CHECKING:
    from carepool.pools.repository.returns import ReturnEventRow


class PoolSummary(Schema):
    """One pool at a glance: money in, money out, and where it is heading."""

    area_code: str
    contributions_due_pence: Pence
    contributions_received_pence: Pence
    spend_pence: Pence
    budget_pence: Pence
    forecast_pence: Pence
    forecast_variance_pence: Pence
    light: str
    settled: bool
    url: str

    @classmethod
    def of(cls, year: str, at: PoolPosition) -> PoolSummary:
        return cls(
            area_code=at.pool.area_code,
            contributions_due_pence=at.due,
            contributions_received_pence=at.received,
            spend_pence=at.spend,
            budget_pence=at.budget,
            forecast_pence=at.forecast,
            forecast_variance_pence=at.variance,
            light=at.light.value,
            settled=at.settled,
            url=f"/api/v1/pools/{year}/{at.pool.area_code}",
        )


class PoolList(Schema):
    year: str
    pools: list[PoolSummary]


class Balance(Schema):
    account: str
    balance_pence: Pence


class BudgetLineOut(Schema):
    """One row of the budget monitoring report: a scheme, an area of spend, a stream or all."""

    group: str
    key: str
    label: str
    budget_pence: Pence
    budget_by_quarter_pence: list[Pence]
    actual_by_quarter_pence: list[Pence]
    budget_to_date_pence: Pence
    actual_to_date_pence: Pence
    forecast_pence: Pence
    forecast_basis: str
    variance_pence: Pence = Field(description="forecast outturn minus budget: + is overspend")
    light: str

    @classmethod
    def of(cls, line: BudgetLine) -> BudgetLineOut:
        return cls(
            group=line.group,
            key=line.key,
            label=line.label,
            budget_pence=line.budget,
            budget_by_quarter_pence=list(line.budget_by_quarter),
            actual_by_quarter_pence=list(line.actual_by_quarter),
            budget_to_date_pence=line.budget_to_date,
            actual_to_date_pence=line.actual_to_date,
            forecast_pence=line.forecast,
            forecast_basis=line.forecast_basis,
            variance_pence=line.variance,
            light=line.light.value,
        )


class BudgetReportOut(Schema):
    """Budget against actual for a pool's financial year (``carepool ledger budget --json``)."""

    pool: str
    financial_year: str
    as_at: dt.date
    lines: list[BudgetLineOut]

    @classmethod
    def of(cls, report: BudgetReport) -> BudgetReportOut:
        return cls(
            pool=report.pool,
            financial_year=report.financial_year,
            as_at=report.as_at,
            lines=[BudgetLineOut.of(line) for line in report.lines],
        )


class SettlementShare(Schema):
    partner: str
    amount_pence: Pence = Field(description="+ the partner pays the pool; - the pool refunds")
    explanation: str


class Settlement(Schema):
    """A financial year's settlement: the variance, the risk-share rule and each share."""

    financial_year: str
    variance_pence: Pence
    rule: str
    shares: list[SettlementShare]

    @classmethod
    def of(cls, settled: SettlementView) -> Settlement:
        return cls(
            financial_year=settled.financial_year,
            variance_pence=settled.variance,
            rule=settled.rule,
            shares=[
                SettlementShare(partner=x.partner, amount_pence=x.amount, explanation=x.explanation)
                for x in settled.shares
            ],
        )


class SettlementPosted(Schema):
    """What ``carepool ledger settle`` did: the year's variance, the rule, each partner's
    share and the ids of the entries that post them."""

    financial_year: str
    variance_pence: Pence
    outcome: str = Field(description="overspend, underspend or on budget")
    rule: str
    shares: list[SettlementShare]
    entry_ids: list[int]

    @classmethod
    def of(cls, settled: settlement.Settlement) -> SettlementPosted:
        return cls(
            financial_year=settled.financial_year,
            variance_pence=settled.variance,
            outcome=settlement.outcome(settled.variance),
            rule=settled.rule,
            shares=[
                SettlementShare(
                    partner=line.partner, amount_pence=line.amount, explanation=line.explanation
                )
                for line in settled.lines
            ],
            entry_ids=list(settled.entry_ids),
        )


class SettlementReopened(Schema):
    """What ``carepool ledger reopen`` did: the year reopened, why, the settlement entries
    reversed and the entries that reverse them."""

    financial_year: str
    reason: str
    reversed_entry_ids: list[int]
    reversal_entry_ids: list[int]

    @classmethod
    def of(cls, reopened: settlement.Reopening) -> SettlementReopened:
        return cls(
            financial_year=reopened.financial_year,
            reason=reopened.reason,
            reversed_entry_ids=list(reopened.reversed_ids),
            reversal_entry_ids=list(reopened.reversal_ids),
        )


class PoolOut(Schema):
    """One pool: its partners, balances, budget against actual and settlements."""

    year: str
    area_code: str
    host_partner: str
    pool_manager: str
    risk_share: str | None
    plan_version: int
    partners: dict[str, str]
    balances: list[Balance]
    budget: BudgetReportOut
    settlements: list[Settlement]


class Posting(Schema):
    account: str
    amount_pence: Pence = Field(description="debit positive, credit negative")
    memo: str


class LedgerEntry(Schema):
    """A balanced journal entry as stored: its postings sum to zero."""

    id: int
    date: dt.date
    kind: str
    narration: str
    correlation: str
    reverses: int | None = Field(description="the id of the entry this one reverses")
    source: dict[str, Any]
    created_by: str
    postings: list[Posting]

    @classmethod
    def of(cls, stored: StoredEntry) -> LedgerEntry:
        entry = stored.entry
        return cls(
            id=stored.id,
            date=entry.date,
            kind=entry.kind.value,
            narration=entry.narration,
            correlation=entry.correlation,
            reverses=entry.reverses,
            source=dict(entry.source),
            created_by=stored.created_by,
            postings=[
                Posting(account=p.account, amount_pence=p.amount, memo=p.memo)
                for p in entry.postings
            ],
        )


class EntryPage(Schema):
    """One page of a pool's entries, newest first."""

    year: str
    area_code: str
    page: int
    pages: int
    total: int
    entries: list[LedgerEntry]


class ReturnEvent(Schema):
    """One sign-off step of a quarterly return (``sha256``: the content it froze, if any)."""

    at: Timestamp
    action: str
    from_status: str | None
    to_status: str
    actor: str
    role: str
    comment: str
    sha256: str | None

    @classmethod
    def of(cls, event: ReturnEventRow) -> ReturnEvent:
        return cls(
            at=utc_iso(event.at),
            action=event.action,
            from_status=event.from_status,
            to_status=event.to_status,
            actor=event.actor,
            role=event.role,
            comment=event.comment,
            sha256=event.content_sha256,
        )


class ReturnReport(Schema):
    """A quarterly return for the API and the ``.json`` download.

    ``ledger_moved_since_submission`` keeps its name from before returns carried metric
    values: it is true when the figures built now differ from those submitted, whether the
    books moved or a new data vintage changed an actual.
    """

    pool: str
    quarter: str
    status: str
    frozen: bool
    sha256: str | None
    ledger_moved_since_submission: bool
    lock_version: int | None
    return_: QuarterlyReturn = Field(alias="return")
    events: list[ReturnEvent]

    @classmethod
    def of(cls, shown: ReturnView) -> ReturnReport:
        return cls(
            pool=pool_label(shown.pool),
            quarter=shown.quarter.label,
            status=shown.status.value,
            frozen=shown.frozen,
            sha256=shown.row.content_sha256 if shown.frozen and shown.row else None,
            ledger_moved_since_submission=shown.moved_since,
            lock_version=shown.lock_version,
            return_=shown.content,
            events=[ReturnEvent.of(e) for e in shown.events],
        )


class ReturnStatusOut(Schema):
    """One area's return for one quarter: where it stands, and whether it is to be chased."""

    quarter: str
    status: str
    overdue: bool = Field(description="the quarter has ended and the return is not submitted")
    url: str | None = Field(description="the return in the API; none for an area with no pool")

    @classmethod
    def of(cls, year: str, cell: ReturnCell) -> ReturnStatusOut:
        url = f"/api/v1/pools/{year}/{cell.area_code}/returns/{cell.quarter.slug}"
        return cls(
            quarter=cell.quarter.label,
            status=cell.status,
            overdue=cell.overdue,
            url=url if cell.has_pool else None,
        )


class AreaReturns(Schema):
    area_code: str
    area_name: str
    region: str
    returns: list[ReturnStatusOut]


class ReturnsOverviewOut(Schema):
    """Every area's quarterly returns for a programme year, for the national team.

    ``counts`` has every status, zero or not, and adds up to areas × quarters; the framework
    sets no deadline for returns, so ``overdue`` means the quarter has ended unsubmitted.
    """

    year: str
    as_at: dt.date
    quarters: list[str]
    counts: dict[str, int]
    overdue: int
    areas: list[AreaReturns]

    @classmethod
    def of(cls, shown: ReturnsOverview) -> ReturnsOverviewOut:
        return cls(
            year=shown.year,
            as_at=shown.as_at,
            quarters=[q.label for q in shown.quarters],
            counts=shown.counts,
            overdue=len(shown.chase),
            areas=[
                AreaReturns(
                    area_code=row[0].area_code,
                    area_name=row[0].area_name,
                    region=row[0].region,
                    returns=[ReturnStatusOut.of(shown.year, cell) for cell in row],
                )
                for row in shown.rows
            ],
        )


class SpendImport(Schema):
    """What a spend import did: ``already_imported`` is true when this very file was posted
    before, and then nothing was posted."""

    file: str
    sha256: str
    rows: int
    posted: int
    skipped: int
    total_pence: Pence
    already_imported: bool

    @classmethod
    def of(cls, outcome: SpendOutcome) -> SpendImport:
        return cls(
            file=outcome.file_name,
            sha256=outcome.sha256,
            rows=outcome.rows,
            posted=outcome.posted,
            skipped=outcome.skipped,
            total_pence=outcome.total_pence,
            already_imported=outcome.already,
        )


class PoolCheckOut(Schema):
    year: str
    area_code: str
    balanced: bool
    entries: int
    consistent: bool

    @classmethod
    def of(cls, checked: PoolCheck) -> PoolCheckOut:
        return cls(
            year=checked.year,
            area_code=checked.area_code,
            balanced=checked.balanced,
            entries=checked.entries,
            consistent=checked.consistent,
        )


class LedgerCheck(Schema):
    """Every pool's proof: ``ok`` when each balances to zero and its running balances equal
    the sum of its postings."""

    ok: bool
    pools: list[PoolCheckOut]

    @classmethod
    def of(cls, results: Sequence[PoolCheck]) -> LedgerCheck:
        return cls(
            ok=all(r.balanced and r.consistent for r in results),
            pools=[PoolCheckOut.of(r) for r in results],
        )
