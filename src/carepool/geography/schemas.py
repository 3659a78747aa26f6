"""Health and Wellbeing Board areas for a programme year (``carepool areas --json`` and the
API): each area's councils and population bands, and the councils left unmatched; and what
an import of reference data did (``carepool import areas|populations|shares --json``)."""

from __future__ import annotations

from carepool.geography.service import ImportOutcome, YearGeography
from carepool.web.schemas.common import Schema


class AreaOut(Schema):
    code: str
    name: str
    region: str
    type: str
    councils: list[str]
    population: dict[str, int] | None


class Unmatched(Schema):
    code: str
    reason: str


class AreasReport(Schema):
    year: str
    councils_vintage: str
    population_vintage: str | None
    synthetic: bool
    areas: list[AreaOut]
    unmatched: list[Unmatched]

    @classmethod
    def of(cls, geo: YearGeography) -> AreasReport:
        return cls(
            year=geo.framework.year,
            councils_vintage=geo.councils_vintage.name,
            population_vintage=geo.population_vintage.name if geo.population_vintage else None,
            synthetic=geo.synthetic,
            areas=[
                AreaOut(
                    code=a.code,
                    name=a.name,
                    region=a.region,
                    type=a.kind,
                    councils=list(a.councils),
                    population=geo.bands.get(a.code),
                )
                for a in geo.areas
            ],
            unmatched=[
                Unmatched(code=code, reason=reason)
                for code, reason in geo.populations.unmatched.items()
            ],
        )


class VintageImport(Schema):
    """What an import of a councils, populations or shares file did: ``created`` is false
    when this very file was already imported, and then nothing changed."""

    kind: str
    vintage: str
    rows: int
    created: bool
    notes: list[str]

    @classmethod
    def of(cls, outcome: ImportOutcome) -> VintageImport:
        return cls(
            kind=outcome.kind,
            vintage=outcome.vintage,
            rows=outcome.rows,
            created=outcome.created,
            notes=list(outcome.notes),
        )
