"""Geography services: importing reference files as vintages, and a year's areas.

Imports are staged: the reader parses and validates the whole file first (raising
:class:`ImportRejected` with every problem), and only a clean file is written, inside the
caller's unit of work. The same file imported again is recognised by its SHA-256 and changes
nothing; a different file of the same kind becomes a new vintage beside the old one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.errors import CarepoolError, Conflict, NotFound, Problem
from carepool.domain.framework import Framework
from carepool.domain.geography import (
    Area,
    AreaPopulations,
    Commissioner,
    CommissionerShare,
    Council,
    PopulationCount,
    apportion_unmatched,
    carry_shares,
    code_history,
    hwb_areas,
    population_bands,
    resolve_populations,
)
from carepool.domain.roles import Principal, Role
from carepool.frameworks import load_framework
from carepool.geography import repository as repo
from carepool.geography.files.councils import read_councils
from carepool.geography.files.populations import read_populations, vintage_name_from
from carepool.geography.files.shares import read_shares
from carepool.geography.repository import Vintage as Vintage
from carepool.io.tabular import file_sha256
from carepool.store.db import database_of

COUNCILS, SHARES, POPULATIONS = "councils", "shares", "populations"
SHARES_POPULATION_VINTAGE = "mid-2017 (CCG-LA shares)"
"""The population vintage the shares file carries (all ages, 18+ and 65+ by council)."""


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did: ``created`` is False when the same file was already imported."""

    kind: str
    vintage: str
    rows: int
    created: bool
    notes: tuple[str, ...] = ()


def _existing(
    session: Session, kind: str, path: Path, actor: Principal
) -> tuple[str, Vintage | None]:
    actor.require(Role.NATIONAL_ADMIN)
    digest = file_sha256(path)
    return digest, repo.find_vintage_by_hash(session, kind, digest)


def _new_vintage(
    session: Session, actor: Principal, *, kind: str, name: str, path: Path, sha: str, rows: int
) -> Vintage:
    if repo.find_vintage(session, kind, name) is not None:
        raise Conflict(
            f"a different {kind} file was already imported as vintage {name!r}; "
            "give this one another name (--vintage NAME)"
        )
    _forget(session)
    vintage = repo.add_vintage(
        session, kind=kind, name=name, source=path.name, sha256=sha, rows=rows, actor=actor.username
    )
    audit.record(
        session,
        actor=actor.username,
        action="import",
        entity="vintage",
        entity_id=vintage.id,
        after={"kind": kind, "name": name, "source": path.name, "sha256": sha, "rows": rows},
    )
    return vintage


def import_councils(
    session: Session, path: Path, actor: Principal, vintage_name: str | None = None
) -> ImportOutcome:
    """Import a councils register (e.g. ``uk_local_authorities.csv``)."""
    sha, existing = _existing(session, COUNCILS, path, actor)
    if existing:
        return ImportOutcome(COUNCILS, existing.name, existing.rows, created=False)
    councils = read_councils(path)
    name = vintage_name or path.stem
    vintage = _new_vintage(
        session, actor, kind=COUNCILS, name=name, path=path, sha=sha, rows=len(councils)
    )
    repo.add_councils(session, vintage, councils)
    return ImportOutcome(COUNCILS, name, len(councils), created=True)


def import_shares(
    session: Session, path: Path, actor: Principal, vintage_name: str | None = None
) -> ImportOutcome:
    """Import commissioner↔council population shares, with the populations they carry."""
    sha, existing = _existing(session, SHARES, path, actor)
    if existing:
        return ImportOutcome(SHARES, existing.name, existing.rows, created=False)
    parsed = read_shares(path)
    name = vintage_name or path.stem
    vintage = _new_vintage(
        session, actor, kind=SHARES, name=name, path=path, sha=sha, rows=len(parsed.shares)
    )
    repo.add_commissioners(session, vintage, parsed.commissioners)
    repo.add_shares(session, vintage, parsed.shares)
    population_name = f"{vintage_name} (populations)" if vintage_name else SHARES_POPULATION_VINTAGE
    populations = _new_vintage(
        session,
        actor,
        kind=POPULATIONS,
        name=population_name,
        path=path,
        sha=sha,
        rows=len(parsed.populations),
    )
    repo.add_populations(session, populations, parsed.populations)
    note = f"populations by broad age band stored as vintage {population_name!r}"
    return ImportOutcome(SHARES, name, len(parsed.shares), created=True, notes=(note,))


