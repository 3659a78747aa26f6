"""Which way is better for a measure.

A metric's definition, a framework's use of it, the plan checks and the statistical process
control charts all need to know whether a rise is an improvement or a concern, so they share
this one enum. The values are the words the framework files write.
"""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    """Which way is better for a metric, which decides improvement from concern.

    ``NEITHER`` is for a measure with no better direction (activity counts, say): its special
    causes are of neither kind, Making Data Count's purple, and it has no assurance verdict.
    """

    LOWER_IS_BETTER = "lower_is_better"
    HIGHER_IS_BETTER = "higher_is_better"
    NEITHER = "neither"
