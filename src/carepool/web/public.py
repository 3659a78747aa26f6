"""Pages for everyone: the start page, the policy frameworks, signing in and out, the account.

The frameworks are public policy, so they are shown to anyone; signing in only changes what
the allocation and area pages show.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carepool.accounts import service as accounts
from carepool.domain.errors import CarepoolError
from carepool.domain.framework import Framework
from carepool.frameworks import available_years, load_framework
from carepool.geography.service import year_geography
from carepool.web.auth import (
    CsrfChecked,
    DbSession,
    PublicViewer,
    SignedInViewer,
    client_of,
    end_session,
    start_session,
)
from carepool.web.errors import TooManyAttempts
from carepool.web.kit import check_year, flash, render

router = APIRouter(include_in_schema=False)

PAYERS = {"commissioner": "NHS commissioners (CCGs)", "council": "Council"}
MEASURES = {
    "count": "Count",
    "rate_per_100000": "Rate per 100,000",
    "percentage": "Percentage",
    "score": "Score",
    "days": "Days",
}
DIRECTIONS = {"lower_is_better": "Lower", "higher_is_better": "Higher"}
PAYMENT_KINDS = {
    "conditions_and_metrics": "Payment on national conditions and metrics",
    "non_elective_reduction": "Payment for reducing emergency admissions",
    "local_risk_share": "Local risk share",
    "non_elective_risk_share": "Risk share against emergency admissions",
    "none": "No payment for performance",
}
RULE_KINDS = {
    "improved_bcf_conditions": "Improved Better Care Fund grant conditions",
    "year_end_reconciliation": "Year-end reconciliation",
    "discharge_fund": "Adult social care discharge fund",
    "better_care_grant_conditions": "Better Care Grant conditions",
    "transfer_to_social_care": "NHS transfer to social care",
}


def _frameworks() -> list[Framework]:
    return [load_framework(year) for year in available_years()]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    context = {"frameworks": _frameworks()}
    return render(request, "home.html", context, viewer=viewer, session=session)


@router.get("/healthz", include_in_schema=False)
def healthz(viewer: PublicViewer) -> dict[str, str]:
    """For load balancers and the benchmarks' floor: the app answers, touching nothing else."""
    return {"status": "ok"}


@router.get("/frameworks", response_class=HTMLResponse)
def frameworks(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    context = {"frameworks": _frameworks()}
    return render(request, "frameworks.html", context, viewer=viewer, session=session)


@router.get("/frameworks/{year}", response_class=HTMLResponse)
def framework(request: Request, year: str, session: DbSession, viewer: PublicViewer) -> Response:
    chosen = load_framework(check_year(year))
    year_totals = {
        fy: sum(stream.totals[fy] for stream in chosen.streams) for fy in chosen.financial_years
    }
    context = {
        "framework": chosen,
        "year_totals": year_totals,
        "payers": PAYERS,
        "measures": MEASURES,
        "directions": DIRECTIONS,
        "payment_kinds": PAYMENT_KINDS,
        "rule_kinds": RULE_KINDS,
        "figures": {figure.key: figure for figure in chosen.figure_statuses()},
    }
    return render(request, "framework.html", context, viewer=viewer, session=session)


def safe_next(target: str) -> str:
    """Only go back to a page of this service after signing in, never to another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(
    request: Request, session: DbSession, viewer: PublicViewer, next: str = "/"
) -> Response:
    context = {"errors": {}, "username": "", "next": safe_next(next)}
    return render(request, "sign_in.html", context, viewer=viewer, session=session)


def _blank_field_errors(username: str, password: str) -> dict[str, str]:
    errors = {}
    if not username.strip():
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"
    return errors


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: DbSession,
    viewer: PublicViewer,
    _csrf: CsrfChecked,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password, counting failures; a success starts a fresh session."""
    username = username.strip()
    errors = _blank_field_errors(username, password)
    status = 400
    headers: dict[str, str] = {}
    limiter = request.app.state.sign_in_limiter
    client = client_of(request)
    if not errors:
        try:
            limiter.check(username, client)
            found = accounts.authenticate(session, username, password)
        except TooManyAttempts as exc:
            errors, status = {"username": exc.message}, exc.http_status
            headers = {"Retry-After": str(exc.retry_after)}
        else:
            if found is not None:
                limiter.succeeded(username, client)
                start_session(request, session, found.username)
                return RedirectResponse(safe_next(next), status_code=303)
            limiter.failed(username, client)
            errors = {"username": "The username or password is not right"}
    context = {"errors": errors, "username": username, "next": safe_next(next)}
    return render(
        request,
        "sign_in.html",
        context,
        viewer=viewer,
        session=session,
        status_code=status,
        headers=headers,
    )


@router.post("/sign-out")
def sign_out(
    request: Request, session: DbSession, viewer: PublicViewer, _csrf: CsrfChecked
) -> Response:
    """End the session on the server and forget it (open to all: signing out when already
    out does no harm)."""
    end_session(request, session)
    flash(request, "You have signed out")
    return RedirectResponse("/", status_code=303)


def _area_names(session: DbSession) -> dict[str, str]:
    """Names of areas for the account page; empty if no geography has been imported."""
    years = available_years()
    try:
        geo = year_geography(session, years[-1])
    except CarepoolError:  # no councils imported yet: show codes rather than fail the page
        return {}
    return {area.code: area.name for area in geo.areas}


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: DbSession, viewer: SignedInViewer) -> Response:
    names = _area_names(session) if any(g.area_code for g in viewer.grants) else {}
    roles = [
        {
            "label": grant.role.label,
            "area": grant.area_code,
            "area_name": names.get(grant.area_code or "", grant.area_code),
            "partner": grant.partner_code,
        }
        for grant in sorted(viewer.grants, key=str)
    ]
    return render(request, "account.html", {"roles": roles}, viewer=viewer, session=session)