def import_populations(
    session: Session, path: Path, actor: Principal, vintage_name: str | None = None
) -> ImportOutcome:
    """Import an ONS single-year-of-age population file as a population vintage."""
    sha, existing = _existing(session, POPULATIONS, path, actor)
    if existing:
        return ImportOutcome(POPULATIONS, existing.name, existing.rows, created=False)
    counts = read_populations(path)
    name = vintage_name or vintage_name_from(path)
    vintage = _new_vintage(
        session, actor, kind=POPULATIONS, name=name, path=path, sha=sha, rows=len(counts)
    )
    repo.add_populations(session, vintage, counts)
    areas = len({c.geo_code for c in counts})
    return ImportOutcome(POPULATIONS, name, len(counts), created=True, notes=(f"{areas} areas",))


@dataclass(frozen=True, slots=True)
class SyntheticInputs:
    """Reference data made by the synthetic generator rather than read from files."""

    label: str
    councils: Sequence[Council]
    commissioners: Sequence[Commissioner]
    shares: Sequence[CommissionerShare]
    populations: Sequence[PopulationCount]
    fingerprint: str


def load_synthetic(
    session: Session, inputs: SyntheticInputs, actor: Principal, population_vintage: str
) -> bool:
    """Store a synthetic nation's reference data as vintages; False if already stored."""
    actor.require(Role.NATIONAL_ADMIN)
    if repo.find_vintage_by_hash(session, COUNCILS, inputs.fingerprint):
        return False
    stores = (
        (COUNCILS, inputs.label, len(inputs.councils)),
        (SHARES, inputs.label, len(inputs.shares)),
        (POPULATIONS, population_vintage, len(inputs.populations)),
    )
    _forget(session)
    made: dict[str, Vintage] = {}
    for kind, name, rows in stores:
        made[kind] = repo.add_vintage(
            session,
            kind=kind,
            name=name,
            source="synthetic",
            sha256=inputs.fingerprint,
            rows=rows,
            actor=actor.username,
            synthetic=True,
        )
    repo.add_councils(session, made[COUNCILS], inputs.councils)
    repo.add_commissioners(session, made[SHARES], inputs.commissioners)
    repo.add_shares(session, made[SHARES], inputs.shares)
    repo.add_populations(session, made[POPULATIONS], inputs.populations)
    audit.record(
        session,
        actor=actor.username,
        action="import",
        entity="synthetic_nation",
        entity_id=inputs.fingerprint[:12],
        after={"label": inputs.label, "councils": len(inputs.councils)},
    )
    return True


@dataclass(frozen=True, slots=True)
class YearGeography:
    """Everything needed to talk about a year's areas, with the vintages it came from."""

    framework: Framework
    areas: list[Area]
    councils: list[Council]
    councils_vintage: Vintage
    shares_vintage: Vintage | None
    commissioners: dict[str, Commissioner]
    shares: list[CommissionerShare]
    population_vintage: Vintage | None
    populations: AreaPopulations
    synthetic: bool = False
    bands: dict[str, dict[str, int]] = field(default_factory=dict)

    def area(self, code: str) -> Area:
        for area in self.areas:
            if area.code == code:
                return area
        raise NotFound(f"no HWB area {code!r} in {self.framework.year}")

    def districts(self, code: str) -> tuple[str, ...]:
        """The names of the lower-tier district councils within a county area, sorted (none
        for a unitary area): in two-tier areas the county passes its Disabled Facilities
        Grant to them, as the housing authorities."""
        councils = set(self.area(code).councils)
        counties = {c.short_code for c in self.councils if c.code in councils}
        return tuple(
            sorted(c.name for c in self.councils if c.county in counties and c.kind == "NMD")
        )


