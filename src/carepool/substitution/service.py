"""The substitution check's use cases: import the returns and deflators, and report.

Councils are placed by the 2015-16 geography (the pools' first year): each return's council
names are matched to the councils register's social care councils of that year's Health and
Wellbeing Board areas, so a return names the same councils as the plans and pools do. No
council changed between 2014-15 and 2019 (Dorset's was the first reorganisation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.periods import PeriodError, financial_year
from carepool.domain.roles import Principal, Role
from carepool.domain.similar_areas import profiles, similar_areas
from carepool.domain.substitution import (
    BASELINE_YEAR,
    PRICE_YEAR,
    TOLERANCE,
    CouncilYear,
    YearResult,
    check_council,
    council_name_key,
    median_change,
    name_index,
    same_kind_group,
)
from carepool.geography import service as geography
from carepool.io.tabular import file_sha256
from carepool.substitution import repository as repo
from carepool.substitution.files.ascfr import read_return
from carepool.substitution.files.deflators import read_deflators
from carepool.substitution.repository import DeflatorSeries, Stamp

GEOGRAPHY_YEAR = "2015-16"
"""The programme year whose areas place every council: the pools' first year."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Councils:
    """The social care councils a return may name: names, kinds and HWB areas by ONS code."""

    names: dict[str, str]
    kinds: dict[str, str]
    areas: dict[str, str]
    similar: dict[str, list[str]]


def _councils(session: Session) -> Councils:
    geo = geography.year_geography(session, GEOGRAPHY_YEAR)
    names = geography.council_names(session, geo)
    areas = {council: area.code for area in geo.areas for council in area.councils}
    kinds = {c.code: c.kind for c in geo.councils if c.code in areas}
    area_kinds = {area.code: area.kind for area in geo.areas}
    area_profiles = profiles(area_kinds, geo.bands)
    profiled = {p.code for p in area_profiles}
    members: dict[str, list[str]] = {}
    for council, area in areas.items():
        members.setdefault(area, []).append(council)
    similar = {
        council: sorted(c for a in similar_areas(area, area_profiles) for c in members[a])
        for council, area in areas.items()
        if area in profiled
    }
    return Councils({c: names.get(c, c) for c in areas}, kinds, areas, similar)


# Imports -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReturnImport:
    file_name: str
    financial_year: str
    basis: str
    councils: int
    created: bool
    replaced: int
    missing: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """The import's audit event's ``after`` payload (with the file's SHA-256 added),
        stored as it is; ``--json`` prints :class:`~carepool.substitution.schemas.ReturnImport`."""
        return {
            "file": self.file_name,
            "financial_year": self.financial_year,
            "basis": self.basis,
            "councils": self.councils,
            "created": self.created,
            "replaced": self.replaced,
            "missing": list(self.missing),
        }


def _year(text: str) -> str:
    try:
        return financial_year(text)
    except PeriodError as exc:
        raise CarepoolError(exc.message) from None


def import_return(session: Session, path: Path, year: str, actor: Principal) -> ReturnImport:
    """Store a published ASC-FR file's figures as ``year``'s, in place of any held for it.

    The whole file is checked first (every council placed, every figure money), so a
    refused file stores nothing. The same file imported again changes nothing.
    """
    actor.require(Role.NATIONAL_ADMIN)
    year = _year(year)
    known = _councils(session)
    index = name_index(known.names)
    returned = read_return(path, year, lambda name: index.get(council_name_key(name)))
    digest = file_sha256(path)
    source = f"{returned.source} ({digest[:12]})"
    missing = tuple(sorted(set(known.names) - set(returned.councils)))
    basis = returned.basis.value
    if repo.year_sources(session, year) == {source}:
        return ReturnImport(path.name, year, basis, len(returned.councils), False, 0, missing)
    published = {c: (returned.names[c], returned.dh_codes[c]) for c in returned.councils}
    stamp = Stamp(source, actor.username, _now())
    years = [returned.councils[c] for c in sorted(returned.councils)]
    replaced = repo.replace_year(session, year, years, published, stamp)
    outcome = ReturnImport(path.name, year, basis, len(years), True, replaced, missing)
    audit.record(
        session,
        actor=actor.username,
        action="import",
        entity="council_finance",
        entity_id=year,
        after={**outcome.as_dict(), "sha256": digest},
    )
    return outcome


@dataclass(frozen=True, slots=True)
class DeflatorImport:
    file_name: str
    reference_year: str
    years: int
    first_year: str
    last_year: str
    created: bool


