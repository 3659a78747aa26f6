"""The demo's council finance returns: five synthetic years for every council of the
synthetic nation, so the substitution pages have something true to show.

Everything here is invented and stored marked synthetic, deflators included. The scale
follows the real returns: in 2014-15 councils' gross current expenditure on adult social
care came to about £315 a resident and NHS money (income from the NHS and joint
arrangements) to about a ninth of it. Later years move as councils did: NHS money rises
with the Better Care Fund, and each council's own-funded spend in real terms either grows a
little, holds, or falls — a quarter of councils fall by more than the check's tolerance, so
some are flagged and most are not. Deterministic for the seed.
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.orm import Session

from carepool.domain.roles import SYSTEM
from carepool.domain.substitution import BASELINE_YEAR, PRICE_YEAR, Basis, CouncilYear
from carepool.geography.service import YearGeography
from carepool.substitution import service

YEARS = ("2014-15", "2015-16", "2016-17", "2017-18", "2018-19")
DEFLATORS = {
    "2014-15": Decimal("99.3"),
    "2015-16": Decimal("100"),
    "2016-17": Decimal("102.1"),
    "2017-18": Decimal("103.8"),
    "2018-19": Decimal("105.9"),
}
"""Synthetic deflators, 2015-16 = 100 (the check's price year), rising as prices did."""

GROSS_PER_RESIDENT_PENCE = 31_500
"""About £315 of gross current expenditure a resident, as England's 2014-15 return gives."""

TRENDS = ((0.25, (-0.040, -0.015)), (0.35, (-0.005, 0.005)), (0.40, (0.005, 0.020)))
"""Shares of councils and the yearly real change of their own-funded spend: falling, flat
and growing."""

LABEL = "synthetic council finance returns (demo)"


def demo_substitution(session: Session, geo: YearGeography, rng: random.Random) -> bool:
    """Store the synthetic returns and deflators once; False if they are already there."""
    years = [year for council in _councils(geo) for year in _council_years(council, rng)]
    return service.store_synthetic(session, years, DEFLATORS, SYSTEM, LABEL)


def _councils(geo: YearGeography) -> list[tuple[str, int]]:
    """Each council with its share of its area's residents (areas of two councils split)."""
    found = []
    for area in geo.areas:
        residents = geo.bands.get(area.code, {}).get("all", 300_000)
        for council in area.councils:
            found.append((council, residents // len(area.councils)))
    return sorted(found)


def _trend(rng: random.Random) -> Fraction:
    """A council's yearly real change of own-funded spend, to a hundredth of a percent."""
    pick, total = rng.random(), 0.0
    for share, (low, high) in TRENDS:
        total += share
        if pick < total:
            return _rate(rng.uniform(low, high))
    return Fraction(0)


def _rate(value: float) -> Fraction:
    return Fraction(round(value * 10_000), 10_000)


def _council_years(council: tuple[str, int], rng: random.Random) -> list[CouncilYear]:
    code, residents = council
    gross = residents * GROSS_PER_RESIDENT_PENCE * Fraction(rng.randint(85, 115), 100)
    nhs_share = Fraction(rng.randint(6, 16), 100)
    own_real = gross * (1 - nhs_share) * _price(BASELINE_YEAR)
    nhs_real = gross * nhs_share * _price(BASELINE_YEAR)
    trend, growth = _trend(rng), _rate(rng.uniform(0.03, 0.12))
    years = []
    for step, year in enumerate(YEARS):
        own = own_real * (1 + trend) ** step / _price(year)
        nhs = nhs_real * (1 + growth) ** step / _price(year)
        joint = nhs * Fraction(rng.randint(0, 20), 100)
        bcf = None if step == 0 else _thousands(nhs * Fraction(rng.randint(30, 60), 100))
        years.append(
            CouncilYear(
                code,
                year,
                Basis.ASC_FR,
                gross_current_expenditure=_thousands(own + nhs),
                nhs_income=_thousands(nhs - joint),
                joint_arrangements_income=_thousands(joint),
                bcf_income=bcf,
                synthetic=True,
            )
        )
    return years


def _price(year: str) -> Fraction:
    """How many pence of ``PRICE_YEAR`` money a penny of ``year`` is worth."""
    return Fraction(DEFLATORS[PRICE_YEAR]) / Fraction(DEFLATORS[year])


def _thousands(amount: Fraction) -> int:
    """Whole £ thousands in pence, as the returns publish them."""
    return round(amount / 100_000) * 100_000