_CACHE = "carepool.year_geography"


def _forget(session: Session) -> None:
    """Drop geography cached in this unit of work, after an import changed what it is."""
    session.info.pop(_CACHE, None)


def year_geography(
    session: Session, year: str, population_vintage: str | None = None
) -> YearGeography:
    """The year's HWB areas from the latest councils register, with populations resolved.

    Cached for the unit of work: a command that checks 151 plans reads geography once.
    """
    cache: dict[tuple[str, str | None], YearGeography] = session.info.setdefault(_CACHE, {})
    key = (year, population_vintage)
    if key not in cache:
        cache[key] = _read_year_geography(session, year, population_vintage)
    return cache[key]


def _read_year_geography(
    session: Session, year: str, population_vintage: str | None
) -> YearGeography:
    framework = load_framework(year)
    stored = repo.vintages(session)  # a handful of rows: one query rather than one per kind
    councils_vintage = _pick(stored, COUNCILS)
    if councils_vintage is None:
        raise CarepoolError(
            "no councils register imported yet: run 'carepool import areas FILE' "
            "or 'carepool demo --no-serve'"
        )
    shares_vintage = _pick(stored, SHARES)
    wanted = population_vintage or framework.geography.population_vintage
    populations_vintage = _pick(stored, POPULATIONS, wanted)
    if populations_vintage is None and population_vintage is None and councils_vintage.synthetic:
        # A synthetic nation has one population, which serves every year's vintage.
        populations_vintage = _pick(stored, POPULATIONS)
    if population_vintage and populations_vintage is None:
        raise NotFound(
            f"no population vintage {population_vintage!r}; imported: "
            + (", ".join(v.name for v in stored if v.kind == POPULATIONS) or "none")
        )
    key = (
        database_of(session),
        year,
        *(
            (v.id, v.sha256) if v else None
            for v in (councils_vintage, shares_vintage, populations_vintage)
        ),
    )
    derived = _DERIVED.get(key)
    if derived is None:
        with _DERIVING:  # one thread derives; the others wait for its result, not redo it
            derived = _DERIVED.get(key)
            if derived is None:
                derived = _derive(
                    session, framework, councils_vintage, shares_vintage, populations_vintage
                )
                if len(_DERIVED) >= _DERIVED_LIMIT:
                    _DERIVED.pop(next(iter(_DERIVED)))
                _DERIVED[key] = derived
    return YearGeography(
        framework=framework,
        councils_vintage=councils_vintage,
        shares_vintage=shares_vintage,
        population_vintage=populations_vintage,
        synthetic=councils_vintage.synthetic,
        **derived,
    )


def _pick(stored: list[Vintage], kind: str, name: str | None = None) -> Vintage | None:
    """The named vintage of a kind, or the most recently imported one (as ``find_vintage``)."""
    of_kind = [v for v in stored if v.kind == kind]
    if name is not None:
        return next((v for v in of_kind if v.name == name), None)
    return max(of_kind, key=lambda v: (v.imported_at, v.id), default=None)


_DERIVED: dict[tuple[object, ...], dict[str, Any]] = {}
"""Geography worked out from stored vintages, shared across units of work.

Vintages are never changed once stored, so what is derived from a given set of them (keyed
by database, year and each vintage's id and hash) stays true; this saves every page of the web
app re-reading and re-summing 14,000 population rows.
"""
_DERIVED_LIMIT = 16
_DERIVING = threading.Lock()
"""Held while deriving: when a busy server starts, forty threads asking for the same year's
geography at once would otherwise each read and re-sum it, and all of them be slow."""


