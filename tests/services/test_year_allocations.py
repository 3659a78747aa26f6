"""Every shipped programme year allocates on the real reference data and reconciles to its
national totals to the penny, on the population vintage its framework names."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from carepool.domain.allocation import allocate_by_formula, reconcile
from carepool.domain.roles import SYSTEM
from carepool.frameworks import available_years
from carepool.geography import service as geography
from carepool.store.db import unit_of_work


def test_every_year_reconciles_to_the_penny_on_its_own_vintage(
    sqlite_engine: Engine, shared_data: Path
) -> None:
    with unit_of_work(sqlite_engine) as session:
        geography.import_councils(session, shared_data / "uk_local_authorities.csv", SYSTEM)
        geography.import_shares(
            session, shared_data / "derived_ccg15_to_la_population_shares_mid2017.csv", SYSTEM
        )
        geography.import_populations(
            session, shared_data / "ons_mye_mid2019_utla19_single_year_age.csv", SYSTEM
        )
    areas: dict[str, int] = {}
    with unit_of_work(sqlite_engine) as session:
        for year in available_years():
            geo = geography.year_geography(session, year)
            assert geo.population_vintage is not None, year
            assert geo.population_vintage.name == geo.framework.geography.population_vintage
            assert geo.populations.unmatched == {}, year
            lines = allocate_by_formula(
                geo.framework, geo.areas, geo.populations.counts, geo.shares
            )
            for stream in reconcile(geo.framework, lines):
                assert stream.difference == 0, (year, stream)
            assert sum(line.amount for line in lines) == geo.framework.minimum_total
            areas[year] = len(geo.areas)
    # 151 areas until Dorset's reorganisation of April 2019 left 150.
    assert areas["2016-17"] == 151 and areas["2019-20"] == 150 and areas["2025-26"] == 150
