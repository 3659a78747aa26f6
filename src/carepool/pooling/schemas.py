"""The pooling tracker's JSON shapes, shared by ``carepool pooling status --json`` and the API.

Money is integer pence; shares are decimal strings (``"0.0634"``), never floats. The names
of ``PoolingStatusOut.areas`` and its fields are a contract: scripts read them.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from carepool.domain.pooling import DEFINITION, AreaYear, Scope, YearTotals, gap_to_ambition
from carepool.pooling.service import AllocationImport, AreaHistory, AreaStatus, PoolingStatus


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class AllocationImportOut(_Out):
    file: str
    financial_year: str
    commissioners: int
    total_pence: int
    created: bool
    replaced: int
    missing: list[str]

    @classmethod
    def of(cls, outcome: AllocationImport) -> AllocationImportOut:
        return cls.model_validate(outcome.as_dict())


class ScopeOut(_Out):
    """What the share counts, and what it leaves out, in words."""

    counted: list[str]
    not_counted: list[str]
    counted_without_figures: list[str]
    definition: str

    @classmethod
    def of(cls, chosen: Scope) -> ScopeOut:
        return cls(
            counted=list(chosen.counted),
            not_counted=list(chosen.not_counted),
            counted_without_figures=list(chosen.counted_without_figures),
            definition=DEFINITION,
        )


class AreaYearOut(_Out):
    """One area's year: ``share_pooled`` is a decimal string, ``planned_share`` one or null."""

    area_code: str
    financial_year: str
    in_scope_pence: int
    nhs_side_pence: int
    council_revised_gross_pence: int
    council_bcf_income_pence: int
    council_basis: str
    pooled_pence: int
    minimum_pence: int
    additional_pence: int
    received_pence: int | None
    share_pooled: str
    planned_share: str | None
    behind_plan: str | None
    gap_to_ambition: str | None

    @classmethod
    def of(cls, row: AreaYear, target_share: Decimal) -> AreaYearOut:
        share = row.share_pooled
        if share is None or row.in_scope is None or row.nhs_side is None:
            raise ValueError(f"{row.area_code} has no share pooled for {row.financial_year}")
        return cls(
            area_code=row.area_code,
            financial_year=row.financial_year,
            in_scope_pence=row.in_scope,
            nhs_side_pence=row.nhs_side,
            council_revised_gross_pence=row.council_revised or 0,
            council_bcf_income_pence=row.counted_once,
            council_basis="bridging" if row.council and row.council.bridging else "ASC-FR",
            pooled_pence=row.pooled,
            minimum_pence=row.minimum,
            additional_pence=row.additional,
            received_pence=row.received,
            share_pooled=str(share),
            planned_share=_text(row.planned_share),
            behind_plan=_text(row.behind_plan),
            gap_to_ambition=_text(max(Decimal(0), target_share - share)),
        )


class AreaOut(AreaYearOut):
    area_name: str
    region: str

    @classmethod
    def of_status(cls, area: AreaStatus, target_share: Decimal) -> AreaOut:
        base = AreaYearOut.of(area.figures, target_share)
        return cls(**base.model_dump(), area_name=area.name, region=area.region)


class WithoutFiguresOut(_Out):
    """An area whose share cannot be worked out for the year, and what is missing."""

    area_code: str
    area_name: str
    missing: list[str]
    planned_share: str | None


class TotalsOut(_Out):
    financial_year: str
    areas: int
    in_scope_pence: int
    pooled_pence: int
    minimum_pence: int
    share_pooled: str | None

    @classmethod
    def of(cls, totals: YearTotals) -> TotalsOut:
        return cls(
            financial_year=totals.financial_year,
            areas=totals.areas,
            in_scope_pence=totals.in_scope,
            pooled_pence=totals.pooled,
            minimum_pence=totals.minimum,
            share_pooled=_text(totals.share_pooled),
        )


class PoolingStatusOut(_Out):
    """Every area of a financial year whose share can be worked out, and those it cannot."""

    financial_year: str
    programme_year: str | None
    target_year: str
    target_share: str
    synthetic: bool
    national: TotalsOut
    national_gap_to_ambition: str | None
    areas: list[AreaOut]
    without_figures: list[WithoutFiguresOut]
    unplaced_commissioners: list[str]
    scope: ScopeOut

    @classmethod
    def of(cls, report: PoolingStatus) -> PoolingStatusOut:
        target = report.ambition.target_share
        return cls(
            financial_year=report.financial_year,
            programme_year=report.programme_year,
            target_year=report.ambition.target_year,
            target_share=str(target),
            synthetic=report.synthetic,
            national=TotalsOut.of(report.totals),
            national_gap_to_ambition=_text(
                gap_to_ambition(report.totals.share_pooled, report.ambition)
            ),
            areas=[AreaOut.of_status(a, target) for a in report.counted],
            without_figures=[
                WithoutFiguresOut(
                    area_code=a.figures.area_code,
                    area_name=a.name,
                    missing=list(a.figures.missing),
                    planned_share=_text(a.figures.planned_share),
                )
                for a in report.areas
                if a.figures.share_pooled is None
            ],
            unplaced_commissioners=list(report.unplaced),
            scope=ScopeOut.of(report.scope),
        )


class AreaHistoryYearOut(_Out):
    """One year of an area's history; figures are null where the year has none."""

    financial_year: str
    in_scope_pence: int | None
    pooled_pence: int
    minimum_pence: int
    share_pooled: str | None
    planned_share: str | None
    missing: list[str]


class AreaHistoryOut(_Out):
    area_code: str
    area_name: str
    target_year: str
    target_share: str
    synthetic: bool
    years: list[AreaHistoryYearOut]
    scope: ScopeOut

    @classmethod
    def of(cls, history: AreaHistory) -> AreaHistoryOut:
        return cls(
            area_code=history.code,
            area_name=history.name,
            target_year=history.ambition.target_year,
            target_share=str(history.ambition.target_share),
            synthetic=history.synthetic,
            years=[
                AreaHistoryYearOut(
                    financial_year=y.financial_year,
                    in_scope_pence=y.in_scope,
                    pooled_pence=y.pooled,
                    minimum_pence=y.minimum,
                    share_pooled=_text(y.share_pooled),
                    planned_share=_text(y.planned_share),
                    missing=list(y.missing),
                )
                for y in history.years
            ],
            scope=ScopeOut.of(history.scope),
        )
