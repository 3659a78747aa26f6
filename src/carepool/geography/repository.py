"""All database access for geography: vintages, councils, commissioners, shares, populations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from carepool.domain.geography import Commissioner, CommissionerShare, Council, PopulationCount
from carepool.store.models import CommissionerRow, CouncilRow, PopulationRow, ShareRow
from carepool.store.models import Vintage as Vintage

_BATCH = 5_000


def find_vintage_by_hash(session: Session, kind: str, sha256: str) -> Vintage | None:
    return session.scalars(select(Vintage).filter_by(kind=kind, sha256=sha256)).first()


def find_vintage(session: Session, kind: str, name: str | None = None) -> Vintage | None:
    """The named vintage of a kind, or the most recently imported one."""
    query = select(Vintage).filter_by(kind=kind)
    if name is not None:
        return session.scalars(query.filter_by(name=name)).first()
    return session.scalars(query.order_by(Vintage.imported_at.desc(), Vintage.id.desc())).first()


def vintages(session: Session, kind: str | None = None) -> list[Vintage]:
    query = select(Vintage).order_by(Vintage.kind, Vintage.imported_at)
    if kind:
        query = query.filter_by(kind=kind)
    return list(session.scalars(query))


def add_vintage(
    session: Session,
    *,
    kind: str,
    name: str,
    source: str,
    sha256: str,
    rows: int,
    actor: str,
    synthetic: bool = False,
) -> Vintage:
    vintage = Vintage(
        kind=kind,
        name=name,
        source=source,
        sha256=sha256,
        rows=rows,
        synthetic=synthetic,
        imported_at=dt.datetime.now(dt.UTC),
        imported_by=actor,
    )
    session.add(vintage)
    session.flush()
    return vintage


def _bulk(session: Session, table: type, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(table), rows[start : start + _BATCH])


def add_councils(session: Session, vintage: Vintage, councils: Sequence[Council]) -> None:
    _bulk(
        session,
        CouncilRow,
        [
            {
                "vintage_id": vintage.id,
                "code": c.code,
                "short_code": c.short_code,
                "name": c.name,
                "kind": c.kind,
                "region": c.region,
                "nation": c.nation,
                "start": c.start,
                "end": c.end,
                "replaced_by": ",".join(c.replaced_by),
                "county": c.county,
            }
            for c in councils
        ],
    )


def add_commissioners(
    session: Session, vintage: Vintage, commissioners: Sequence[Commissioner]
) -> None:
    _bulk(
        session,
        CommissionerRow,
        [
            {"vintage_id": vintage.id, "code": c.code, "ods_code": c.ods_code, "name": c.name}
            for c in commissioners
        ],
    )


def add_shares(session: Session, vintage: Vintage, shares: Sequence[CommissionerShare]) -> None:
    _bulk(
        session,
        ShareRow,
        [
            {
                "vintage_id": vintage.id,
                "commissioner_code": s.commissioner_code,
                "council_code": s.council_code,
                "population": s.population,
                "share_of_commissioner": str(s.share_of_commissioner),
                "share_of_area": str(s.share_of_area),
            }
            for s in shares
        ],
    )


def add_populations(session: Session, vintage: Vintage, counts: Sequence[PopulationCount]) -> None:
    _bulk(
        session,
        PopulationRow,
        [
            {
                "vintage_id": vintage.id,
                "geo_code": c.geo_code,
                "geo_name": c.geo_name,
                "age_from": c.age_from,
                "age_to": c.age_to,
                "persons": c.persons,
            }
            for c in counts
        ],
    )


def councils(session: Session, vintage: Vintage) -> list[Council]:
    rows = session.scalars(select(CouncilRow).filter_by(vintage_id=vintage.id))
    return [
        Council(
            code=r.code,
            short_code=r.short_code,
            name=r.name,
            kind=r.kind,
            region=r.region,
            nation=r.nation,
            start=r.start,
            end=r.end,
            replaced_by=tuple(filter(None, r.replaced_by.split(","))),
            county=r.county,
        )
        for r in rows
    ]


def commissioners(session: Session, vintage: Vintage) -> list[Commissioner]:
    rows = session.scalars(
        select(CommissionerRow).filter_by(vintage_id=vintage.id).order_by(CommissionerRow.code)
    )
    return [Commissioner(r.code, r.ods_code, r.name) for r in rows]


def shares(session: Session, vintage: Vintage) -> list[CommissionerShare]:
    rows = session.scalars(select(ShareRow).filter_by(vintage_id=vintage.id))
    return [
        CommissionerShare(
            commissioner_code=r.commissioner_code,
            council_code=r.council_code,
            population=r.population,
            share_of_commissioner=Fraction(r.share_of_commissioner),
            share_of_area=Fraction(r.share_of_area),
        )
        for r in rows
    ]


def populations(session: Session, vintage: Vintage) -> list[PopulationCount]:
    rows = session.execute(
        select(
            PopulationRow.geo_code,
            PopulationRow.geo_name,
            PopulationRow.age_from,
            PopulationRow.age_to,
            PopulationRow.persons,
        ).filter_by(vintage_id=vintage.id)
    )
    return [PopulationCount(*row) for row in rows]
