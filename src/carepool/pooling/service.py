"""The pooling tracker's use cases: import the commissioners' allocations, and report each
area's share of health and care money pooled, against its trajectory and the ambition.

A financial year belongs to the programme year whose framework spans it (2015-16, or 2017-18
in 2017-19). Its areas, commissioners and population shares come from that programme year's
geography; a year no framework spans (2016-17) is placed by the latest programme year that
began before it, and has no plans, so nothing pooled is known for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.framework import PoolingAmbition
from carepool.domain.ledger import Accounts
from carepool.domain.periods import (
    PeriodError,
    financial_year,
    financial_year_end,
    financial_year_start,
)
from carepool.domain.plan import PlanContent
from carepool.domain.pooling import (
    AreaYear,
    CouncilSpend,
    Scope,
    YearTotals,
    council_side,
    nhs_side_by_area,
    nhs_side_by_council,
    scope,
    year_totals,
)
from carepool.domain.roles import Principal, Role
from carepool.domain.substitution import Basis, CouncilYear
from carepool.frameworks import available_years, load_framework
from carepool.geography import service as geography
from carepool.io.tabular import file_sha256
from carepool.plans import service as plans
from carepool.pooling import repository as repo
from carepool.pooling.files.ccg_allocations import COMMISSIONER_CODE, read_ccg_allocations
from carepool.pooling.repository import Stamp
from carepool.pools.service import ledger
from carepool.substitution import service as substitution


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _year(text: str) -> str:
    try:
        return financial_year(text)
    except PeriodError as exc:
        raise CarepoolError(exc.message) from None


def year_from_address(text: str) -> str:
    """A financial year taken from a page's or the API's address: one that is not a
    financial year names nothing there, so it is not found (the command line says why)."""
    try:
        return financial_year(text)
    except PeriodError as exc:
        raise NotFound(exc.message) from None


def programme_year_of(year: str) -> str | None:
    """The programme year whose framework spans the financial year, if any does."""
    return next((p for p in available_years() if year in load_framework(p).financial_years), None)


def placing_year(year: str) -> str:
    """The programme year whose geography places the financial year's money (see module)."""
    spanning = programme_year_of(year)
    if spanning is not None:
        return spanning
    earlier = [p for p in available_years() if load_framework(p).financial_years[0] <= year]
    return earlier[-1] if earlier else available_years()[0]


# Importing the commissioners' allocations --------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllocationImport:
    file_name: str
    financial_year: str
    commissioners: int
    total_pence: int
    created: bool
    replaced: int
    missing: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """The import's audit event's ``after`` payload and ``--json`` output."""
        return {
            "file": self.file_name,
            "financial_year": self.financial_year,
            "commissioners": self.commissioners,
            "total_pence": self.total_pence,
            "created": self.created,
            "replaced": self.replaced,
            "missing": list(self.missing),
        }


def import_ccg_allocations(
    session: Session, path: Path, year: str, actor: Principal
) -> AllocationImport:
    """Hold the table's allocations as ``year``'s, in place of any held for it.

    Every row is checked first (form, known commissioner, no repeats) and every problem is
    reported together, so a refused file stores nothing. The same file again changes nothing.
    """
    actor.require(Role.NATIONAL_ADMIN)
    year = _year(year)
    geo = geography.year_geography(session, placing_year(year))
    by_ods = {c.ods_code.upper(): c.code for c in geo.commissioners.values() if c.ods_code}
    table = read_ccg_allocations(path, year)
    amounts: dict[str, int] = {}
    for line in table.lines:
        code = line.commissioner_code
        ons = code if code in geo.commissioners else by_ods.get(code)
        if ons is None:
            table.log.add(
                f"{code} is not a commissioner in the population shares carepool holds "
                f"for {geo.framework.year}",
                row=line.row,
                column=COMMISSIONER_CODE,
            )
        elif ons in amounts:
            table.log.add(
                f"{code} is commissioner {ons}, already given in another row",
                row=line.row,
                column=COMMISSIONER_CODE,
            )
        else:
            amounts[ons] = line.amount
    table.log.raise_if_any()
    return _store(
        session, path, year, amounts, sorted(set(geo.commissioners) - set(amounts)), actor
    )


