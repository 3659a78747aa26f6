"""Payments: a run and what it did, where each area's payments stand, and why each amount.

Quantities of admissions (baseline, plan, actual) are exact decimal text, as metric values
are; money is integer pence.
"""

from __future__ import annotations

from typing import Any

from carepool.domain.payment import PaymentLine, TrueUp
from carepool.payments.repository import AmbitionRevisionRow, PaymentRunRow, line_of
from carepool.payments.service.ambitions import WhatIf
from carepool.payments.service.explain import Explanation, PostedEntry, Step
from carepool.payments.service.runs import PayOutcome, RunOutcome, run_label
from carepool.payments.service.status import StatusRow
from carepool.web.schemas.common import Pence, Schema


class PaymentOut(Schema):
    """One area's payment for one quarter (``carepool payments status --json``)."""

    area_code: str
    quarter: str
    baseline: str
    plan: str
    actual: str | None
    unit_cost_pence: Pence
    pot_pence: Pence
    earned_pence: Pence
    released_pence: Pence
    retained_pence: Pence
    status: str
    final: bool
    run: str
    run_status: str

    @classmethod
    def of(cls, row: StatusRow) -> PaymentOut:
        line = row.line
        return cls(
            area_code=line.area_code,
            quarter=line.quarter,
            baseline=str(line.baseline),
            plan=str(line.plan),
            actual=None if line.actual is None else str(line.actual),
            unit_cost_pence=line.unit_cost_pence,
            pot_pence=line.pot_pence,
            earned_pence=line.earned_pence,
            released_pence=line.released_pence,
            retained_pence=line.retained_pence,
            status=line.status.value,
            final=row.final,
            run=row.run,
            run_status=row.run_status,
        )


class PaymentTotals(Schema):
    pot_pence: Pence
    earned_pence: Pence
    released_pence: Pence
    retained_pence: Pence

    @classmethod
    def of(cls, lines: list[PaymentLine]) -> PaymentTotals:
        return cls(
            pot_pence=sum(line.pot_pence for line in lines),
            earned_pence=sum(line.earned_pence for line in lines),
            released_pence=sum(line.released_pence for line in lines),
            retained_pence=sum(line.retained_pence for line in lines),
        )


class StatusOut(Schema):
    """Every area's payment in each quarter with a run, and the national totals."""

    year: str
    payments: list[PaymentOut]
    totals: PaymentTotals

    @classmethod
    def of(cls, year: str, rows: list[StatusRow]) -> StatusOut:
        return cls(
            year=year,
            payments=[PaymentOut.of(row) for row in rows],
            totals=PaymentTotals.of([row.line for row in rows]),
        )


class TrueUpOut(Schema):
    """How a run on revised data changes one area's paid payment."""

    area_code: str
    released_before_pence: Pence
    released_after_pence: Pence
    retained_before_pence: Pence
    retained_after_pence: Pence

    @classmethod
    def of(cls, change: TrueUp) -> TrueUpOut:
        return cls(
            area_code=change.area_code,
            released_before_pence=change.before.released_pence,
            released_after_pence=change.after.released_pence,
            retained_before_pence=change.before.retained_pence,
            retained_after_pence=change.after.retained_pence,
        )


class RunOut(Schema):
    """A payment run: its quarter, version and status, its inputs and its totals."""

    id: int
    year: str
    quarter: str
    version: int
    label: str
    status: str
    design_kind: str
    framework_sha256: str
    data_vintage: str
    final: bool
    trues_up: int | None
    areas: int
    totals: PaymentTotals

    @classmethod
    def of(cls, run: PaymentRunRow) -> RunOut:
        return cls(
            id=run.id,
            year=run.year,
            quarter=run.quarter,
            version=run.version,
            label=run_label(run),
            status=run.status,
            design_kind=run.design_kind,
            framework_sha256=run.framework_sha256,
            data_vintage=run.data_vintage,
            final=not run.provisional,
            trues_up=run.trues_up_id,
            areas=len(run.lines),
            totals=PaymentTotals.of([line_of(row, run.quarter) for row in run.lines]),
        )


class RunDrafted(Schema):
    """What ``carepool payments run`` did: ``created`` is false when the same inputs gave
    back the run already drafted; ``missing`` names areas with no measured value."""

    run: RunOut
    created: bool
    missing: list[str]
    true_ups: list[TrueUpOut]

    @classmethod
    def of(cls, outcome: RunOutcome) -> RunDrafted:
        return cls(
            run=RunOut.of(outcome.run),
            created=outcome.created,
            missing=list(outcome.missing),
            true_ups=[TrueUpOut.of(change) for change in outcome.true_ups],
        )