def _derive(
    session: Session,
    framework: Framework,
    councils_vintage: Vintage,
    shares_vintage: Vintage | None,
    populations_vintage: Vintage | None,
) -> dict[str, Any]:
    councils = repo.councils(session, councils_vintage)
    areas = hwb_areas(councils, framework.geography)
    counts = repo.populations(session, populations_vintage) if populations_vintage else []
    resolved = resolve_populations(areas, counts, code_history(councils))
    commissioners = repo.commissioners(session, shares_vintage) if shares_vintage else []
    shares = repo.shares(session, shares_vintage) if shares_vintage else []
    return {
        "areas": areas,
        "councils": councils,
        "commissioners": {c.code: c for c in commissioners},
        "shares": carry_shares(shares, areas, code_history(councils)),
        "populations": resolved,
        "bands": {code: population_bands(rows) for code, rows in resolved.counts.items()},
    }


def council_names(session: Session, geo: YearGeography) -> dict[str, str]:
    """Every council in the year's register by code, including those in no area."""
    return {c.code: c.name for c in repo.councils(session, geo.councils_vintage)}


def is_synthetic(session: Session) -> bool:
    """Whether the councils register in use is the synthetic nation's."""
    vintage = repo.find_vintage(session, COUNCILS)
    return bool(vintage and vintage.synthetic)


def unmatched_problems(geo: YearGeography) -> list[Problem]:
    return [Problem(reason) for reason in geo.populations.unmatched.values()]


@dataclass(frozen=True, slots=True)
class Denominators:
    """The populations a year's metrics divide by, and how each area's was found.

    ``counts`` has one row per area and age (an area of two councils summed); ``apportioned``
    says which areas' counts are estimates split back from a reorganised group, and
    ``unmatched`` names the areas the vintage cannot give at all.
    """

    vintage: str
    counts: list[PopulationCount]
    apportioned: tuple[str, ...]
    unmatched: tuple[Problem, ...]


def denominators(session: Session, year: str, vintage: str | None = None) -> Denominators:
    """The population vintage ``year``'s metrics divide by, on the year's areas.

    By default the framework's ``metric_population_vintage`` (single years of age); a
    synthetic nation has one population, which serves every purpose. Areas the vintage's
    later codes cannot be mapped back to exactly are apportioned by the year's own
    (allocation) population where its broad bands allow, and reported as estimates.
    """
    framework = load_framework(year)
    wanted = vintage or (None if is_synthetic(session) else framework.geography.denominator_vintage)
    geo = year_geography(session, year, wanted)
    if geo.population_vintage is None:
        raise NotFound(
            f"no population vintage {wanted!r} imported, which {year}'s metrics divide by: "
            "import it with 'carepool import populations FILE' or name another with --population"
        )
    populations = geo.populations
    if populations.unmatched:
        guide = year_geography(session, year)
        if (
            guide.population_vintage is not None
            and guide.population_vintage != geo.population_vintage
        ):
            populations = apportion_unmatched(
                geo.areas,
                populations,
                repo.populations(session, geo.population_vintage),
                code_history(geo.councils),
                guide.populations.counts,
                guide.population_vintage.name,
            )
    return Denominators(
        vintage=geo.population_vintage.name,
        counts=_summed_by_age(populations),
        apportioned=tuple(
            populations.apportioned[code] for code in sorted(populations.apportioned)
        ),
        unmatched=tuple(
            Problem(reason, key=code) for code, reason in sorted(populations.unmatched.items())
        ),
    )


def _summed_by_age(populations: AreaPopulations) -> list[PopulationCount]:
    """One row per area and ages: an area of two councils (Cornwall with the Isles of Scilly)
    has each council's rows, and a metric divides by their sum."""
    summed: dict[tuple[str, int, int | None], PopulationCount] = {}
    for counts in populations.counts.values():
        for count in counts:
            key = (count.geo_code, count.age_from, count.age_to)
            before = summed.get(key)
            summed[key] = (
                count if before is None else replace(before, persons=before.persons + count.persons)
            )
    return list(summed.values())
