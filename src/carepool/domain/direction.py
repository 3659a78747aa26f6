"""Which way is better for a measure.

A metric's definition, a framework's use of it, the plan checks and the statistical process
control charts all need to know whether a rise is an improvement or a concern, so they share
this one enum. The values are the words the framework files write.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class Direction(StrEnum):
    """Which way is better for a metric, which decides improvement from concern.

    ``NEITHER`` is for a measure with no better direction (activity counts, say): its special
    causes are of neither kind, Making Data Count's purple, and it has no assurance verdict.
    """

    LOWER_IS_BETTER = "lower_is_better"
    HIGHER_IS_BETTER = "higher_is_better"
    NEITHER = "neither"


def meets(direction: Direction | str, value: Decimal, target: Decimal) -> bool | None:
    """Whether ``value`` meets ``target``: at or below it when lower is better, at or above it
    when higher is better. A measure with no better direction meets nothing (``None``)."""
    way = Direction(direction)
    if way is Direction.LOWER_IS_BETTER:
        return value <= target
    if way is Direction.HIGHER_IS_BETTER:
        return value >= target
    return None