def _store(
    session: Session,
    path: Path,
    year: str,
    amounts: Mapping[str, int],
    missing: list[str],
    actor: Principal,
) -> AllocationImport:
    digest = file_sha256(path)
    source = f"{path.name} ({digest[:12]})"
    total = sum(amounts.values())
    if repo.year_sources(session, year) == {source}:
        return AllocationImport(path.name, year, len(amounts), total, False, 0, tuple(missing))
    stamp = Stamp(source, actor.username, _now())
    replaced = repo.replace_year(session, year, amounts, stamp)
    outcome = AllocationImport(path.name, year, len(amounts), total, True, replaced, tuple(missing))
    audit.record(
        session,
        actor=actor.username,
        action="import",
        entity="commissioner_allocation",
        entity_id=year,
        after={**outcome.as_dict(), "sha256": digest},
    )
    return outcome


def store_synthetic(
    session: Session, years: Mapping[str, Mapping[str, int]], actor: Principal, label: str
) -> bool:
    """Store the demo's invented allocations, year by year, marked synthetic; once."""
    actor.require(Role.NATIONAL_ADMIN)
    if repo.years(session):
        return False
    stamp = Stamp(label, actor.username, _now(), synthetic=True)
    for year, amounts in sorted(years.items()):
        repo.replace_year(session, year, amounts, stamp)
    audit.record(
        session,
        actor=actor.username,
        action="import",
        entity="commissioner_allocation",
        entity_id="synthetic",
        after={"label": label, "years": sorted(years)},
    )
    return True


# The tracker ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AreaStatus:
    """One area's figures for the year, with its name for people."""

    name: str
    region: str
    figures: AreaYear


@dataclass(frozen=True, slots=True)
class PoolingStatus:
    """Every area of a financial year, England's totals and the ambition they are held to."""

    financial_year: str
    programme_year: str | None
    areas: tuple[AreaStatus, ...]
    totals: YearTotals
    ambition: PoolingAmbition
    scope: Scope
    unplaced: tuple[str, ...]
    synthetic: bool

    def area(self, code: str) -> AreaStatus:
        for area in self.areas:
            if area.figures.area_code == code:
                return area
        raise NotFound(f"no HWB area {code!r} in {self.financial_year}")

    @property
    def counted(self) -> tuple[AreaStatus, ...]:
        """The areas whose share can be worked out."""
        return tuple(a for a in self.areas if a.figures.share_pooled is not None)


_CACHE = "carepool.pooling_status"


def status(session: Session, year: str) -> PoolingStatus:
    """Every area's money in scope, pooled and share pooled for the financial year.

    Cached for the unit of work: an area's page reads every year once.
    """
    year = _year(year)
    cache: dict[str, PoolingStatus] = session.info.setdefault(_CACHE, {})
    if year not in cache:
        cache[year] = _status(session, year)
    return cache[year]


def _status(session: Session, year: str) -> PoolingStatus:
    programme = programme_year_of(year)
    geo = geography.year_geography(session, placing_year(year))
    held = repo.allocations(session, year)
    by_council, unplaced = nhs_side_by_council(held.amounts, geo.shares)
    nhs = nhs_side_by_area(by_council, geo.areas)
    returns = substitution.council_years(session, year)
    approved = _approved(session, programme) if programme else {}
    planned = _trajectories(session)
    received = _received(session, programme, year) if programme else {}
    areas = []
    for area in geo.areas:
        content = approved.get(area.code)
        figures = AreaYear(
            area_code=area.code,
            financial_year=year,
            nhs_side=nhs.get(area.code),
            council=council_side([_spend(returns.get(c)) for c in area.councils]),
            minimum=_sum(content, year, minimum=True),
            additional=_sum(content, year, minimum=False),
            planned_share=planned.get((area.code, year)),
            received=received.get(area.code),
            approved_plan=content is not None,
        )
        areas.append(AreaStatus(area.name, area.region, figures))
    ambition = load_framework(programme or geo.framework.year).pooling
    synthetic = held.synthetic or any(y.synthetic for y in returns.values())
    return PoolingStatus(
        year,
        programme,
        tuple(areas),
        year_totals(year, (a.figures for a in areas)),
        ambition,
        scope(ambition),
        unplaced,
        synthetic,
    )


