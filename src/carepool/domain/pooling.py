"""How much of an area's health and care money is pooled, against its plan and the ambition.

In October 2014 the care minister wanted "the entire health and care budget pooled by 2018";
that year 146 of 151 approved plans pooled £5.3bn against the £3.8bn minimum. Nothing
tracked the share actually pooled. This module works it out for one area and one financial
year, with no I/O, so the command line, the pages, the API and the tests share one rule.

Definitions (the pages and ``docs/formats.md`` quote them):

* **NHS side**: each clinical commissioning group's allocation for the year, split between
  councils by the share of the group's residents living in each (the CCG-to-area population
  shares carepool holds), to the penny, and summed over the area's councils.
* **Council side**: the council's *revised* gross current expenditure on adult social care,
  that is gross current expenditure as returned in the ASC-FR plus its income from the Better
  Care Fund. The published gross figure leaves out spending the Better Care Fund paid for
  (LG Inform metric 11537 divides by the revised figure for that reason).
* **In scope**: NHS side plus council side, less the council's income from the Better Care
  Fund. That income is NHS money already counted in the commissioners' allocations, so it is
  taken off once rather than counted twice.
* **Pooled**: what the area's *approved* plan puts into the pool for the year, the minimum
  and any additional contributions (the pool's ledger shows what has been paid in so far).
* **Share pooled**: pooled divided by in scope, to four decimal places (half to even).
* **Planned share**: the share the area's plan declares for the year in its trajectory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from carepool.domain.framework import PoolingAmbition
from carepool.domain.geography import Area, CommissionerShare
from carepool.domain.money import split_by_weights

SHARE_PLACES = 4
"""Shares are given to four decimal places: a hundredth of a percentage point."""


def share_of(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a decimal of :data:`SHARE_PLACES` places, exactly rounded (half to
    even); ``None`` when there is nothing to divide by."""
    if whole <= 0:
        return None
    scaled = round(Fraction(part, whole) * 10**SHARE_PLACES)  # Fraction rounds half to even
    return Decimal(scaled).scaleb(-SHARE_PLACES)


def nhs_side_by_council(
    allocations: Mapping[str, int], shares: Iterable[CommissionerShare]
) -> tuple[dict[str, int], tuple[str, ...]]:
    """Each council's part of the commissioners' allocations, and the commissioners whose
    allocation could not be placed (no population shares held for them).

    A commissioner's allocation is divided by its residents' shares, largest remainder first,
    so the parts add up to the allocation to the penny.
    """
    weights: dict[str, dict[str, Fraction]] = {}
    for share in shares:
        by_council = weights.setdefault(share.commissioner_code, {})
        by_council[share.council_code] = (
            by_council.get(share.council_code, Fraction(0)) + share.share_of_commissioner
        )
    councils: dict[str, int] = {}
    unplaced = []
    for code, amount in sorted(allocations.items()):
        split = weights.get(code)
        if not split or not any(split.values()):
            unplaced.append(code)
            continue
        for council, part in split_by_weights(amount, dict(sorted(split.items()))).items():
            councils[council] = councils.get(council, 0) + part
    return councils, tuple(unplaced)


def nhs_side_by_area(by_council: Mapping[str, int], areas: Iterable[Area]) -> dict[str, int]:
    """The NHS side of each area that any allocation reaches: its councils' parts summed."""
    found = {}
    for area in areas:
        parts = [by_council[c] for c in area.councils if c in by_council]
        if parts:
            found[area.code] = sum(parts)
    return found


@dataclass(frozen=True, slots=True)
class CouncilSpend:
    """A council's adult social care spend for a year as its return gives it, in pence.

    ``bcf_income`` is ``None`` where the return gives none (before 2015-16, or left blank).
    """

    gross_current_expenditure: int
    bcf_income: int | None = None
    bridging: bool = False
    """The figure is the 2015-16 bridging-year expenditure (returned on the 2014-15 basis),
    because that year's published council-level return gives no gross current expenditure.
    It counts spending differently (see ``docs/formats.md``), so the pages say so."""

    @property
    def revised_gross(self) -> int:
        """Gross current expenditure with the spending the Better Care Fund paid for put back."""
        return self.gross_current_expenditure + (self.bcf_income or 0)


def council_side(councils: Sequence[CouncilSpend | None]) -> CouncilSpend | None:
    """An area's council side: its councils' figures summed, or ``None`` if any is missing
    (Cornwall's area counts only when the Isles of Scilly's return is held too)."""
    if not councils or any(c is None for c in councils):
        return None
    held = [c for c in councils if c is not None]
    incomes = [c.bcf_income for c in held if c.bcf_income is not None]
    return CouncilSpend(
        sum(c.gross_current_expenditure for c in held),
        sum(incomes) if incomes else None,
        any(c.bridging for c in held),
    )


NHS_SIDE = "CCG allocations"
COUNCIL_SIDE = "council adult social care finance return"
PLAN = "approved plan"


