"""The payment ambition in force for an area, its revisions, and what an ambition is worth.

An area's ambition for emergency admissions comes from its approved plan. After approval it
may be revised (the 2015-16 operational guidance allowed it, with NHS England's and
Ministers' agreement): a revision is proposed by the national team and takes effect once both
national approvers have approved it, resizing the pot for the quarters not yet paid. Every
revision is kept with its approvals, so the history of an ambition is never lost.

What-if: for an area and quarter, the pot an ambition (or a unit cost) would give, and the
spread of earnings its own natural variation makes likely, with the credibility flag
assurers see when an ambition lies beyond the area's process limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.audit import service as audit_service
from carepool.domain.errors import CarepoolError, Forbidden, NotFound
from carepool.domain.metric_value import Grain
from carepool.domain.money import Pence
from carepool.domain.payment import (
    AMBITION_REVISION_WORKFLOW,
    REVISION_APPROVERS,
    NonElectiveReduction,
    Outlook,
    RevisionAction,
    RevisionFacts,
    RevisionStatus,
    outlook,
    rule_for,
    variation,
)
from carepool.domain.periods import (
    Period,
    add_months,
    financial_year_start,
    month_label,
    months_between,
    quarter,
)
from carepool.domain.plan import PlanContent
from carepool.domain.roles import SYSTEM, Principal, Role
from carepool.domain.workflow import Scope
from carepool.frameworks import load_framework
from carepool.metrics.service import results as metric_results
from carepool.payments import repository as repo
from carepool.payments.repository import AmbitionRevisionRow
from carepool.pools.service import ledger
from carepool.pools.service.ledger import PoolRow

PAYMENT_METRIC = "non_elective_admissions"
"""The metric the July 2014 design pays on: total emergency admissions, a count."""


def quarter_period(year: str, number: int) -> Period:
    """The quarter ``Q1``..``Q4`` of the year's first financial year, checked."""
    framework = load_framework(year)
    return quarter(framework.financial_years[0], number).period


def plan_ambition(content: PlanContent) -> tuple[tuple[Decimal, ...], tuple[Decimal, ...]] | None:
    """The plan's baseline for each quarter (the same quarter of the baseline year, or the
    average quarter where the plan gives no quarters) and its ambition for each quarter."""
    for ambition in content.ambitions:
        quarters = tuple(q for q in ambition.quarters if q is not None)
        baselines = tuple(b for n in range(1, 5) if (b := ambition.quarter_baseline(n)) is not None)
        if ambition.metric == PAYMENT_METRIC and len(baselines) == 4 and len(quarters) == 4:
            return baselines, quarters
    return None


@dataclass(frozen=True, slots=True)
class AmbitionInForce:
    """An area's baseline and ambition for each quarter, and where they come from."""

    area_code: str
    baselines: tuple[Decimal, ...]
    quarters: tuple[Decimal, ...]
    plan_version: int
    revision_id: int | None


def in_force(session: Session, pool: PoolRow) -> AmbitionInForce | None:
    """The latest approved revision of the area's ambition, else its approved plan's."""
    return _in_force(session, pool, repo.revisions(session, pool.year, pool.area_code))


def all_in_force(
    session: Session, year: str, pools: Sequence[PoolRow]
) -> dict[str, AmbitionInForce | None]:
    """:func:`in_force` for many pools, reading their plans and revisions in two queries."""
    ledger.warm_plan_contents(session, year, pools)
    by_area: dict[str, list[AmbitionRevisionRow]] = {}
    for revision in repo.revisions(session, year):
        by_area.setdefault(revision.area_code, []).append(revision)
    return {p.area_code: _in_force(session, p, by_area.get(p.area_code, [])) for p in pools}


