"""Allocation services: run, import, approve, publish and vary a year's national allocation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.allocation import repository as repo
from carepool.allocation.files import AllocationRow, read_allocation_table
from carepool.allocation.repository import AllocationRun as AllocationRun
from carepool.allocation.repository import StatusChange
from carepool.audit import repository as audit
from carepool.domain.allocation import (
    ALLOCATION_WORKFLOW,
    AllocationAction,
    AllocationLine,
    AllocationStatus,
    RunFacts,
    action_to,
    allocate_by_formula,
    reconciliation_problems,
    split_area_amounts,
)
from carepool.domain.errors import CarepoolError, Forbidden, ImportRejected, NotFound, Problem
from carepool.domain.framework import Payer
from carepool.domain.money import Pence
from carepool.domain.roles import PUBLIC, Principal, Role
from carepool.domain.workflow import Scope
from carepool.frameworks import available_years, require_year
from carepool.geography.service import YearGeography, unmatched_problems, year_geography
from carepool.store.db import flush

FORMULA, IMPORTED = "formula", "imported"


def runs(session: Session, year: str) -> list[AllocationRun]:
    return repo.runs(session, year)


def allocated_years(session: Session) -> list[str]:
    """The programme years with at least one allocation run, oldest first, or every year when
    none has one: pages that need a year by default choose among the years with money in."""
    years = available_years()
    return [year for year in years if repo.runs(session, year)] or years


def published_years(session: Session) -> list[str]:
    """The programme years whose allocation is published: only those can have a plan started,
    since a plan's minimum contributions are the published allocation's."""
    return repo.published_years(session)


def run_by_version(session: Session, year: str, version: int) -> AllocationRun:
    run = repo.find_run(session, year, version)
    if run is None:
        raise NotFound(f"no allocation version {version} for {year}")
    return run


def current_run(session: Session, year: str, viewer: Principal) -> AllocationRun | None:
    """The run a viewer should see: the latest published; national users also see drafts."""
    candidates = runs(session, year)
    published = [r for r in candidates if r.status == AllocationStatus.PUBLISHED]
    if published:
        return published[-1]
    if viewer.is_national or viewer.has(Role.AREA_EDITOR, Role.POOL_FINANCE):
        live = [r for r in candidates if r.status != AllocationStatus.SUPERSEDED]
        return live[-1] if live else None
    return None


def allocate(
    session: Session,
    year: str,
    actor: Principal,
    *,
    population_vintage: str | None = None,
    reason: str = "",
) -> AllocationRun:
    """Allocate the year by formula; reuse the latest run if it already has these inputs."""
    actor.require(Role.NATIONAL_ADMIN)
    geo = year_geography(session, year, population_vintage)
    if geo.population_vintage is None:
        raise CarepoolError(
            f"no population vintage {geo.framework.geography.population_vintage!r} imported; "
            "import the shares file or name one with --population"
        )
    if geo.populations.unmatched:
        raise CarepoolError(
            f"{len(geo.populations.unmatched)} areas of {year} have no population in vintage "
            f"{geo.population_vintage.name!r}; choose another vintage with --population",
            unmatched_problems(geo),
        )
    lines = allocate_by_formula(geo.framework, geo.areas, geo.populations.counts, geo.shares)
    return _store_run(session, geo, lines, actor, method=FORMULA, source="formula", reason=reason)


def import_allocation(
    session: Session, year: str, path: Path, actor: Principal, *, reason: str = ""
) -> AllocationRun:
    """Take a published allocation table as a new draft run, checked against the framework."""
    actor.require(Role.NATIONAL_ADMIN)
    geo = year_geography(session, year)
    rows = read_allocation_table(path)
    problems = _table_problems(geo, rows, path.name)
    if problems:
        raise ImportRejected.from_problems(path.name, problems)
    area_level = {
        (r.financial_year, r.stream, r.area_code): r.amount
        for r in rows
        if r.commissioner_code is None
    }
    explicit = [
        AllocationLine(r.financial_year, r.stream, r.area_code, r.commissioner_code, r.amount)
        for r in rows
        if r.commissioner_code is not None
    ]
    try:
        lines = explicit + split_area_amounts(geo.framework, area_level, geo.areas, geo.shares)
    except CarepoolError as exc:
        raise ImportRejected.from_problems(
            path.name, [Problem(exc.message, file=path.name)]
        ) from exc
    totals = reconciliation_problems(geo.framework, lines, (a.code for a in geo.areas))
    if totals:
        raise ImportRejected.from_problems(
            path.name, [Problem(p.message, file=path.name) for p in totals]
        )
    return _store_run(session, geo, lines, actor, method=IMPORTED, source=path.name, reason=reason)


def _table_problems(geo: YearGeography, rows: list[AllocationRow], file_name: str) -> list[Problem]:
    """Rows naming years, streams, areas or commissioners the year does not have."""
    framework = geo.framework
    areas = {a.code for a in geo.areas}
    streams = sorted(s.id for s in framework.streams)
    council_streams = {s.id for s in framework.streams if s.payer is Payer.COUNCIL}
    serving: dict[str, set[str]] = defaultdict(set)
    for area in geo.areas:
        for share in geo.shares:
            if share.council_code in area.councils:
                serving[area.code].add(share.commissioner_code)
    problems: list[Problem] = []
    for r in rows:
        checks = (
            (
                "financial_year",
                r.financial_year in framework.financial_years,
                f"{r.financial_year} is not a year of {framework.year}",
            ),
            ("stream", r.stream in streams, f"unknown stream {r.stream!r}; streams are {streams}"),
            (
                "area_code",
                r.area_code in areas,
                f"{r.area_code} is not a HWB area of {framework.year}",
            ),
            (
                "commissioner_code",
                not r.commissioner_code or r.commissioner_code in geo.commissioners,
                f"unknown commissioner {r.commissioner_code}",
            ),
            (
                "commissioner_code",
                not (r.commissioner_code and r.stream in council_streams),
                f"stream {r.stream!r} is paid by the council; leave commissioner_code blank",
            ),
            (
                "commissioner_code",
                not r.commissioner_code
                or r.area_code not in serving
                or r.commissioner_code in serving[r.area_code],
                f"{r.commissioner_code} does not serve area {r.area_code}",
            ),
        )
        problems.extend(
            Problem(message, file=file_name, row=r.row, column=column)
            for column, ok, message in checks
            if not ok
        )
    return problems


def _store_run(
    session: Session,
    geo: YearGeography,
    lines: list[AllocationLine],
    actor: Principal,
    *,
    method: str,
    source: str,
    reason: str,
) -> AllocationRun:
    existing = runs(session, geo.framework.year)
    latest = existing[-1] if existing else None
    if latest is not None and _same_run(latest, geo, lines, method):
        return latest
    published = [r for r in existing if r.status == AllocationStatus.PUBLISHED]
    if published and not reason.strip():
        raise CarepoolError(
            f"{geo.framework.year} already has a published allocation; a variation needs a "
            "reason (--reason TEXT)"
        )
    run = repo.add_run(
        session,
        year=geo.framework.year,
        version=(latest.version + 1) if latest else 1,
        method=method,
        source=source,
        councils_vintage_id=geo.councils_vintage.id,
        shares_vintage_id=geo.shares_vintage.id if geo.shares_vintage else None,
        population_vintage_id=geo.population_vintage.id if geo.population_vintage else None,
        varies_id=published[-1].id if published else None,
        reason=reason,
        created_by=actor.username,
        created_at=dt.datetime.now(dt.UTC),
        lines=lines,
        created=_event(None, AllocationStatus.DRAFT, actor, reason or f"created by {method}"),
    )
    audit.record(
        session,
        actor=actor.username,
        action="create",
        entity="allocation_run",
        entity_id=f"{run.year} v{run.version}",
        after={
            "method": method,
            "source": source,
            "total_pence": run.total_pence,
            "lines": len(lines),
            "reason": reason,
        },
    )
    return run


def _same_run(
    run: AllocationRun, geo: YearGeography, lines: list[AllocationLine], method: str
) -> bool:
    if run.status == AllocationStatus.SUPERSEDED or run.method != method:
        return False
    if run.population_vintage_id != (geo.population_vintage.id if geo.population_vintage else None):
        return False
    return stored_lines(run) == lines


def _event(
    before: AllocationStatus | None, after: AllocationStatus, actor: Principal, comment: str
) -> StatusChange:
    return StatusChange(before, after, actor.username, dt.datetime.now(dt.UTC), comment)


def move(
    session: Session,
    run: AllocationRun,
    target: AllocationStatus,
    actor: Principal,
    comment: str = "",
) -> AllocationRun:
    """Approve, publish or send back a run; publishing supersedes the previous published run."""
    actor.require(Role.NATIONAL_ADMIN)
    current = AllocationStatus(run.status)
    year_runs = runs(session, run.year)
    facts = RunFacts(run.version, year_runs[-1].version)
    ALLOCATION_WORKFLOW.apply(current, action_to(target), actor, Scope(), facts)
    if target is AllocationStatus.PUBLISHED:
        for other in year_runs:
            if other.status == AllocationStatus.PUBLISHED and other.id != run.id:
                superseded = ALLOCATION_WORKFLOW.apply(
                    AllocationStatus.PUBLISHED, AllocationAction.SUPERSEDE, actor, Scope(), facts
                )
                other.status = superseded.target.value
                repo.append_event(
                    other,
                    _event(
                        superseded.source,
                        superseded.target,
                        actor,
                        f"varied by version {run.version}: {run.reason}",
                    ),
                )
    run.status = target.value
    repo.append_event(run, _event(current, target, actor, comment))
    audit.record(
        session,
        actor=actor.username,
        action="status",
        entity="allocation_run",
        entity_id=f"{run.year} v{run.version}",
        before={"status": current.value},
        after={"status": target.value, "comment": comment},
    )
    flush(session)
    return run


def area_lines(session: Session, run: AllocationRun, area_code: str) -> list[AllocationLine]:
    """One area's lines of a run, read by index rather than loading the whole run."""
    return repo.area_lines(session, run, area_code)


