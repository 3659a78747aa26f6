"""Published statistics: importing official files as vintages, and the series pages show.

Two publications give BCF metrics their national and local context:

- ``asc_outcomes``: Oflog's adult social care outcome measures by council, 2015-16 onwards
  (:mod:`carepool.metrics.files.published_outcomes`), including ASC5, the reablement outcome;
- ``dtoc``: NHS England's monthly delayed transfers of care for England, August 2010 to
  February 2020 (:mod:`carepool.metrics.files.dtoc`), by responsible organisation, type of care and
  reason.

Imports work as the geography imports do: the file's kind is recognised from its content
(or given), its SHA-256 identifies it, and the same file imported again changes nothing and
says so. Otherwise the whole file is read and checked first, and only a clean file becomes a
:class:`~carepool.geography.repository.Vintage` with its figures and an audit event, in the caller's
unit of work. Newer editions become new vintages beside the old; queries read the latest
vintage that holds the figures asked for.

Published statistics are public (Open Government Licence), so reading them needs no role.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.errors import CarepoolError, Conflict, NotFound
from carepool.domain.metric_value import Grain
from carepool.domain.roles import Principal, Role
from carepool.geography import repository as vintages
from carepool.io.tabular import file_sha256, read_table
from carepool.metrics import repository as repo
from carepool.metrics.files import dtoc, published_outcomes
from carepool.metrics.repository import Statistic

ASC_OUTCOMES, DTOC = "asc_outcomes", "dtoc"
KINDS = (ASC_OUTCOMES, DTOC)
ENGLAND = dtoc.ENGLAND_CODE

REABLEMENT_OUTCOME = "ASC5"
"""Oflog's code for the outcome of short-term services (reablement), a BCF metric."""

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_SNIFF_BYTES = 4096


@dataclass(frozen=True, slots=True)
class StatisticsImport:
    """What an import did: ``created`` is False when the same file was already imported."""

    kind: str
    vintage: str
    file: str
    sha256: str
    rows: int
    created: bool
    notes: tuple[str, ...] = ()


def detect_kind(path: Path) -> str:
    """Which publication a file is, from its content rather than its name."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise CarepoolError(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    if head.startswith(_OLE2_MAGIC):
        return DTOC
    if {published_outcomes.YEAR, published_outcomes.CODE} <= _header(path, head):
        return ASC_OUTCOMES
    raise CarepoolError(
        f"{path.name} is neither Oflog's adult social care outcomes CSV nor NHS England's "
        f"delayed transfers of care workbook; if it is one of them, say which with --kind "
        f"({' or '.join(KINDS)})"
    )


def _header(path: Path, head: bytes) -> set[str]:
    """The column names of a CSV file's first line, or of an .xlsx workbook's first row.

    A workbook is recognised from its bytes, whatever the file is named (a workbook saved
    under a .csv name is still a workbook), and read by the shared reader as every import is.
    """
    if head.startswith(_ZIP_MAGIC):
        return set(read_table(path).header)
    first_line = head.decode("utf-8-sig", errors="replace").split("\n", 1)[0]
    return {cell.strip().strip('"') for cell in first_line.split(",")}


def import_statistics(
    session: Session,
    path: Path,
    actor: Principal,
    *,
    kind: str | None = None,
    vintage_name: str | None = None,
) -> StatisticsImport:
    """Import a publication as a vintage, all or nothing; the same file twice is a no-op."""
    actor.require(Role.NATIONAL_ADMIN)
    kind = kind or detect_kind(path)
    if kind not in _READERS:
        raise CarepoolError(f"unknown kind of statistics {kind!r}; kinds are {', '.join(KINDS)}")
    sha = file_sha256(path)
    existing = vintages.find_vintage_by_hash(session, kind, sha)
    if existing is not None:
        note = f"{path.name} was already imported as vintage {existing.name!r}; nothing changed"
        return StatisticsImport(kind, existing.name, path.name, sha, existing.rows, False, (note,))
    statistics, notes = _READERS[kind](path)
    name = vintage_name or path.stem
    if vintages.find_vintage(session, kind, name) is not None:
        raise Conflict(
            f"a different {kind} file was already imported as vintage {name!r}; "
            "give this one another name (--vintage NAME)"
        )
    vintage = vintages.add_vintage(
        session, kind=kind, name=name, source=path.name, sha256=sha, rows=len(statistics),
        actor=actor.username,
    )  # fmt: skip
    repo.add_statistics(session, vintage, statistics)
    audit.record(
        session,
        actor=actor.username,
        action="import",
        entity="vintage",
        entity_id=vintage.id,
        after={"kind": kind, "name": name, "source": path.name, "sha256": sha,
               "rows": len(statistics)},
    )  # fmt: skip
    return StatisticsImport(kind, name, path.name, sha, len(statistics), True, notes)


def _outcome_statistics(path: Path) -> tuple[list[Statistic], tuple[str, ...]]:
    outcomes = published_outcomes.read_outcomes(path)
    statistics = [
        Statistic(
            v.measure_code, v.measure_label, v.area_code, v.area_name, v.financial_year,
            Grain.YEAR, v.value, v.unit,
        )
        for v in outcomes.values
    ]  # fmt: skip
    years = sorted({v.financial_year for v in outcomes.values})
    notes = (
        f"{len({v.area_code for v in outcomes.values})} councils, "
        f"{len({v.measure_code for v in outcomes.values})} measures, {years[0]} to {years[-1]}",
        f"{outcomes.not_published} rows have no published value and were left out",
    )
    return statistics, notes


def _dtoc_statistics(path: Path) -> tuple[list[Statistic], tuple[str, ...]]:
    series = dtoc.read_dtoc(path)
    labels = {measure.code: measure.label for measure in series.measures}
    statistics = [
        Statistic(
            code, labels[code], dtoc.ENGLAND_CODE, dtoc.ENGLAND_NAME, month.period, Grain.MONTH,
            Decimal(days), dtoc.UNIT,
        )
        for month in series.months
        for code, days in month.days.items()
    ]  # fmt: skip
    first, last = series.months[0].period, series.months[-1].period
    notes = (f"{len(series.months)} months, {first} to {last}, {len(labels)} measures",)
    return statistics, notes


_READERS: dict[str, Callable[[Path], tuple[list[Statistic], tuple[str, ...]]]] = {
    ASC_OUTCOMES: _outcome_statistics,
    DTOC: _dtoc_statistics,
}


# --------------------------------------------------------------------------------------------
# Queries for pages


@dataclass(frozen=True, slots=True)
class PublishedSeries:
    """One measure for one place over time, oldest period first."""

    measure_code: str
    measure_label: str
    unit: str
    geography_code: str
    geography_name: str
    grain: Grain
    points: tuple[tuple[str, Decimal], ...]


def published_series(session: Session, measure_code: str, geography_code: str) -> PublishedSeries:
    """A measure's series for a council (or England), from the latest publication holding it."""
    rows = repo.statistics_series(session, measure_code, geography_code)
    if not rows:
        raise NotFound(f"no published {measure_code} figures for {geography_code}")
    latest = rows[-1]
    return PublishedSeries(
        measure_code, latest.measure_label, latest.unit, geography_code, latest.geography_name,
        latest.grain, tuple((row.period, row.value) for row in rows),
    )  # fmt: skip