def _in_force(
    session: Session, pool: PoolRow, revisions: Sequence[AmbitionRevisionRow]
) -> AmbitionInForce | None:
    approved = [r for r in revisions if r.status == RevisionStatus.APPROVED]
    if approved:
        latest = approved[-1]
        quarters = tuple(Decimal(q) for q in latest.quarters)
        baselines = tuple(Decimal(b) for b in latest.baselines)
        return AmbitionInForce(pool.area_code, baselines, quarters, latest.plan_version, latest.id)
    found = plan_ambition(ledger.plan_content(session, pool))
    if found is None:
        return None
    return AmbitionInForce(pool.area_code, found[0], found[1], pool.plan_version, None)


def propose(
    session: Session,
    year: str,
    area_code: str,
    quarters: tuple[Decimal, ...],
    reason: str,
    actor: Principal,
    baseline: Decimal | None = None,
) -> AmbitionRevisionRow:
    """Propose a revised ambition for the area's quarters (and one baseline for every quarter,
    if the baseline changes; otherwise each quarter keeps its own)."""
    actor.require(Role.NATIONAL_ADMIN)
    if not reason.strip():
        raise CarepoolError("say why the ambition is revised (a reason is required)")
    if len(quarters) != 4 or any(q < 0 for q in quarters):
        raise CarepoolError("a revised ambition gives four quarterly figures, none below zero")
    pool = ledger.pool_for(session, year, area_code, actor)
    current = in_force(session, pool)
    if current is None:
        raise NotFound(f"{area_code}'s plan has no {PAYMENT_METRIC} ambition to revise")
    revision = repo.add_revision(
        session,
        AmbitionRevisionRow(
            year=year,
            area_code=area_code,
            metric=PAYMENT_METRIC,
            plan_version=current.plan_version,
            baselines=[
                str(b) for b in (current.baselines if baseline is None else (baseline,) * 4)
            ],
            quarters=[str(q) for q in quarters],
            reason=reason.strip(),
            status=RevisionStatus.PROPOSED.value,
            approvals={},
            proposed_by=actor.username,
            proposed_at=dt.datetime.now(dt.UTC),
        ),
    )
    audit.record(
        session,
        actor=actor.username,
        action="propose",
        entity="ambition_revision",
        entity_id=f"{year}/{area_code}/{revision.id}",
        before={
            "baselines": [str(b) for b in current.baselines],
            "quarters": [str(q) for q in current.quarters],
        },
        after={"baselines": revision.baselines, "quarters": revision.quarters, "reason": reason},
    )
    return revision


def decide(
    session: Session,
    revision: AmbitionRevisionRow,
    action: RevisionAction,
    actor: Principal,
    comment: str = "",
) -> AmbitionRevisionRow:
    """Approve (each national approver once; in force once both have) or reject a revision."""
    role = next((r for r in REVISION_APPROVERS if actor.has(r)), None)
    approved_by = frozenset(Role(r) for r in revision.approvals)
    current = RevisionStatus(revision.status)
    facts = RevisionFacts(approved_by, role, comment)
    move = AMBITION_REVISION_WORKFLOW.apply(current, action, actor, Scope(), facts)
    if action is RevisionAction.APPROVE:
        at = dt.datetime.now(dt.UTC).isoformat()
        revision.approvals = {
            **revision.approvals,
            move.role.value: {"by": actor.username, "at": at},
        }
    revision.status = move.target.value
    audit.record(
        session,
        actor=actor.username,
        action=action.value,
        entity="ambition_revision",
        entity_id=f"{revision.year}/{revision.area_code}/{revision.id}",
        before={"status": current.value},
        after={"status": move.target.value, "role": move.role.value, "comment": comment},
    )
    session.flush()
    return revision


def revisions(session: Session, year: str, area_code: str) -> list[AmbitionRevisionRow]:
    """The area's ambition revisions, oldest first: its ambition's history after approval."""
    return repo.revisions(session, year, area_code)


def find_revision(session: Session, revision_id: int) -> AmbitionRevisionRow:
    found = repo.find_revision(session, revision_id)
    if found is None:
        raise NotFound(f"there is no ambition revision {revision_id}")
    return found


@dataclass(frozen=True)
class WhatIf:
    """An ambition's pot and likely earnings for one area and quarter, and its inputs."""

    area_code: str
    quarter: str
    baseline: Decimal
    ambition: Decimal
    ambition_in_force: Decimal
    unit_cost_pence: Pence
    months_of_history: int
    outlook: Outlook


