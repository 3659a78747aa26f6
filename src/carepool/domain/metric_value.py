"""One computed or published value of a metric for an area and period.

Kept apart from the metric definitions so that stores, pages and importers of published
statistics can speak about values without depending on how they were computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Grain(StrEnum):
    """How long a metric period is."""

    MONTH = "month"  # "2015-04"
    QUARTER = "quarter"  # "2015-16 Q1" (financial quarter, April to June)
    YEAR = "year"  # "2015-16" (financial year, April to March)


@dataclass(frozen=True, slots=True)
class MetricValue:
    """The value of ``metric`` for ``area_code`` in ``period``.

    ``numerator`` and ``denominator`` are exact counts (people, events, days or residents);
    ``value`` is derived from them by the metric's definition (a count, a rate per 100,000,
    a percentage or a directly standardised rate) and rounded by it, so that every engine
    gives the very same figure. ``denominator`` is ``None`` for plain counts.

    ``complete`` is false when the data cover only some of the months the period takes (a
    year of which only April has been extracted): such a value is the months held, not the
    period's, and is never shown as the period's figure.
    """

    metric: str
    definition_version: int
    area_code: str
    period: str
    grain: Grain
    numerator: int
    denominator: int | None
    value: Decimal
    complete: bool = True
