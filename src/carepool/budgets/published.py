"""The quarterly personal budget collection as pages and the API show it: exact or published.

The national personal health budget collection counts budgets two ways that users confuse:
those **live at the quarter's end** and those **active at any time in the year** (a year to
date count, over half of it wheelchair budgets, which are short-lived). Pages and the API
keep the two apart, side by side.

Who sees which is decided by :mod:`carepool.domain.budget_access`: national roles, and an
area's coordinator and pool finance officer for their own area, see exact counts; everyone
else sees the same figures after disclosure control (:mod:`carepool.domain.disclosure`):
each column published with its total so that no withheld cell can be worked out, spend shown
only where the budgets behind it are not too few to publish, and the council's
direct-payment measure withheld when either of its counts is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import Field

from carepool.budgets.service import QuarterReport
from carepool.domain.disclosure import Cell, Mark, is_disclosive, protect_group
from carepool.domain.periods import Quarter
from carepool.domain.personal_budget import Eligibility
from carepool.web.schemas.common import Pence, Schema

TYPE_LABELS = {
    "notional": "Notional budget",
    "third_party": "Third-party budget",
    "direct_payment": "Direct payment",
}
"""How the NHS part of a budget is held, as the national collection names the types."""

GROUP_LABELS = {e.value: e.label for e in Eligibility}


@dataclass(frozen=True, slots=True)
class Counts:
    """One quarter's exact figures for England or one area, from the core report."""

    place: str
    area_code: str | None
    quarter: Quarter
    live_by_type: Mapping[str, int]
    live_by_group: Mapping[str, int]
    active_by_group: Mapping[str, int]
    spend_pence: int
    direct_payment_spend_pence: int
    council_direct_payments: int
    council_people: int

    @classmethod
    def of(cls, report: QuarterReport, quarter: Quarter, place: str) -> Counts:
        c = report.collection
        return cls(
            place=place,
            area_code=report.area_code,
            quarter=quarter,
            live_by_type=dict(c.by_type),
            live_by_group=dict(c.by_eligibility),
            active_by_group=dict(c.active_in_year_by_eligibility),
            spend_pence=c.spend_year_to_date_pence,
            direct_payment_spend_pence=c.direct_payment_spend_pence,
            council_direct_payments=c.council_direct_payments,
            council_people=c.council_people,
        )


@dataclass(frozen=True, slots=True)
class Line:
    """One row: its code, label and counts (``active`` only where the row has it)."""

    code: str
    label: str
    live: Cell
    active: Cell | None = None


@dataclass(frozen=True, slots=True)
class Published:
    """The figures as this viewer may see them: every count a :class:`Cell`, exact or
    published; spend and the council's measure ``None`` where withheld."""

    counts: Counts
    exact: bool
    by_type: tuple[Line, ...]
    by_group: tuple[Line, ...]
    live_total: Cell
    active_total: Cell
    spend_pence: int | None
    direct_payment_spend_pence: int | None
    council_share_tenths: int | None
    """The share of people with council support in the year taking it as a direct payment,
    in tenths of a percent (``None`` when withheld or when there is nobody to count)."""


def _column(counts: Mapping[str, int], exact: bool) -> tuple[dict[str, Cell], Cell]:
    """A column of counts with its total: exact, or published so no cell can be worked out."""
    if exact:
        return {k: Cell(n, Mark.PUBLISHED) for k, n in counts.items()}, Cell(
            sum(counts.values()), Mark.PUBLISHED
        )
    group = protect_group(dict(counts))
    return dict(group.cells), group.total


def _spend(pence: int, people: int, exact: bool) -> int | None:
    return None if not exact and is_disclosive(people) else pence


def _share(direct: int, people: int, exact: bool) -> int | None:
    if not people or (not exact and (is_disclosive(direct) or is_disclosive(people))):
        return None
    return (direct * 2000 + people) // (people * 2)  # tenths of a percent, halves up


def publish(counts: Counts, exact: bool) -> Published:
    """The figures ``exact`` or after disclosure control."""
    by_type, live_total = _column(counts.live_by_type, exact)
    live_group, _ = _column(counts.live_by_group, exact)
    active_group, active_total = _column(counts.active_by_group, exact)
    direct = counts.live_by_type.get("direct_payment", 0)
    return Published(
        counts=counts,
        exact=exact,
        by_type=tuple(Line(k, TYPE_LABELS.get(k, k), by_type[k]) for k in counts.live_by_type),
        by_group=tuple(
            Line(k, GROUP_LABELS.get(k, k), live_group[k], active_group.get(k))
            for k in counts.live_by_group
        ),
        live_total=live_total,
        active_total=active_total,
        spend_pence=_spend(counts.spend_pence, sum(counts.active_by_group.values()), exact),
        direct_payment_spend_pence=_spend(counts.direct_payment_spend_pence, direct, exact),
        council_share_tenths=_share(counts.council_direct_payments, counts.council_people, exact),
    )


# ---------------------------------------------------------------------------------------
# The API's shapes

Count = int | None


class GroupOut(Schema):
    live_at_quarter_end: Count
    active_in_year: Count


class CollectionOut(Schema):
    """A quarter's personal budget collection for England or one area.

    ``exact`` is true when the caller may see unrounded figures; otherwise counts from 1 to 7
    are ``null`` (withheld) and the rest rounded to the nearest 5, and spend is ``null``
    where the budgets behind it are too few to publish.
    """

    quarter: str = Field(description="e.g. 2015-16 Q2")
    area_code: str | None = Field(description="the area's ONS code; null for England")
    exact: bool
    live_at_quarter_end: Count
    active_in_year: Count
    by_type: dict[str, Count] = Field(
        description="budgets live at quarter end by how the NHS part is held"
    )
    by_eligibility: dict[str, GroupOut]
    spend_pence: Pence | None = Field(description="spent in the financial year to date")
    direct_payment_spend_pence: Pence | None
    council_direct_payment_percent: str | None = Field(
        description="people with council support in the year taking a direct payment"
    )

    @classmethod
    def of(cls, shown: Published) -> CollectionOut:
        return cls(
            quarter=shown.counts.quarter.label,
            area_code=shown.counts.area_code,
            exact=shown.exact,
            live_at_quarter_end=shown.live_total.value,
            active_in_year=shown.active_total.value,
            by_type={line.code: line.live.value for line in shown.by_type},
            by_eligibility={
                line.code: GroupOut(
                    live_at_quarter_end=line.live.value,
                    active_in_year=line.active.value if line.active else None,
                )
                for line in shown.by_group
            },
            spend_pence=shown.spend_pence,
            direct_payment_spend_pence=shown.direct_payment_spend_pence,
            council_direct_payment_percent=percent(shown.council_share_tenths),
        )


def percent(tenths: int | None) -> str | None:
    """Tenths of a percent as people read them: ``18.2%``."""
    return None if tenths is None else f"{tenths // 10}.{tenths % 10}%"
