"""The JSON shapes of the substitution check: ``carepool substitution --json``, its API, and
what each import did. Changes are shares of the baseline written as exact decimal text to
four places (``"-0.0213"`` is a 2.13% fall); money is integer pence."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from carepool.domain.substitution import DEFINITION, YearResult
from carepool.substitution.service import (
    CouncilCheck,
    DeflatorImport,
    ReturnImport,
    SubstitutionReport,
)
from carepool.web.schemas.common import Pence, Schema


def share_text(value: Fraction | None) -> str | None:
    """A share as decimal text to four places (half to even), or ``None``."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


class YearOut(Schema):
    """One financial year of one council: the return's cash figures and the check's real ones."""

    year: str
    basis: str
    synthetic: bool
    gross_current_expenditure_pence: Pence | None
    nhs_income_pence: Pence | None
    joint_arrangements_income_pence: Pence | None
    bcf_income_pence: Pence | None
    bridging_expenditure_pence: Pence | None
    bridging_income_pence: Pence | None
    own_funded_pence: Pence | None
    own_funded_real_pence: Pence | None
    nhs_money_real_pence: Pence | None
    own_funded_real_change: str | None
    nhs_money_real_change_pence: Pence | None
    comparison_median_change: str | None
    comparable: bool
    flagged: bool

    @classmethod
    def of(cls, result: YearResult, median: Fraction | None) -> YearOut:
        f = result.figures
        return cls(
            year=f.financial_year,
            basis=f.basis.value,
            synthetic=f.synthetic,
            gross_current_expenditure_pence=f.gross_current_expenditure,
            nhs_income_pence=f.nhs_income,
            joint_arrangements_income_pence=f.joint_arrangements_income,
            bcf_income_pence=f.bcf_income,
            bridging_expenditure_pence=f.bridging_expenditure,
            bridging_income_pence=f.bridging_income,
            own_funded_pence=f.own_funded,
            own_funded_real_pence=result.own_funded_real,
            nhs_money_real_pence=result.nhs_money_real,
            own_funded_real_change=share_text(result.own_change),
            nhs_money_real_change_pence=result.nhs_money_change,
            comparison_median_change=share_text(median) if result.comparable else None,
            comparable=result.comparable,
            flagged=result.flagged,
        )


class CouncilOut(Schema):
    """One council (ONS code) with its years and the group it is compared with."""

    code: str
    name: str
    area_code: str | None
    kind: str | None
    synthetic: bool
    flagged: bool
    comparison: str
    comparison_group: list[str]
    years: list[YearOut]

    @classmethod
    def of(cls, council: CouncilCheck) -> CouncilOut:
        return cls(
            code=council.code,
            name=council.name,
            area_code=council.area_code,
            kind=council.kind,
            synthetic=council.synthetic,
            flagged=council.flagged,
            comparison=council.group_kind,
            comparison_group=list(council.group),
            years=[
                YearOut.of(y, council.group_median.get(y.figures.financial_year))
                for y in council.years
            ],
        )


class SubstitutionOut(Schema):
    """Every council's check, with the rule's terms stated once."""

    baseline_year: str
    price_year: str
    tolerance: str
    definition: str
    deflators_source: str | None
    deflators_reference_year: str | None
    deflators_synthetic: bool
    flagged: int
    councils: list[CouncilOut]

    @classmethod
    def of(cls, report: SubstitutionReport) -> SubstitutionOut:
        return cls(
            baseline_year=report.baseline_year,
            price_year=report.price_year,
            tolerance=share_text(report.tolerance) or "",
            definition=DEFINITION,
            deflators_source=report.deflators.source,
            deflators_reference_year=report.deflators.reference_year,
            deflators_synthetic=report.deflators.synthetic,
            flagged=sum(1 for c in report.councils if c.flagged),
            councils=[CouncilOut.of(c) for c in report.councils],
        )


class ReturnImportOut(Schema):
    """What importing one ASC-FR file did; ``created`` is false when this very file was
    already held for the year, and then nothing changed."""

    file: str
    financial_year: str
    basis: str
    councils: int
    created: bool
    replaced: int
    missing: list[str]

    @classmethod
    def of(cls, outcome: ReturnImport) -> ReturnImportOut:
        return cls(
            file=outcome.file_name,
            financial_year=outcome.financial_year,
            basis=outcome.basis,
            councils=outcome.councils,
            created=outcome.created,
            replaced=outcome.replaced,
            missing=list(outcome.missing),
        )


class DeflatorImportOut(Schema):
    """What importing HM Treasury's deflators did."""

    file: str
    reference_year: str
    years: int
    first_year: str
    last_year: str
    created: bool

    @classmethod
    def of(cls, outcome: DeflatorImport) -> DeflatorImportOut:
        return cls(
            file=outcome.file_name,
            reference_year=outcome.reference_year,
            years=outcome.years,
            first_year=outcome.first_year,
            last_year=outcome.last_year,
            created=outcome.created,
        )
