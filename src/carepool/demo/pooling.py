"""The demo's pooling tracker: commissioners' allocations for every year to 2018-19, and each
area's declared trajectory in its plan, so the pooling pages have something true to show.

Everything here is invented and stored marked synthetic. The scale follows the real figures:
in 2015-16 clinical commissioning groups were allocated about £66bn for about 56 million
people, some £1,150 a resident, growing by about 2% a year in cash, and the Better Care Fund's
NHS minimum was about a twentieth of it (the demo's published allocation keeps that
proportion). With councils' adult social care (about £315 a resident, demo/substitution.py),
an area's money in scope is about £1,465 a resident, and its 2015-16 plan pools about a
fifteenth of it.

Trajectories tell the story the ambition met: areas plan for 2015-16 close to what they pool
(some a little above, so they fall behind their own plan; some below, so they are ahead), then
most plan small rises, a few plan to pool most of their money by 2018-19, and some declare no
trajectory. Nobody reaches "the entire health and care budget". Deterministic for the seed.
"""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy.orm import Session

from carepool.domain.plan import PlanContent, PlannedShare
from carepool.domain.roles import SYSTEM
from carepool.geography.service import YearGeography
from carepool.pooling import service

YEARS = ("2015-16", "2016-17", "2017-18", "2018-19")
PER_RESIDENT_PENCE = 115_000
"""About £1,150 of commissioners' allocation a resident in 2015-16."""

GROWTH = Decimal("0.02")
"""Allocations' yearly growth in cash."""

IN_SCOPE_PER_RESIDENT_PENCE = 146_500
"""About £1,465 a resident in scope: the allocation and councils' adult social care."""

AMBITIONS = (
    (0.10, None),  # no trajectory declared
    (0.55, (Decimal("0.005"), Decimal("0.015"))),  # cautious: up to 1.5 points a year
    (0.27, (Decimal("0.03"), Decimal("0.06"))),  # steady: 3 to 6 points a year
    (0.08, (Decimal("0.15"), Decimal("0.25"))),  # ambitious: most of their money by 2018-19
)
"""Shares of areas and how many percentage points a year their trajectories rise."""

LABEL = "synthetic commissioners' allocations (demo)"


def demo_allocations(session: Session, geo: YearGeography, rng: random.Random) -> bool:
    """Store each commissioner's invented allocation for every year, once."""
    residents: dict[str, int] = {}
    for share in geo.shares:
        code = share.commissioner_code
        residents[code] = residents.get(code, 0) + share.population
    years: dict[str, dict[str, int]] = {year: {} for year in YEARS}
    for code in sorted(residents):
        base = Decimal(residents[code] * PER_RESIDENT_PENCE * rng.randint(92, 108)) / 100
        for step, year in enumerate(YEARS):
            years[year][code] = int(base * (1 + GROWTH) ** step)
    return service.store_synthetic(session, years, SYSTEM, LABEL)


def with_trajectory(content: PlanContent, area_code: str, residents: int) -> PlanContent:
    """The plan with an invented trajectory from its first year to 2018-19 (or none).

    Its own random stream (seeded by the area) leaves the rest of the demo unchanged.
    """
    rng = random.Random(f"trajectory-{area_code}")
    rise = _rise(rng)
    if rise is None or residents <= 0:
        return content
    estimate = Decimal(content.pooled()) / (residents * IN_SCOPE_PER_RESIDENT_PENCE)
    start = estimate * Decimal(rng.randint(80, 125)) / 100
    points = []
    for step, year in enumerate(YEARS):
        share = min(Decimal(1), start + rise * step).quantize(Decimal("0.0001"))
        points.append(PlannedShare(financial_year=year, share=share))
    return content.model_copy(update={"trajectory": tuple(points)})


def _rise(rng: random.Random) -> Decimal | None:
    pick, total = rng.random(), 0.0
    for share, span in AMBITIONS:
        total += share
        if pick < total:
            if span is None:
                return None
            low, high = span
            return low + (high - low) * Decimal(rng.randint(0, 100)) / 100
    return None