def reablement_series(session: Session, area_code: str) -> PublishedSeries:
    """An area's published reablement outcome (ASC5) by financial year."""
    return published_series(session, REABLEMENT_OUTCOME, area_code)


def outcomes_for_year(session: Session, measure_code: str, financial_year: str) -> list[Statistic]:
    """Every council's value of an outcome measure in one financial year, by council code."""
    return repo.statistics_for_period(session, measure_code, financial_year)


@dataclass(frozen=True, slots=True)
class DelayedDaysMonth:
    """England's delayed days in a month by the organisation responsible."""

    period: str
    nhs: int
    social_care: int
    both: int
    total: int


def delayed_days_by_organisation(session: Session) -> list[DelayedDaysMonth]:
    """England's monthly delayed days, NHS / social care / both, oldest month first."""
    series = [
        dict(published_series(session, code, ENGLAND).points)
        for code in ("DTOC_NHS", "DTOC_SOCIAL_CARE", "DTOC_BOTH", "DTOC_TOTAL")
    ]
    return [
        DelayedDaysMonth(period, *(int(s[period]) for s in series))
        for period in series[-1]
        if all(period in s for s in series)
    ]


def delayed_days_by_type(session: Session) -> list[tuple[str, int, int]]:
    """England's monthly delayed days as ``(period, acute, non-acute)``, oldest first."""
    acute, non_acute = (
        dict(published_series(session, code, ENGLAND).points)
        for code in ("DTOC_ACUTE", "DTOC_NON_ACUTE")
    )
    return [(p, int(days), int(non_acute[p])) for p, days in acute.items() if p in non_acute]


def england_series(session: Session, measure_code: str) -> PublishedSeries:
    """Any of England's delayed-transfer measures as a series.

    The measures are read by :mod:`carepool.metrics.files.dtoc`.
    """
    return published_series(session, measure_code, ENGLAND)


def measures_of(kind: str) -> Sequence[str]:
    """The measure codes a kind of publication is known to carry (for choosing on pages)."""
    if kind == ASC_OUTCOMES:
        return tuple(published_outcomes.UNITS)
    if kind == DTOC:
        return tuple(
            m.code for m in (*dtoc.TYPE_MEASURES.values(), *dtoc.ORGANISATION_MEASURES.values())
        )
    raise CarepoolError(f"unknown kind of statistics {kind!r}; kinds are {', '.join(KINDS)}")