def stored_lines(run: AllocationRun) -> list[AllocationLine]:
    return [
        AllocationLine(
            line.financial_year,
            line.stream,
            line.area_code,
            line.commissioner_code,
            Pence(line.amount_pence),
        )
        for line in run.lines
    ]


@dataclass(frozen=True, slots=True)
class AllocationView:
    """A run with its lines grouped the ways the pages, API and CLI present them."""

    run: AllocationRun
    geo: YearGeography
    lines: list[AllocationLine]

    def area_lines(self, code: str) -> list[AllocationLine]:
        return [line for line in self.lines if line.area_code == code]

    def area_total(self, code: str) -> int:
        return sum(line.amount for line in self.area_lines(code))

    def stream_totals(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for line in self.lines:
            totals[line.stream] += line.amount
        return dict(totals)

    def region_totals(self) -> dict[str, int]:
        region_of = {a.code: a.region for a in self.geo.areas}
        totals: dict[str, int] = defaultdict(int)
        for line in self.lines:
            totals[region_of.get(line.area_code, "")] += line.amount
        return dict(sorted(totals.items()))


def view(session: Session, run: AllocationRun) -> AllocationView:
    return AllocationView(run, year_geography(session, run.year), stored_lines(run))


OPEN_STATUSES = frozenset({AllocationStatus.PUBLISHED.value, AllocationStatus.SUPERSEDED.value})
"""Statuses anyone may see: published, or published once and since varied."""


LIVE_STATUSES = frozenset(
    {
        AllocationStatus.DRAFT.value,
        AllocationStatus.APPROVED.value,
        AllocationStatus.PUBLISHED.value,
    }
)
"""Statuses of runs still in play; a superseded run is history."""


def may_see(run: AllocationRun, viewer: Principal, area_code: str | None = None) -> bool:
    """Published runs are open data; others only to national roles, or to an area's own
    people for that area's part."""
    if run.status in OPEN_STATUSES or viewer.is_national:
        return True
    return area_code is not None and viewer.can_see_area(area_code)


def _default_run(
    session: Session, year: str, viewer: Principal, area_code: str | None
) -> AllocationRun | None:
    if viewer.is_national:
        live = [r for r in runs(session, year) if r.status in LIVE_STATUSES]
        return live[-1] if live else None
    if area_code is not None and viewer.can_see_area(area_code):
        return current_run(session, year, viewer)
    return current_run(session, year, PUBLIC)


def visible_run(
    session: Session,
    year: str,
    viewer: Principal,
    *,
    version: int | None = None,
    area_code: str | None = None,
) -> AllocationRun:
    """The allocation run ``viewer`` may see for ``year`` (a named version, or the default).

    By default national roles see the newest live run, draft or not; an area's own people see
    their area's draft before it is published; everyone else sees the published run. Asking
    for a version one may not see is refused: 403 for a signed-in person, 404 for the public,
    who are not told that an unpublished version exists.
    """
    require_year(year)
    if version is None:
        default = _default_run(session, year, viewer, area_code)
        if default is None:
            raise NotFound(f"no allocation has been published for {year} yet")
        return default
    run: AllocationRun | None
    try:
        run = run_by_version(session, year, version)
    except NotFound:
        run = None
    if run is not None and may_see(run, viewer, area_code):
        return run
    if run is None or viewer.is_public:  # the same words either way: existence is not told
        raise NotFound(f"no published allocation version {version} for {year}")
    raise Forbidden("you do not have access to this version of the allocation")
