"""A joint plan: what an area's partners agree to pool, spend it on and achieve.

One plan per area and programme year, kept as a sequence of versions. Its content is plain,
validated data (money in pence) so that it can be frozen on submission, compared field by
field with any other version, written to an Excel template and read back losslessly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from carepool.domain.money import MAX_PENCE
from carepool.domain.periods import PeriodError, financial_year

Money = Annotated[int, Field(ge=0, le=MAX_PENCE, strict=True)]


class _Content(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Contribution(_Content):
    """A partner's money into the pool from one stream: the minimum and anything extra.

    ``minimum`` is pre-filled from the published allocation; ``additional`` is what the
    partner chooses to pool on top, kept apart so the two are never confused (the £5.3bn
    pooled against the £3.8bn minimum in 2015-16).
    """

    financial_year: str
    stream: str
    partner_code: str  # commissioner code, or the area code for the council
    minimum: Money = 0
    additional: Money = 0

    @property
    def total(self) -> int:
        return self.minimum + self.additional


class NewOrExisting(StrEnum):
    NEW = "New"
    EXISTING = "Existing"


class Commissioner(StrEnum):
    """Who commissions a scheme; NHS-commissioned out-of-hospital spend is a 2015-16 test."""

    COUNCIL = "Local authority"
    NHS = "NHS"
    JOINT = "Joint"


class Scheme(_Content):
    """Something the pool pays for."""

    ref: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    scheme_type: str
    commissioner: Commissioner
    provider: str = Field(min_length=1, max_length=200)
    funding_source: str  # a stream id, or "additional"
    area_of_spend: str
    new_or_existing: NewOrExisting
    financial_year: str
    planned_spend: Money


SCHEME_YEAR_FIELDS = frozenset({"financial_year", "planned_spend"})
"""What differs between the rows of one scheme that runs in several years of a plan."""


@dataclass(frozen=True, slots=True)
class SchemeYears:
    """A scheme as people enter it: its facts once, with its planned spend in each year.

    A plan stores one :class:`Scheme` row per scheme and financial year (the form the
    returns, the pool's books and the workbook read), and the rows of one scheme share its
    reference. ``rows`` are their positions in the plan's schemes, from 1.
    """

    scheme: Scheme
    rows: tuple[int, ...]
    spend: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.spend.values())


def schemes_by_ref(schemes: Sequence[Scheme]) -> list[SchemeYears]:
    """The plan's schemes, one per reference, in the order each first appears.

    A reference given twice in one year (which the plan's checks report) is shown summed,
    so nothing in the plan is hidden from the person editing it.
    """
    rows: dict[str, list[int]] = {}
    for row, scheme in enumerate(schemes, start=1):
        rows.setdefault(scheme.ref, []).append(row)
    found = []
    for numbers in rows.values():
        spend: dict[str, int] = {}
        for row in numbers:
            year_row = schemes[row - 1]
            spend[year_row.financial_year] = spend.get(year_row.financial_year, 0)
            spend[year_row.financial_year] += year_row.planned_spend
        found.append(SchemeYears(schemes[numbers[0] - 1], tuple(numbers), spend))
    return found


def scheme_rows(scheme: Scheme, spend: Mapping[str, int]) -> tuple[Scheme, ...]:
    """The stored rows of a scheme entered once: one per year with an amount, in the order
    the years are given."""
    facts = scheme.model_dump()
    return tuple(
        Scheme.model_validate({**facts, "financial_year": year, "planned_spend": amount})
        for year, amount in spend.items()
    )


class Ambition(_Content):
    """A metric's baseline and planned value for each quarter of the year.

    ``baseline`` is the baseline year's average quarter. ``baseline_quarters``, where the
    plan gives them, are the baseline year's own quarters: the July 2014 payment design
    compares each quarter with the same quarter of the baseline year, because emergency
    admissions rise every winter and an average would put every winter ambition above it.
    """

    metric: str
    baseline: Decimal | None = None
    quarters: tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None] = (
        None,
        None,
        None,
        None,
    )
    baseline_quarters: tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None] = (
        None,
        None,
        None,
        None,
    )

    def quarter_baseline(self, number: int) -> Decimal | None:
        """The baseline for quarter ``number`` (1 to 4): its own, else the average quarter."""
        own = self.baseline_quarters[number - 1]
        return self.baseline if own is None else own


class ConditionStatus(StrEnum):
    CONFIRMED = "Confirmed"
    NOT_YET = "Not yet met: plan in place"
    NOT_MET = "Not met"


class ConditionConfirmation(_Content):
    condition: str
    status: ConditionStatus | None = None
    evidence: str = Field(default="", max_length=4000)


class RiskShareKind(StrEnum):
    """How a year-end over- or underspend is settled between partners."""

    PROPORTIONAL = "proportional"
    OWN_COMMISSIONING = "own_commissioning"
    FIXED_PERCENTAGES = "fixed_percentages"
    HOST_FIRST = "host_first"


class Section75(_Content):
    """The pooled budget agreement's key terms."""

    host_partner: str = ""
    pool_manager: str = ""
    risk_share: RiskShareKind | None = None
    risk_share_parameters: dict[str, Any] = Field(default_factory=dict)
    instalments: Literal[1, 2, 4, 12] = 4
    signed: dt.date | None = None


class PlannedShare(_Content):
    """The share of the area's health and care money in scope it plans to have pooled in a
    financial year: one point of its trajectory towards the national ambition."""

    financial_year: str
    share: Annotated[Decimal, Field(ge=0, le=1)]

    @field_validator("financial_year")
    @classmethod
    def _year(cls, value: str) -> str:
        try:
            return financial_year(value)
        except PeriodError as exc:  # pydantic reports ValueErrors with their location
            raise ValueError(exc.message) from exc


class PlanContent(_Content):
    """Everything an area writes in its plan."""

    contributions: tuple[Contribution, ...] = ()
    schemes: tuple[Scheme, ...] = ()
    ambitions: tuple[Ambition, ...] = ()
    conditions: tuple[ConditionConfirmation, ...] = ()
    section75: Section75 = Field(default_factory=Section75)
    narrative: str = Field(default="", max_length=20000)
    trajectory: tuple[PlannedShare, ...] = ()
    """The area's declared pooling trajectory, year by year; empty when it declared none."""

    @field_validator("trajectory")
    @classmethod
    def _one_share_a_year(cls, points: tuple[PlannedShare, ...]) -> tuple[PlannedShare, ...]:
        years = [p.financial_year for p in points]
        repeated = sorted({y for y in years if years.count(y) > 1})
        if repeated:
            raise ValueError(f"the trajectory gives more than one share for {repeated}")
        return tuple(sorted(points, key=lambda p: p.financial_year))

    def planned_share(self, financial_year: str) -> Decimal | None:
        """The share the trajectory plans for ``financial_year``, if it gives one."""
        return next((p.share for p in self.trajectory if p.financial_year == financial_year), None)

    def pooled(self) -> int:
        return sum(c.total for c in self.contributions)

    def minimum(self) -> int:
        return sum(c.minimum for c in self.contributions)


def flatten(content: PlanContent) -> dict[str, object]:
    """Every leaf of a plan keyed by a readable path, for field-by-field comparison."""
    flat: dict[str, object] = {}
    _flatten(content.model_dump(mode="json"), "", flat)
    return flat


def _flatten(value: object, path: str, flat: dict[str, object]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{path}.{key}" if path else str(key), flat)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _flatten(inner, f"{path}[{index}]", flat)
    else:
        flat[path] = value


def compare(old: PlanContent, new: PlanContent) -> list[tuple[str, object, object]]:
    """Fields whose values differ between two versions: (path, old value, new value)."""
    before, after = flatten(old), flatten(new)
    paths = sorted(set(before) | set(after))
    return [(p, before.get(p), after.get(p)) for p in paths if before.get(p) != after.get(p)]
