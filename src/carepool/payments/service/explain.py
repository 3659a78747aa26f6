"""Why this amount? Every payment line traced back to its evidence, and recomputed.

An explanation follows the chain a reader needs to trust a payment: the framework file (its
hash, then and now) and the design's parameters → the plan version that set the ambition,
with the steps that approved it → the metric's definition version and data vintage, and the
quarter's counts → the formula with the numbers filled in → the ledger entries posted and the
audit events recording them. It then recomputes the line from those stored inputs alone and
says whether that reproduces the posted pence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.errors import NotFound
from carepool.domain.payment import PaymentLine, QuarterResult, RunStatus, rule_for
from carepool.domain.plan import PlanContent
from carepool.domain.roles import SYSTEM
from carepool.frameworks import framework_sha256
from carepool.metrics.service import results as metric_results
from carepool.payments import repository as repo
from carepool.payments.repository import AmbitionRevisionRow, PaymentRunRow
from carepool.payments.service.ambitions import PAYMENT_METRIC, plan_ambition, quarter_period
from carepool.payments.service.runs import current_run, line_key, run_label
from carepool.plans import service as plans
from carepool.pools.service import ledger


@dataclass(frozen=True, slots=True)
class Step:
    """One recorded step: who did what, when (a plan approval, a run's check, a posting)."""

    action: str
    actor: str
    at: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """A ledger entry the payment posted, with its legs as (account, pence)."""

    entry_id: int
    date: dt.date
    kind: str
    narration: str
    postings: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Explanation:
    """The chain from framework to ledger for one area's payment in one quarter."""

    year: str
    quarter: str
    area_code: str
    run: str
    run_status: str
    final: bool
    framework_sha256: str
    framework_unchanged: bool
    design_kind: str
    parameters: dict[str, Any]
    plan_version: int
    plan_steps: tuple[Step, ...]
    ambition_revision: int | None
    metric: str
    metric_definition_version: int | None
    data_vintage: str
    numerator: int | None
    population: int | None
    line: PaymentLine
    recomputed: PaymentLine
    run_steps: tuple[Step, ...]
    ledger_entries: tuple[PostedEntry, ...]
    audit_events: tuple[Step, ...]

    @property
    def reproduced(self) -> bool:
        """Whether recomputing from the stored inputs gives the posted pence exactly."""
        fields = ("pot_pence", "earned_pence", "released_pence", "retained_pence")
        return all(getattr(self.line, f) == getattr(self.recomputed, f) for f in fields)


def explain(session: Session, year: str, area_code: str, number: int) -> Explanation:
    """Explain the area's payment for quarter ``number`` in the quarter's current run."""
    label = quarter_period(year, number).label
    run = current_run(session, year, label)
    if run is None:
        raise NotFound(f"no payment run for {label} yet: draft one with 'carepool payments run'")
    row = next((r for r in run.lines if r.area_code == area_code), None)
    if row is None:
        raise NotFound(f"{run_label(run)} has no payment for {area_code}")
    line = repo.line_of(row, label)
    content, steps = _plan(session, year, area_code, row.plan_version)
    revision = repo.find_revision(session, row.ambition_revision_id or 0)
    ambition = _ambition(content, revision)
    value = _measured(session, run, area_code)
    recomputed = _recompute(run, line, ambition, number, value)
    pool = ledger.pool_for(session, year, area_code, SYSTEM)
    return Explanation(
        year=year,
        quarter=label,
        area_code=area_code,
        run=run_label(run),
        run_status=run.status,
        final=not run.provisional,
        framework_sha256=run.framework_sha256,
        framework_unchanged=run.framework_sha256 == framework_sha256(year),
        design_kind=run.design_kind,
        parameters=dict(run.parameters),
        plan_version=row.plan_version,
        plan_steps=steps + _revision_steps(revision),
        ambition_revision=None if revision is None else revision.id,
        metric=run.metric,
        metric_definition_version=row.metric_definition_version,
        data_vintage=run.data_vintage,
        numerator=None if value is None else value[0],
        population=None if value is None else value[1],
        line=line,
        recomputed=recomputed,
        run_steps=tuple(
            Step(e.to_status, e.actor, e.at.isoformat(), e.comment) for e in run.events
        ),
        ledger_entries=_entries(session, pool, run, area_code),
        audit_events=_audit(session, pool, run),
    )


def _plan(
    session: Session, year: str, area_code: str, version: int
) -> tuple[PlanContent, tuple[Step, ...]]:
    """The plan version behind the ambition, and the steps that took that version to approval."""
    plan = plans.find(session, year, area_code)
    if plan is None:
        raise NotFound(f"{area_code} has no plan for {year}")
    stored = next((v for v in plan.versions if v.number == version), None)
    if stored is None:
        raise NotFound(f"{area_code}'s plan has no version {version}")
    steps = tuple(
        Step(e.action, e.actor, e.at.isoformat(), e.role)
        for e in plan.events
        if e.version == version
    )
    return plans.content_of(stored), steps


def _measured(
    session: Session, run: PaymentRunRow, area_code: str
) -> tuple[int, int | None] | None:
    """The quarter's stored count and population for the area, in the run's data vintage."""
    for value in metric_results.period_values(
        session, PAYMENT_METRIC, run.quarter, data_vintage=run.data_vintage
    ):
        if value.area_code == area_code:
            return value.numerator, value.denominator
    return None


def _ambition(
    content: PlanContent, revision: AmbitionRevisionRow | None
) -> tuple[Decimal, tuple[Decimal, ...]]:
    """The baseline and quarterly ambitions the line was worked out from, read afresh."""
    if revision is not None:
        return Decimal(revision.baseline), tuple(Decimal(q) for q in revision.quarters)
    found = plan_ambition(content)
    if found is None:
        raise NotFound(f"the plan has no {PAYMENT_METRIC} ambition")
    return found


def _revision_steps(revision: AmbitionRevisionRow | None) -> tuple[Step, ...]:
    if revision is None:
        return ()
    proposed = Step(
        "propose_revision", revision.proposed_by, revision.proposed_at.isoformat(), revision.reason
    )
    approvals = tuple(
        Step("approve_revision", stamp["by"], stamp["at"], role)
        for role, stamp in sorted(revision.approvals.items())
    )
    return (proposed, *approvals)


def _recompute(
    run: PaymentRunRow,
    line: PaymentLine,
    ambition: tuple[Decimal, tuple[Decimal, ...]],
    number: int,
    value: tuple[int, int | None] | None,
) -> PaymentLine:
    """The line worked out afresh from the stored ambition, metric value and run parameters."""
    baseline, quarters = ambition
    actual = None if value is None else Decimal(value[0])
    result = QuarterResult(line.area_code, line.quarter, baseline, quarters[number - 1], actual)
    return rule_for(run.design_kind, run.parameters).assess(result)


def _entries(
    session: Session, pool: ledger.PoolRow, run: PaymentRunRow, area_code: str
) -> tuple[PostedEntry, ...]:
    if run.status not in (RunStatus.PAID, RunStatus.TRUED_UP):
        return ()
    return tuple(
        PostedEntry(
            s.id,
            s.entry.date,
            s.entry.kind.value,
            s.entry.narration,
            tuple((p.account, p.amount) for p in s.entry.postings),
        )
        for s in ledger.correlated(session, pool, line_key(run, area_code))
    )


def _audit(session: Session, pool: ledger.PoolRow, run: PaymentRunRow) -> tuple[Step, ...]:
    """The run's events on the national chain and its postings' events on the pool's."""
    national = audit.about(session, "payment_run", run_label(run))
    posted = [
        e
        for e in audit.about(
            session, "pool", ledger.pool_label(pool), chain=ledger.audit_chain(pool)
        )
        if e.action == "performance_payment"
        and (e.after or {}).get("payment_run") == run_label(run)
    ]
    return tuple(
        Step(e.action, e.actor, e.at, f"{e.chain} #{e.sequence} {e.hash[:12]}")
        for e in (*national, *posted)
    )
