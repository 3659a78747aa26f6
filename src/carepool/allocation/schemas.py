"""Allocations: a year's whole allocation (``carepool allocate --json`` and the API), one
area's part of it, and every version of a year's allocation with its workflow steps."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from pydantic import Field

from carepool.allocation.service import AllocationView
from carepool.domain.allocation import AllocationLine, reconcile
from carepool.geography.service import YearGeography
from carepool.web.schemas.common import Pence, Schema

if TYPE_CHECKING:
    from carepool.allocation.repository import AllocationEventRow, AllocationRun


class StreamTotal(Schema):
    id: str
    name: str
    payer: str
    total_pence: Pence


class AllocationLineOut(Schema):
    financial_year: str
    stream: str
    commissioner_code: str | None
    amount_pence: Pence

    @classmethod
    def of(cls, line: AllocationLine) -> AllocationLineOut:
        return cls(
            financial_year=line.financial_year,
            stream=line.stream,
            commissioner_code=line.commissioner_code,
            amount_pence=line.amount,
        )


class AreaLines(Schema):
    code: str
    name: str
    total_pence: Pence
    lines: list[AllocationLineOut]


class Reconciliation(Schema):
    """A stream's framework total for a financial year against what the areas were given."""

    financial_year: str
    stream: str
    framework_total_pence: Pence
    allocated_pence: Pence
    difference_pence: Pence


class AllocationReport(Schema):
    """A year's whole allocation, area by area, reconciled with the framework."""

    year: str
    version: int
    status: str
    method: str
    synthetic: bool
    total_pence: Pence
    framework_total_pence: Pence
    streams: list[StreamTotal]
    areas: list[AreaLines]
    reconciliation: list[Reconciliation]

    @classmethod
    def of(cls, allocation: AllocationView) -> AllocationReport:
        framework = allocation.geo.framework
        run = allocation.run
        stream_totals = allocation.stream_totals()
        names = {a.code: a.name for a in allocation.geo.areas}
        by_area: dict[str, list[AllocationLine]] = defaultdict(list)
        for line in allocation.lines:
            by_area[line.area_code].append(line)
        return cls(
            year=framework.year,
            version=run.version,
            status=run.status,
            method=run.method,
            synthetic=allocation.geo.synthetic,
            total_pence=run.total_pence,
            framework_total_pence=framework.minimum_total,
            streams=[
                StreamTotal(
                    id=s.id,
                    name=s.name,
                    payer=s.payer.value,
                    total_pence=stream_totals.get(s.id, 0),
                )
                for s in framework.streams
            ],
            areas=[
                AreaLines(
                    code=code,
                    name=names.get(code, code),
                    total_pence=sum(line.amount for line in area_lines),
                    lines=[AllocationLineOut.of(line) for line in area_lines],
                )
                for code, area_lines in sorted(by_area.items())
            ],
            reconciliation=[
                Reconciliation(
                    financial_year=r.financial_year,
                    stream=r.stream,
                    framework_total_pence=r.framework_total,
                    allocated_pence=r.areas_total,
                    difference_pence=r.difference,
                )
                for r in reconcile(framework, allocation.lines)
            ],
        )


class AreaOfAllocation(Schema):
    code: str
    name: str
    region: str
    councils: list[str]


class AreaStreamTotal(Schema):
    id: str
    name: str
    total_pence: Pence


class AreaAllocationLine(Schema):
    financial_year: str
    stream: str
    commissioner_code: str | None
    commissioner_name: str | None
    amount_pence: Pence


class AreaAllocation(Schema):
    """One area's part of an allocation, each line naming its commissioner."""

    year: str
    version: int
    status: str
    synthetic: bool
    area: AreaOfAllocation
    total_pence: Pence
    streams: list[AreaStreamTotal]
    lines: list[AreaAllocationLine]

    @classmethod
    def of(cls, shown: AllocationView, code: str) -> AreaAllocation:
        geo = shown.geo
        area = geo.area(code)
        lines = shown.area_lines(code)
        stream_totals: dict[str, int] = defaultdict(int)
        for line in lines:
            stream_totals[line.stream] += line.amount
        return cls(
            year=geo.framework.year,
            version=shown.run.version,
            status=shown.run.status,
            synthetic=geo.synthetic,
            area=AreaOfAllocation(
                code=area.code, name=area.name, region=area.region, councils=list(area.councils)
            ),
            total_pence=sum(line.amount for line in lines),
            streams=[
                AreaStreamTotal(id=s.id, name=s.name, total_pence=stream_totals.get(s.id, 0))
                for s in geo.framework.streams
            ],
            lines=[
                AreaAllocationLine(
                    financial_year=line.financial_year,
                    stream=line.stream,
                    commissioner_code=line.commissioner_code,
                    commissioner_name=_commissioner_name(geo, line.commissioner_code),
                    amount_pence=line.amount,
                )
                for line in lines
            ],
        )


def _commissioner_name(geo: YearGeography, code: str | None) -> str | None:
    commissioner = geo.commissioners.get(code or "")
    return commissioner.name if commissioner else None


class RunEvent(Schema):
    """One workflow step of an allocation run."""

    from_: str | None = Field(alias="from")
    to: str
    actor: str
    at: str
    comment: str

    @classmethod
    def of(cls, event: AllocationEventRow) -> RunEvent:
        return cls(
            from_=event.from_status,
            to=event.to_status,
            actor=event.actor,
            at=event.at.isoformat(),
            comment=event.comment,
        )


class RunOut(Schema):
    version: int
    status: str
    method: str
    total_pence: Pence
    created_by: str
    created_at: str
    reason: str
    events: list[RunEvent]

    @classmethod
    def of(cls, run: AllocationRun) -> RunOut:
        return cls(
            version=run.version,
            status=run.status,
            method=run.method,
            total_pence=run.total_pence,
            created_by=run.created_by,
            created_at=run.created_at.isoformat(),
            reason=run.reason,
            events=[RunEvent.of(e) for e in run.events],
        )


class AllocationRuns(Schema):
    year: str
    runs: list[RunOut]