@dataclass(frozen=True, slots=True)
class AreaYear:
    """One area's pooling figures for one financial year, in pence (see the module)."""

    area_code: str
    financial_year: str
    nhs_side: int | None
    council: CouncilSpend | None
    minimum: int
    additional: int
    planned_share: Decimal | None = None
    received: int | None = None
    approved_plan: bool = False

    @property
    def pooled(self) -> int:
        return self.minimum + self.additional

    @property
    def council_revised(self) -> int | None:
        return None if self.council is None else self.council.revised_gross

    @property
    def counted_once(self) -> int:
        """The council's Better Care Fund income, which both sides hold: taken off once."""
        return 0 if self.council is None else self.council.bcf_income or 0

    @property
    def in_scope(self) -> int | None:
        if self.nhs_side is None or self.council is None:
            return None
        return self.nhs_side + self.council.revised_gross - self.counted_once

    @property
    def share_pooled(self) -> Decimal | None:
        in_scope = self.in_scope
        return (
            None if in_scope is None or not self.approved_plan else share_of(self.pooled, in_scope)
        )

    @property
    def missing(self) -> tuple[str, ...]:
        """What is not held, so no share can be worked out."""
        gaps = []
        if self.nhs_side is None:
            gaps.append(NHS_SIDE)
        if self.council is None:
            gaps.append(COUNCIL_SIDE)
        if not self.approved_plan:
            gaps.append(PLAN)
        return tuple(gaps)

    @property
    def behind_plan(self) -> Decimal | None:
        """How far the share pooled falls short of the planned share (negative: ahead)."""
        share = self.share_pooled
        if share is None or self.planned_share is None:
            return None
        return self.planned_share - share


@dataclass(frozen=True, slots=True)
class YearTotals:
    """England's figures for a year over the areas whose share can be worked out."""

    financial_year: str
    areas: int
    in_scope: int
    pooled: int
    minimum: int

    @property
    def share_pooled(self) -> Decimal | None:
        return share_of(self.pooled, self.in_scope)


def year_totals(financial_year: str, rows: Iterable[AreaYear]) -> YearTotals:
    counted = [r for r in rows if r.share_pooled is not None]
    return YearTotals(
        financial_year,
        len(counted),
        sum(r.in_scope or 0 for r in counted),
        sum(r.pooled for r in counted),
        sum(r.minimum for r in counted),
    )


def gap_to_ambition(share: Decimal | None, ambition: PoolingAmbition) -> Decimal | None:
    """How far a share is from the national ambition's share (never below nothing)."""
    if share is None:
        return None
    return max(Decimal(0), ambition.target_share - share)


def furthest_behind(rows: Iterable[AreaYear], count: int = 10) -> list[AreaYear]:
    """The areas furthest from the ambition: the smallest shares pooled, fewest first."""
    known = [r for r in rows if r.share_pooled is not None]
    return sorted(known, key=lambda r: (r.share_pooled, r.area_code))[:count]


def behind_their_plans(rows: Iterable[AreaYear]) -> list[AreaYear]:
    """Areas pooling less than their own trajectory plans for the year, furthest first."""
    behind = [r for r in rows if (r.behind_plan or 0) > 0]
    return sorted(behind, key=lambda r: (-(r.behind_plan or 0), r.area_code))


@dataclass(frozen=True, slots=True)
class Scope:
    """What the share counts, in words, as the pages and the JSON state it."""

    counted: tuple[str, ...]
    not_counted: tuple[str, ...]
    counted_without_figures: tuple[str, ...]


ALWAYS_COUNTED = (
    "NHS: clinical commissioning groups' allocations, split between areas by where the "
    "groups' residents live",
    "Councils: adult social care, revised gross current expenditure (gross current "
    "expenditure as returned plus income from the Better Care Fund)",
)
_OPTIONAL = (
    ("public_health", "Councils: public health (the public health grant)"),
    ("childrens_social_care", "Councils: children's social care"),
    (
        "nhs_england_direct_commissioning",
        "NHS England's direct commissioning: primary care and specialised services",
    ),
)


def scope(ambition: PoolingAmbition) -> Scope:
    """The framework's choice of what is in scope. carepool holds figures only for what is
    always counted, so anything else the framework counts is listed as counted without
    figures: the share is then worked out without it, and overstated."""
    chosen = [text for name, text in _OPTIONAL if getattr(ambition, name)]
    left_out = [text for name, text in _OPTIONAL if not getattr(ambition, name)]
    return Scope(ALWAYS_COUNTED, tuple(left_out), tuple(chosen))


DEFINITION = (
    "In scope is the NHS side (clinical commissioning groups' allocations, split between "
    "areas by where their residents live) plus the council side (revised gross current "
    "expenditure on adult social care: gross current expenditure as returned plus income "
    "from the Better Care Fund), less the council's Better Care Fund income, which is NHS "
    "money both sides hold and is counted once. Pooled is what the area's approved plan puts "
    "into the pool for the year, minimum and additional. The share pooled is pooled divided "
    "by in scope."
)
"""The measure in one paragraph, as the pages, the JSON and the docs state it."""