class RunPaid(Schema):
    """What ``carepool payments pay`` did: the entries posted in each area's pool, and the
    paid run it trued up; ``already`` is true when the run had been paid and nothing moved."""

    run: RunOut
    entries: dict[str, list[int]]
    trued_up: str | None
    already: bool

    @classmethod
    def of(cls, outcome: PayOutcome) -> RunPaid:
        return cls(
            run=RunOut.of(outcome.run),
            entries=outcome.entries,
            trued_up=run_label(outcome.trued_up) if outcome.trued_up else None,
            already=outcome.already,
        )


class StepOut(Schema):
    action: str
    actor: str
    at: str
    detail: str

    @classmethod
    def of(cls, step: Step) -> StepOut:
        return cls(action=step.action, actor=step.actor, at=step.at, detail=step.detail)


class EntryOut(Schema):
    id: int
    date: str
    kind: str
    narration: str
    postings: list[tuple[str, Pence]]

    @classmethod
    def of(cls, entry: PostedEntry) -> EntryOut:
        return cls(
            id=entry.entry_id,
            date=entry.date.isoformat(),
            kind=entry.kind,
            narration=entry.narration,
            postings=[(account, amount) for account, amount in entry.postings],
        )


class ExplanationOut(Schema):
    """Why this amount: the chain from framework file to ledger, recomputed
    (``carepool payments explain AREA QUARTER --json``)."""

    year: str
    quarter: str
    area_code: str
    run: str
    run_status: str
    final: bool
    reproduced: bool
    framework_sha256: str
    framework_unchanged: bool
    design_kind: str
    parameters: dict[str, Any]
    plan_version: int
    plan_steps: list[StepOut]
    ambition_revision: int | None
    metric: str
    metric_definition_version: int | None
    data_vintage: str
    numerator: int | None
    population: int | None
    payment: PaymentOut
    working: str
    recomputed: PaymentTotals
    run_steps: list[StepOut]
    ledger_entries: list[EntryOut]
    audit_events: list[StepOut]

    @classmethod
    def of(cls, found: Explanation) -> ExplanationOut:
        return cls(
            year=found.year,
            quarter=found.quarter,
            area_code=found.area_code,
            run=found.run,
            run_status=found.run_status,
            final=found.final,
            reproduced=found.reproduced,
            framework_sha256=found.framework_sha256,
            framework_unchanged=found.framework_unchanged,
            design_kind=found.design_kind,
            parameters=found.parameters,
            plan_version=found.plan_version,
            plan_steps=[StepOut.of(s) for s in found.plan_steps],
            ambition_revision=found.ambition_revision,
            metric=found.metric,
            metric_definition_version=found.metric_definition_version,
            data_vintage=found.data_vintage,
            numerator=found.numerator,
            population=found.population,
            payment=PaymentOut.of(StatusRow(found.line, found.run, found.run_status, found.final)),
            working=found.line.working,
            recomputed=PaymentTotals.of([found.recomputed]),
            run_steps=[StepOut.of(s) for s in found.run_steps],
            ledger_entries=[EntryOut.of(e) for e in found.ledger_entries],
            audit_events=[StepOut.of(s) for s in found.audit_events],
        )


class WhatIfOut(Schema):
    """An ambition's pot and the earnings its area's natural variation makes likely
    (``carepool payments what-if --json``). ``credible`` is false when the ambition is below
    the area's lower process limit."""

    area_code: str
    quarter: str
    baseline: str
    ambition: str
    ambition_in_force: str
    unit_cost_pence: Pence
    months_of_history: int
    pot_pence: Pence
    expected: str
    sigma: str
    p10_pence: Pence
    p50_pence: Pence
    p90_pence: Pence
    chance_of_any: str
    credible: bool
    lower_limit: str | None

    @classmethod
    def of(cls, found: WhatIf) -> WhatIfOut:
        o = found.outlook
        return cls(
            area_code=found.area_code,
            quarter=found.quarter,
            baseline=str(found.baseline),
            ambition=str(found.ambition),
            ambition_in_force=str(found.ambition_in_force),
            unit_cost_pence=found.unit_cost_pence,
            months_of_history=found.months_of_history,
            pot_pence=o.pot_pence,
            expected=str(o.expected),
            sigma=str(o.sigma),
            p10_pence=o.p10_pence,
            p50_pence=o.p50_pence,
            p90_pence=o.p90_pence,
            chance_of_any=str(o.chance_of_any),
            credible=o.credible,
            lower_limit=None if o.lower_limit is None else str(o.lower_limit),
        )


class RevisionOut(Schema):
    """A revised ambition and where it stands: ``approvals`` names the approver roles so far."""

    id: int
    year: str
    area_code: str
    baseline: str
    quarters: list[str]
    reason: str
    status: str
    approvals: list[str]
    proposed_by: str

    @classmethod
    def of(cls, row: AmbitionRevisionRow) -> RevisionOut:
        return cls(
            id=row.id,
            year=row.year,
            area_code=row.area_code,
            baseline=row.baseline,
            quarters=list(row.quarters),
            reason=row.reason,
            status=row.status,
            approvals=sorted(row.approvals),
            proposed_by=row.proposed_by,
        )
