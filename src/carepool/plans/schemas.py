"""Joint plans: every area's status, one plan with its versions, conditions and history, one
version's content, the differences between two versions, and what the plan rules find."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from carepool.domain.plan_rollforward import Change
from carepool.domain.plan_rules import Finding, Severity
from carepool.web.schemas.common import Pence, Schema, Timestamp, utc_iso

if TYPE_CHECKING:
    from carepool.plans.repository import PlanEventRow, PlanRow, PlanVersionRow
    from carepool.plans.service.rollforward import AreaRollForward

Leaf = str | int | float | bool | None
"""One value of a plan's content, as compared field by field."""


class AreaPlanStatus(Schema):
    area_code: str
    area_name: str
    region: str
    status: str
    category: str | None
    pooled_pence: Pence
    minimum_pence: Pence
    conditions_outstanding: int
    round: int


class PlanStatusReport(Schema):
    """Every area's plan status the viewer may see, with totals over just those plans."""

    year: str
    areas: int = Field(description="how many areas the year has, seen or not")
    by_status: dict[str, int]
    by_category: dict[str, int]
    pooled_pence: Pence = Field(description="pooled in the approved plans shown")
    minimum_pence: Pence
    plans: list[AreaPlanStatus]


class VersionSummary(Schema):
    number: int
    frozen: bool
    pooled_pence: Pence
    created_by: str
    created_at: Timestamp


class ConditionOut(Schema):
    """A condition of approval and whether it has been met."""

    id: int
    text: str
    met: bool
    met_by: str | None


class PlanEvent(Schema):
    """One step in a plan's life."""

    at: Timestamp
    action: str
    from_status: str | None
    to_status: str
    actor: str
    role: str
    partner: str | None
    version: int
    round: int
    comment: str

    @classmethod
    def of(cls, event: PlanEventRow) -> PlanEvent:
        return cls(
            at=utc_iso(event.at),
            action=event.action,
            from_status=event.from_status,
            to_status=event.to_status,
            actor=event.actor,
            role=event.role,
            partner=event.partner,
            version=event.version,
            round=event.round,
            comment=event.comment,
        )


class PlanReport(Schema):
    """A plan for the API and ``carepool plans`` commands: its status, current content and
    history (``lock_version`` is what a write must send back)."""

    year: str
    area_code: str
    status: str
    category: str | None
    round: int
    lock_version: int
    version: int
    frozen: bool
    pooled_pence: Pence
    versions: list[VersionSummary]
    content: dict[str, Any]
    conditions: list[ConditionOut]
    key_lines_of_enquiry: str
    events: list[PlanEvent]

    @classmethod
    def of(cls, plan: PlanRow) -> PlanReport:
        version = plan.versions[-1]
        return cls(
            year=plan.year,
            area_code=plan.area_code,
            status=plan.status,
            category=plan.category,
            round=plan.round,
            lock_version=plan.lock_version,
            version=version.number,
            frozen=version.frozen,
            pooled_pence=version.pooled_pence,
            versions=[
                VersionSummary(
                    number=v.number,
                    frozen=v.frozen,
                    pooled_pence=v.pooled_pence,
                    created_by=v.created_by,
                    created_at=utc_iso(v.created_at),
                )
                for v in plan.versions
            ],
            content=version.content,
            conditions=[
                ConditionOut(id=c.id, text=c.text, met=c.met_at is not None, met_by=c.met_by)
                for c in plan.conditions
            ],
            key_lines_of_enquiry=plan.key_lines_of_enquiry,
            events=[PlanEvent.of(e) for e in plan.events],
        )


class PlanVersion(Schema):
    """One version of a plan's content."""

    year: str
    area_code: str
    number: int
    frozen: bool
    pooled_pence: Pence
    created_by: str
    content: dict[str, Any]

    @classmethod
    def of(cls, plan: PlanRow, version: PlanVersionRow) -> PlanVersion:
        return cls(
            year=plan.year,
            area_code=plan.area_code,
            number=version.number,
            frozen=version.frozen,
            pooled_pence=version.pooled_pence,
            created_by=version.created_by,
            content=version.content,
        )


class FieldChange(Schema):
    path: str
    from_: Leaf = Field(alias="from")
    to: Leaf


class Comparison(Schema):
    """The fields that differ between two versions of a plan."""

    from_: int = Field(alias="from")
    to: int
    changes: list[FieldChange]


class PlanFinding(Schema):
    """What one plan rule found, and where in the plan."""

    rule: str
    severity: str
    location: str
    section: str
    row: int | None
    field: str | None
    message: str

    @classmethod
    def of(cls, finding: Finding) -> PlanFinding:
        return cls(
            rule=finding.rule,
            severity=finding.severity.value,
            location=str(finding.location),
            section=finding.location.section,
            row=finding.location.row,
            field=finding.location.field,
            message=finding.message,
        )


class PlanProblems(Schema):
    version: int
    errors: int
    warnings: int
    problems: list[PlanFinding]

    @classmethod
    def of(cls, version: int, found: list[Finding]) -> PlanProblems:
        return cls(
            version=version,
            errors=sum(1 for f in found if f.severity == Severity.ERROR),
            warnings=sum(1 for f in found if f.severity == Severity.WARNING),
            problems=[PlanFinding.of(f) for f in found],
        )


class PlanEvents(Schema):
    events: list[PlanEvent]


class RollForwardChange(Schema):
    """One thing the new year's framework changes in a rolled-forward plan."""

    kind: str
    must_change: bool
    section: str
    subject: str
    message: str

    @classmethod
    def of(cls, change: Change) -> RollForwardChange:
        return cls(
            kind=change.kind.value,
            must_change=change.must_change,
            section=change.section,
            subject=change.subject,
            message=change.message,
        )


class AreaRollForwardOut(Schema):
    """One area's roll-forward: its new draft and what must change, or why it was refused."""

    area_code: str
    area_name: str
    outcome: str
    reason: str
    version: int | None
    pooled_pence: Pence
    changes: list[RollForwardChange]
    problems: list[PlanFinding]

    @classmethod
    def of(cls, result: AreaRollForward) -> AreaRollForwardOut:
        return cls(
            area_code=result.area_code,
            area_name=result.area_name,
            outcome=result.outcome,
            reason=result.reason,
            version=result.version,
            pooled_pence=result.pooled_pence,
            changes=[RollForwardChange.of(c) for c in result.changes],
            problems=[PlanFinding.of(f) for f in result.findings],
        )


class RollForwardReport(Schema):
    """A roll-forward run: how many plans were made and refused, and each area's result."""

    from_year: str
    to_year: str
    rolled_forward: int
    refused: int
    areas: list[AreaRollForwardOut]

    @classmethod
    def of(cls, from_year: str, to_year: str, results: list[AreaRollForward]) -> RollForwardReport:
        made = sum(1 for r in results if r.outcome == "rolled_forward")
        return cls(
            from_year=from_year,
            to_year=to_year,
            rolled_forward=made,
            refused=len(results) - made,
            areas=[AreaRollForwardOut.of(r) for r in results],
        )
