"""The European Standard Population 2013, for direct age-standardisation.

A directly standardised rate asks: how many events per 100,000 would an area have if its
people had the age profile of a standard population? Each age band's own rate is weighted
by the band's share of the standard population, so an area with many older residents is not
made to look worse merely for being older. England's public health indicators (falls aged
65+, avoidable admissions) use the European Standard Population 2013 (ESP 2013, Eurostat),
in 5-year bands to 90+, totalling 100,000.

ONS populations come as single years of age (0 to 89, then 90+) or in coarser bands. A band
of the standard can only be filled from population counts that fit inside it exactly, so a
population in, say, 10-year bands is too coarse and is refused with a message naming the
area and band, rather than silently mis-weighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from carepool.domain.errors import CarepoolError
from carepool.domain.geography import PopulationCount, band_label, band_total

OLDEST_BAND_FROM = 90
BAND_WIDTH = 5


class StandardisationError(CarepoolError):
    """A standardised rate cannot be computed as asked (bad age range or coarse population)."""


@dataclass(frozen=True, slots=True)
class StandardBand:
    """One age band of the standard population and its weight (persons per 100,000)."""

    age_from: int
    age_to: int | None
    weight: int

    @property
    def label(self) -> str:
        return band_label(self.age_from, self.age_to)


#: ESP 2013 weights by the first age of each 5-year band (the last band is 90+).
_WEIGHTS: tuple[tuple[int, int], ...] = (
    (0, 5000), (5, 5500), (10, 5500), (15, 5500), (20, 6000),
    (25, 6000), (30, 6500), (35, 7000), (40, 7000), (45, 7000),
    (50, 7000), (55, 6500), (60, 6000), (65, 5500), (70, 5000),
    (75, 4000), (80, 2500), (85, 1500), (90, 1000),
)  # fmt: skip

#: The European Standard Population 2013 in 5-year bands; the weights add up to 100,000.
ESP_2013: tuple[StandardBand, ...] = tuple(
    StandardBand(age_from, None if age_from == OLDEST_BAND_FROM else age_from + 4, weight)
    for age_from, weight in _WEIGHTS
)


def band_from(age: int) -> int:
    """The first age of the ESP 2013 band that ``age`` falls in (``90`` for anyone 90+).

    Engines group events by this value, so it is also the key of a band's counts.
    """
    return min(age // BAND_WIDTH, OLDEST_BAND_FROM // BAND_WIDTH) * BAND_WIDTH


def bands_within(age_from: int, age_to: int | None) -> tuple[StandardBand, ...]:
    """The standard bands that exactly make up ages ``age_from``..``age_to``.

    A range that cuts through a band (say 67+) cannot be standardised with 5-year weights,
    so it is refused rather than approximated.
    """
    if age_from % BAND_WIDTH or age_from > OLDEST_BAND_FROM:
        raise StandardisationError(
            f"ages {band_label(age_from, age_to)} cannot be standardised: the range must start "
            f"at the start of an ESP 2013 band (0, 5, 10 … 90)"
        )
    if age_to is not None and (age_to % BAND_WIDTH != BAND_WIDTH - 1 or age_to >= 90):
        raise StandardisationError(
            f"ages {band_label(age_from, age_to)} cannot be standardised: the range must end "
            f"at the end of an ESP 2013 band (4, 9 … 89) or be open-ended"
        )
    return tuple(
        band
        for band in ESP_2013
        if band.age_from >= age_from and (age_to is None or band.age_from <= age_to)
    )


def band_populations(
    counts: Sequence[PopulationCount], bands: Sequence[StandardBand]
) -> dict[int, int]:
    """Persons in each standard band (keyed by its first age), from one area's counts.

    Raises :class:`StandardisationError` when a band cannot be filled exactly because the
    counts are in coarser bands.
    """
    result: dict[int, int] = {}
    for band in bands:
        persons = band_total(counts, band.age_from, band.age_to)
        if persons is None:
            area = counts[0].geo_code if counts else "an area"
            raise StandardisationError(
                f"the population of {area} is too coarse to standardise: ages {band.label} "
                f"are not given on their own (single years of age or 5-year bands are needed)"
            )
        result[band.age_from] = persons
    return result