def what_if(
    session: Session,
    year: str,
    area_code: str,
    number: int,
    viewer: Principal,
    *,
    ambition: Decimal | None = None,
    unit_cost_pence: int | None = None,
    expected: Decimal | None = None,
) -> WhatIf:
    """What the quarter's pot and earnings would be with another ambition or unit cost.

    For the national team and the area's own people, who see the area's payments whole."""
    if not viewer.can_see_area(area_code):
        raise Forbidden(f"only the national team and {area_code}'s own people try its ambitions")
    label = quarter_period(year, number).label
    pool = ledger.pool_for(session, year, area_code, SYSTEM)
    current = in_force(session, pool)
    if current is None:
        raise NotFound(f"{area_code}'s plan has no {PAYMENT_METRIC} ambition")
    rule = _rule(year, unit_cost_pence)
    planned = current.quarters[number - 1] if ambition is None else ambition
    history = metric_results.series(session, PAYMENT_METRIC, area_code, Grain.MONTH)
    spread = variation([v.numerator for v in history.values])
    baseline = current.baselines[number - 1]
    found = outlook(rule, baseline, planned, spread, expected)
    return WhatIf(
        area_code,
        label,
        baseline,
        planned,
        current.quarters[number - 1],
        rule.unit_cost_pence,
        spread.months,
        found,
    )


def _rule(year: str, unit_cost_pence: int | None) -> NonElectiveReduction:
    design = load_framework(year).payment_in_force
    rule = rule_for(design.kind, design.parameters)
    if not isinstance(rule, NonElectiveReduction):
        raise CarepoolError(f"{year}'s payment design ({design.kind}) has no ambition to try")
    if unit_cost_pence is None:
        return rule
    if unit_cost_pence <= 0:
        raise CarepoolError("the cost of an admission must be more than £0.00")
    return NonElectiveReduction(Pence(unit_cost_pence))


@dataclass(frozen=True, slots=True)
class CredibilityFlag:
    """A quarter's ambition below the area's lower process limit: a fall the area's own
    history says would take a special cause, not ordinary variation."""

    area_code: str
    quarter: str
    ambition: Decimal
    lower_limit: Decimal


def beyond_variation(session: Session, year: str) -> list[CredibilityFlag]:
    """Every pooled area's quarterly ambitions that lie below its lower process limit, from
    its monthly admissions in the latest data vintage (assurers' credibility check). Kept
    until the data change: the national payments page shows it on every visit."""

    def work() -> tuple[CredibilityFlag, ...]:
        return tuple(_beyond_variation(session, year))

    return list(audit_service.until_changed(session, "beyond variation", year, work))


def _beyond_variation(session: Session, year: str) -> list[CredibilityFlag]:
    pools = ledger.pools(session, year)
    found = all_in_force(session, year, pools)
    monthly = _monthly_admissions(session, year)
    flags = []
    for pool in pools:
        ambition = found[pool.area_code]
        limit = variation(monthly.get(pool.area_code, [])).lower_limit
        if ambition is None or limit is None:
            continue
        for number, planned in enumerate(ambition.quarters, start=1):
            if planned < limit:
                label = quarter_period(year, number).label
                flags.append(
                    CredibilityFlag(pool.area_code, label, planned, limit.quantize(Decimal("0.1")))
                )
    return flags


def _monthly_admissions(session: Session, year: str) -> dict[str, list[int]]:
    """Each area's admissions in each month of the year's first financial year, in order."""
    vintage = metric_results.latest_vintage(session, PAYMENT_METRIC)
    first = financial_year_start(load_framework(year).financial_years[0])
    months = months_between(first, add_months(first, 11))
    found: dict[str, list[int]] = {}
    for month in months:
        for value in metric_results.period_values(
            session, PAYMENT_METRIC, month_label(month), data_vintage=vintage
        ):
            found.setdefault(value.area_code, []).append(value.numerator)
    return found