def import_deflators(session: Session, path: Path, actor: Principal) -> DeflatorImport:
    """Hold HM Treasury's GDP deflators from the published file, replacing any held."""
    actor.require(Role.NATIONAL_ADMIN)
    series = read_deflators(path)
    digest = file_sha256(path)
    source = f"{series.source} ({digest[:12]})"
    years = sorted(series.index)
    created = repo.deflator_source(session) != source
    outcome = DeflatorImport(
        path.name, series.reference_year, len(years), years[0], years[-1], created
    )
    if created:
        repo.replace_deflators(
            session, series.index, series.reference_year, Stamp(source, actor.username, _now())
        )
        audit.record(
            session,
            actor=actor.username,
            action="import",
            entity="gdp_deflator",
            entity_id=path.name,
            after={
                "file": path.name,
                "sha256": digest,
                "years": len(years),
                "reference_year": series.reference_year,
            },
        )
    return outcome


def store_synthetic(
    session: Session,
    years: Sequence[CouncilYear],
    deflators: Mapping[str, Decimal],
    actor: Principal,
    label: str,
) -> bool:
    """Store the demo's invented years and deflators, each row marked synthetic; once."""
    actor.require(Role.NATIONAL_ADMIN)
    if repo.year_sources(session, BASELINE_YEAR):
        return False
    stamp = Stamp(label, actor.username, _now(), synthetic=True)
    for year in sorted({y.financial_year for y in years}):
        chosen = [y for y in years if y.financial_year == year]
        repo.replace_year(session, year, chosen, {}, stamp)
    repo.replace_deflators(session, dict(deflators), PRICE_YEAR, stamp)
    audit.record(
        session,
        actor=actor.username,
        action="import",
        entity="council_finance",
        entity_id="synthetic",
        after={"label": label, "rows": len(years)},
    )
    return True


# The report ----------------------------------------------------------------------------


def council_years(session: Session, financial_year: str) -> dict[str, CouncilYear]:
    """Each council's returned figures for one financial year, by ONS code."""
    return {
        y.council_code: y for y in repo.council_years(session) if y.financial_year == financial_year
    }


@dataclass(frozen=True, slots=True)
class CouncilCheck:
    """One council's years and, for each compared year, its comparison group's median."""

    code: str
    name: str
    area_code: str | None
    kind: str | None
    group: tuple[str, ...]
    group_kind: str  # in words: "councils of the same kind", ...
    years: tuple[YearResult, ...]
    group_median: dict[str, Fraction | None]

    @property
    def flagged(self) -> bool:
        return any(y.flagged for y in self.years)

    @property
    def synthetic(self) -> bool:
        return any(y.figures.synthetic for y in self.years)


@dataclass(frozen=True, slots=True)
class SubstitutionReport:
    councils: tuple[CouncilCheck, ...]
    baseline_year: str
    price_year: str
    tolerance: Fraction
    deflators: DeflatorSeries
    years: tuple[str, ...]

    def council(self, code: str) -> CouncilCheck:
        for council in self.councils:
            if council.code == code:
                return council
        raise NotFound(f"no council finance figures for {code!r}")


def report(session: Session) -> SubstitutionReport:
    """Every council held, checked against its baseline in real terms, with its group."""
    stored = repo.council_years(session)
    series = repo.deflators(session)
    if stored and not series.index:
        raise CarepoolError(
            "no GDP deflators held, so nothing can be put in real terms: run "
            "'carepool import deflators FILE' (HM Treasury's GDP deflators CSV)"
        )
    known = _known_or_none(session)
    by_council: dict[str, list[CouncilYear]] = {}
    for year in stored:
        by_council.setdefault(year.council_code, []).append(year)
    checked = {code: check_council(ys, series.index) for code, ys in by_council.items()}
    names = repo.published_names(session)
    kinds = known.kinds if known else {}
    councils = tuple(
        _council_check(code, results, checked, known, names, kinds)
        for code, results in sorted(checked.items())
    )
    years = tuple(sorted({y.financial_year for y in stored}))
    return SubstitutionReport(
        councils, BASELINE_YEAR, PRICE_YEAR, Fraction(TOLERANCE), series, years
    )


def _known_or_none(session: Session) -> Councils | None:
    try:
        return _councils(session)
    except CarepoolError:
        return None  # no councils register: names as published, everyone one group


def _council_check(
    code: str,
    results: tuple[YearResult, ...],
    checked: Mapping[str, tuple[YearResult, ...]],
    known: Councils | None,
    names: Mapping[str, str],
    kinds: Mapping[str, str],
) -> CouncilCheck:
    if known and code in known.similar:
        group, label = known.similar[code], "councils in its most similar areas"
    elif kinds:
        group, label = same_kind_group(code, kinds), "councils of the same kind"
    else:
        group, label = sorted(c for c in checked if c != code), "other councils"
    medians = {
        r.figures.financial_year: median_change(
            [
                g.own_change
                for m in group
                for g in checked.get(m, ())
                if g.figures.financial_year == r.figures.financial_year and g.own_change is not None
            ]
        )
        for r in results
    }
    return CouncilCheck(
        code,
        (known.names.get(code) if known else None) or names.get(code, code),
        known.areas.get(code) if known else None,
        kinds.get(code),
        tuple(group),
        label,
        results,
        medians,
    )
