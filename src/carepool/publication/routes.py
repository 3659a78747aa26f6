"""The open data page and its downloads: every published table, the package, the grants.

Anyone may read them: they hold only what the public pages show (see
:mod:`carepool.publication.service.resources`). Reading every table takes seconds on a whole
nation, so the app keeps the latest :class:`Snapshot` for :data:`FRESH_FOR` and serves the
page and every download from it; a download and the page beside it therefore always agree.
"""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from carepool.domain.errors import NotFound
from carepool.domain.grants import FLAT_COLUMNS, flat_row
from carepool.domain.metric_catalogue import catalogue
from carepool.domain.open_data import LICENCE, Resource
from carepool.publication import files
from carepool.publication.service.package import Snapshot, snapshot
from carepool.web.auth import DbSession, PublicViewer
from carepool.web.kit import render

router = APIRouter(include_in_schema=False)

FRESH_FOR = 300.0
"""Seconds a snapshot of the open data is served before it is read again."""

_STATE = "open_data_snapshot"


def current(request: Request, session: Session) -> Snapshot:
    """The app's snapshot of the open data, read again once it is older than FRESH_FOR."""
    held: tuple[float, Snapshot] | None = getattr(request.app.state, _STATE, None)
    if held is None or time.monotonic() - held[0] > FRESH_FOR:
        held = (time.monotonic(), snapshot(session))
        setattr(request.app.state, _STATE, held)
    return held[1]


def _download(body: str, name: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=f"{media_type}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv(resource: Resource, name: str) -> Response:
    return _download(files.table_csv(resource), name, "text/csv")


@router.get("/open-data", response_class=HTMLResponse)
def open_data(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    """Every published table with its description, size, licence, download and glossary."""
    found = current(request, session)
    context = {"snapshot": found, "licence": LICENCE, "grant_count": len(found.grants)}
    return render(request, "open_data.html", context, viewer=viewer, session=session)


@router.get("/open-data/datapackage.json")
def datapackage(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    """The Frictionless descriptor; its tables' paths resolve beside it, to the CSVs below."""
    body = json.dumps(current(request, session).descriptor(), indent=2, ensure_ascii=False)
    return _download(body, files.DESCRIPTOR, "application/json")


@router.get("/open-data/360giving.json")
def grants_json(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    body = json.dumps(current(request, session).grants_package(), indent=2, ensure_ascii=False)
    return _download(body, files.GRANTS_JSON, "application/json")


@router.get("/open-data/360giving.csv")
def grants_csv(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    rows = [FLAT_COLUMNS, *(flat_row(g) for g in current(request, session).grants)]
    return _download(files.rows_csv(rows), files.GRANTS_CSV, "text/csv")


@router.get("/open-data/metrics/{metric}.csv")
def metric_csv(request: Request, metric: str, session: DbSession, viewer: PublicViewer) -> Response:
    """One metric's published values for every area: the download each metric page offers."""
    if metric not in {d.id for d in catalogue()}:
        raise NotFound(f"there is no metric called {metric!r}")
    values = current(request, session).resource("metric_values")
    at = values.index("metric")
    mine = Resource(
        name=values.name,
        title=values.title,
        description=values.description,
        columns=values.columns,
        primary_key=values.primary_key,
        rows=tuple(row for row in values.rows if row[at] == metric),
    )
    return _csv(mine, f"carepool-{metric}.csv")


@router.get("/open-data/{name}.csv")
def table_csv(request: Request, name: str, session: DbSession, viewer: PublicViewer) -> Response:
    """One published table as CSV, exactly as ``carepool publish`` writes it."""
    resource = current(request, session).resource(name)
    return _csv(resource, resource.path)
