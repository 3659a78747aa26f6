"""What every capability's pages share: the templates and their filters, rendering a page with
the signed-in person and their flash messages, and refusing an unknown programme year.

Rules about what a viewer may see belong to the services (which allocation run:
:func:`carepool.allocation.service.visible_run`), so a page, its downloads and the API can
never disagree about them.
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

from carepool.domain.allocation import AllocationStatus
from carepool.domain.money import format_millions, format_money
from carepool.domain.roles import PUBLIC, Principal, Role
from carepool.frameworks import require_year
from carepool.geography import service as geography
from carepool.web.auth import CSRF_FIELD, csrf_token
from carepool.web.navigation import may, menu

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_FLASH = "flash"


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


def _role_label(value: str) -> str:
    """A role as people say it ("Area signatory"), for events that stored its code."""
    return Role(value).label if value in set(Role) else value


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
        role_label=_role_label,
        status_tag=lambda status: STATUS_TAGS.get(str(status), "govuk-tag--grey"),
    )
    env.globals["csrf_field"] = CSRF_FIELD
    env.globals["may"] = may
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
    # Only a session checked live on the server this request names anyone (see auth).
    signed_in_as = getattr(request.state, "session_user", None)
    if synthetic is None:
        synthetic = data_is_synthetic(session) if session is not None else False
    shown_to = viewer or PUBLIC
    base = {
        "viewer": shown_to,
        "menu": menu(shown_to, signed_in=bool(signed_in_as) or not shown_to.is_public),
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
    return require_year(year)
