"""What the routers share: page rendering, flash messages and which allocation a viewer sees.

The routers are split by audience (``public``, ``national``, ``area``, ``api``); the rule for
which allocation run a viewer may see lives here, once, so a page, its downloads and the API
can never disagree about it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session
from starlette.templating import Jinja2Templates

from carepool.allocation import service as allocation
from carepool.allocation.service import AllocationRun
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import Forbidden, NotFound
from carepool.domain.money import format_millions, format_money
from carepool.domain.roles import PUBLIC, Principal
from carepool.frameworks import available_years
from carepool.geography import service as geography
from carepool.web.auth import CSRF_FIELD, SESSION_USER, csrf_token

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_FLASH = "flash"

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

STATUS_TAGS = {
    AllocationStatus.DRAFT.value: "govuk-tag--grey",
    AllocationStatus.APPROVED.value: "govuk-tag--blue",
    AllocationStatus.PUBLISHED.value: "govuk-tag--green",
    AllocationStatus.SUPERSEDED.value: "govuk-tag--yellow",
}


def _whole_pounds(pence: int) -> str:
    return format_money(pence, pence_shown=False)


def _number(value: int) -> str:
    return f"{value:,}"


def _date(value: dt.date | dt.datetime) -> str:
    """GOV.UK style: ``19 September 2014``."""
    return f"{value.day} {value:%B %Y}"


def _datetime(value: dt.datetime) -> str:
    """GOV.UK style: ``30 October 2014 at 2:05pm``."""
    hour = value.hour % 12 or 12
    return f"{_date(value)} at {hour}:{value:%M}{'am' if value.hour < 12 else 'pm'}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a misspelt variable fails the page test, not the user
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=format_money,
        millions=format_millions,
        pounds=_whole_pounds,
        number=_number,
        date=_date,
        datetime=_datetime,
        status_tag=lambda status: STATUS_TAGS.get(str(status), "govuk-tag--grey"),
    )
    env.globals["csrf_field"] = CSRF_FIELD
    return env


templates = Jinja2Templates(env=_environment())


def flash(request: Request, message: str) -> None:
    """Show ``message`` in a success banner on the next page this person sees."""
    request.session.setdefault(_FLASH, [])
    request.session[_FLASH] = [*request.session[_FLASH], message]


def _pop_flashes(request: Request) -> list[str]:
    if "session" not in request.scope:
        return []
    return [str(m) for m in request.session.pop(_FLASH, [])]


def data_is_synthetic(session: Session) -> bool:
    """Whether the reference data in use is the synthetic nation (the phase banner says so)."""
    return geography.is_synthetic(session)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    viewer: Principal | None = None,
    session: Session | None = None,
    synthetic: bool | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page with what the layout needs: who is signed in, the CSRF token, flashes and
    whether the data shown is synthetic."""
    has_session = "session" in request.scope
    signed_in_as = request.session.get(SESSION_USER) if has_session else None
    if synthetic is None:
        synthetic = data_is_synthetic(session) if session is not None else False
    base = {
        "viewer": viewer or PUBLIC,
        "signed_in_as": viewer.display_name if viewer and not viewer.is_public else signed_in_as,
        "csrf_token": csrf_token(request),
        "flashes": _pop_flashes(request),
        "synthetic": synthetic,
        "govuk_css": getattr(request.app.state, "govuk_css", False),
        "path": request.url.path,
    }
    return templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status_code, headers=headers
    )


def check_year(year: str) -> str:
    """Refuse a programme year that has no framework with a 404, not a 400."""
    if year not in available_years():
        raise NotFound(f"there is no programme year {year!r}")
    return year


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
        live = [r for r in allocation.runs(session, year) if r.status in LIVE_STATUSES]
        return live[-1] if live else None
    if area_code is not None and viewer.can_see_area(area_code):
        return allocation.current_run(session, year, viewer)
    return allocation.current_run(session, year, PUBLIC)


_LIVE = frozenset(
    {
        AllocationStatus.DRAFT.value,
        AllocationStatus.APPROVED.value,
        AllocationStatus.PUBLISHED.value,
    }
)


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
    check_year(year)
    if version is None:
        default = _default_run(session, year, viewer, area_code)
        if default is None:
            raise NotFound(f"no allocation has been published for {year} yet")
        return default
    run: AllocationRun | None
    try:
        run = allocation.run_by_version(session, year, version)
    except NotFound:
        run = None
    if run is not None and may_see(run, viewer, area_code):
        return run
    if run is None or viewer.is_public:  # the same words either way: existence is not told
        raise NotFound(f"no published allocation version {version} for {year}")
    raise Forbidden("you do not have access to this version of the allocation")