def _spend(returned: CouncilYear | None) -> CouncilSpend | None:
    """The council's spend from its return: gross current expenditure, or for a year
    returned only on the bridging basis (2015-16), its bridging-year expenditure."""
    if returned is None:
        return None
    if returned.gross_current_expenditure is not None:
        return CouncilSpend(returned.gross_current_expenditure, returned.bcf_income)
    if returned.basis is Basis.BRIDGING and returned.bridging_expenditure is not None:
        return CouncilSpend(returned.bridging_expenditure, returned.bcf_income, bridging=True)
    return None


def _sum(content: PlanContent | None, year: str, *, minimum: bool) -> int:
    if content is None:
        return 0
    chosen = [c for c in content.contributions if c.financial_year == year]
    return sum(c.minimum if minimum else c.additional for c in chosen)


def _approved(session: Session, programme: str) -> dict[str, PlanContent]:
    """The programme year's approved plans, read once in the unit of work."""
    cache: dict[str, dict[str, PlanContent]] = session.info.setdefault(_CACHE + ".plans", {})
    if programme not in cache:
        cache[programme] = plans.approved_contents(session, programme)
    return cache[programme]


def _trajectories(session: Session) -> dict[tuple[str, str], Decimal]:
    """Each area's planned share by financial year from its approved plans; a later
    programme year's plan replaces what an earlier one planned for the same year."""
    cache: dict[tuple[str, str], Decimal] | None = session.info.get(_CACHE + ".planned")
    if cache is None:
        cache = {}
        for programme in available_years():
            for area, content in _approved(session, programme).items():
                for point in content.trajectory:
                    cache[(area, point.financial_year)] = point.share
        session.info[_CACHE + ".planned"] = cache
    return cache


def _received(session: Session, programme: str, year: str) -> dict[str, int]:
    """What each pool's partners paid in against the year's contributions, by its ledger:
    contributions fallen due in the year less what is still owed on them at its end."""
    pools = ledger.pools(session, programme)
    moved = ledger.movements(session, pools, financial_year_start(year), financial_year_end(year))
    paid = {}
    for pool in pools:
        accounts = moved.get(pool.id, {})
        due = -_total(accounts, _CONTRIBUTIONS)
        paid[pool.area_code] = due - _total(accounts, _RECEIVABLE)
    return paid


_CONTRIBUTIONS = Accounts.contribution("partner", "stream").rsplit(":", 2)[0]
_RECEIVABLE = Accounts.receivable("partner", "stream").rsplit(":", 2)[0]


def _total(accounts: Mapping[str, int], prefix: str) -> int:
    return sum(amount for name, amount in accounts.items() if name.startswith(prefix + ":"))


def years(session: Session) -> list[str]:
    """The financial years the tracker can speak of: any held allocations, and every year
    a framework spans, up to the ambition's target year."""
    spanned = {y for p in available_years() for y in load_framework(p).financial_years}
    target = load_framework(available_years()[-1]).pooling.target_year
    known = set(repo.years(session)) | spanned | {target}
    first, last = (financial_year_start(y).year for y in (min(known), max(known)))
    return [financial_year(f"{y}-{(y + 1) % 100:02d}") for y in range(first, last + 1)]


@dataclass(frozen=True, slots=True)
class AreaHistory:
    """One area's years, with the trajectory it declared and the ambition's target."""

    code: str
    name: str
    years: tuple[AreaYear, ...]
    ambition: PoolingAmbition
    scope: Scope
    synthetic: bool


def area_history(session: Session, area_code: str) -> AreaHistory:
    """The area's figures for every year the tracker speaks of."""
    statuses = [status(session, y) for y in years(session)]
    found = [s.area(area_code) for s in statuses if _has(s, area_code)]
    if not found:
        raise NotFound(f"no HWB area {area_code!r}")
    latest = statuses[-1]
    return AreaHistory(
        area_code,
        found[-1].name,
        tuple(a.figures for a in found),
        latest.ambition,
        latest.scope,
        any(s.synthetic for s in statuses),
    )


def _has(report: PoolingStatus, code: str) -> bool:
    return any(a.figures.area_code == code for a in report.areas)


def national_history(session: Session) -> list[YearTotals]:
    """England's totals for every year the tracker speaks of."""
    return [status(session, y).totals for y in years(session)]
