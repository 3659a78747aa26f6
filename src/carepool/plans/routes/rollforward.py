"""Rolling an area's plan forward from the web, and the page of what must change.

The button sits on the plan's own pages (not started, or a draft) when the area's plan for
the year before is approved. The page that follows lists, section by section, what the new
year's framework changed and what the checks still find, each with a link to the section to
fix, so an editor starts from last year's agreed plan instead of a blank one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carepool.domain.errors import NotFound
from carepool.domain.plan_rules import Severity
from carepool.domain.roles import Principal
from carepool.plans.routes.views import SLUG_OF_FINDING, area_of, load_plan, may_edit
from carepool.plans.service import EDITOR_ROLES, rollforward
from carepool.web.auth import CsrfChecked, DbSession, SignedInViewer, require_roles
from carepool.web.kit import flash, render

router = APIRouter(include_in_schema=False)

Editor = Annotated[Principal, Depends(require_roles(*EDITOR_ROLES))]


@router.post("/plans/{year}/{area}/roll-forward")
def roll_forward(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: Editor,
    _csrf: CsrfChecked,
) -> Response:
    """Start (or restart, while a draft) the plan from the area's approved plan a year before."""
    geo, _ = area_of(session, year, area)
    if not viewer.can_see_area(area):
        raise NotFound(f"no plan for {area} in {year} that you can see")
    source = rollforward.source_year(session, year, area)
    if source is None:
        raise NotFound(f"{area} has no approved plan from the year before {year} to start from")
    result = rollforward.roll_forward_area(session, geo, source, area, viewer)
    must = sum(1 for c in result.changes if c.must_change)
    flash(request, f"The plan now starts from the approved {source} plan: {must} things to change")
    return RedirectResponse(f"/plans/{year}/{area}/changes", status_code=303)


@router.get("/plans/{year}/{area}/changes", response_class=HTMLResponse)
def what_must_change(
    request: Request, year: str, area: str, session: DbSession, viewer: SignedInViewer
) -> Response:
    """What the new year changed in a rolled-forward plan, and what the checks still find."""
    page = load_plan(session, year, area, viewer)
    if not viewer.can_see_area(area):
        raise NotFound(f"no plan for {area} in {year} that you can see")
    from_year, changes = rollforward.changes_since(session, page.plan, viewer)
    context = {
        "page": page,
        "area": page.area,
        "framework": page.geo.framework,
        "from_year": from_year,
        "base": f"/plans/{year}/{area}",
        "slugs": SLUG_OF_FINDING,
        "must": [c for c in changes if c.must_change],
        "check": [c for c in changes if not c.must_change],
        "errors_found": [f for f in page.findings if f.severity is Severity.ERROR],
        "warnings_found": [f for f in page.findings if f.severity is Severity.WARNING],
        "may_edit": may_edit(viewer, area) and page.editable,
    }
    return render(
        request, "plan_changes.html", context, viewer=viewer, synthetic=page.geo.synthetic
    )
