"""Personal budget pages: the quarterly collection for everyone, people's budgets for the few.

Two audiences, kept apart by the rules in :mod:`carepool.domain.budget_access`:

- **Everyone** reads the quarterly collection for England and for each area: budgets live at
  the quarter's end beside those active in the year, by holding type and eligibility, and
  spend. The public and other roles see it after disclosure control; national roles, and the
  area's coordinator and pool finance officer for their area, see exact figures.
- **The area's personal budget coordinator and pool finance officer** open the area's
  budgets: the list, each budget (its NHS and council parts, support plan, status history and
  spend), setting up a blended budget and uploading transactions. Anyone else, whatever
  national role they hold, is refused before anything is looked up, so a refusal gives no
  budget, name or figure away. No page shows an NHS number: budgets are known by their
  reference and a pseudonym only.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from carepool.budgets.published import publish
from carepool.budgets.routes import collection, reading
from carepool.budgets.routes.setup import SetUpForm, read_set_up
from carepool.domain.budget_access import (
    may_see_people,
    may_set_up,
    may_upload,
    sees_exact_counts,
)
from carepool.domain.errors import CarepoolError, Forbidden
from carepool.domain.periods import Quarter
from carepool.domain.roles import Principal, Role
from carepool.pools.routes import forms as pool_forms
from carepool.web.auth import CsrfChecked, DbSession, PublicViewer, require_roles
from carepool.web.forms import PageErrors, posted_form
from carepool.web.kit import flash, render

router = APIRouter(include_in_schema=False)

AreaPeople = Annotated[
    Principal, Depends(require_roles(Role.BUDGET_COORDINATOR, Role.POOL_FINANCE))
]
"""Signed in as a coordinator or pool finance officer (of some area: each page checks which)."""
Coordinator = Annotated[Principal, Depends(require_roles(Role.BUDGET_COORDINATOR))]
PostedForm = Annotated[FormData, Depends(posted_form)]
SizeChecked = Annotated[None, Depends(pool_forms.upload_size_limit)]
QuarterQuery = Annotated[str | None, Query(description="a quarter, e.g. 2015-16-Q2")]

REFUSED = "personal budgets are seen only by the area's coordinator and pool finance officer"


def _people_of(viewer: Principal, area: str) -> None:
    """Refuse anyone but the area's coordinator or finance officer, before any look-up."""
    if not may_see_people(viewer, area):
        raise Forbidden(REFUSED)


# ---------------------------------------------------------------------------------------
# The quarterly collection: everyone


def _collection_page(
    request: Request,
    session: Session,
    viewer: Principal,
    area: str | None,
    slug: str | None,
) -> Response:
    quarters = reading.quarters(session)
    if not quarters and area is None:
        return render(request, "budget_none.html", viewer=viewer, session=session)
    chosen = reading.chosen_quarter(session, quarters, slug)
    shown = publish(reading.collection(session, chosen, area), sees_exact_counts(viewer, area))
    context = {
        "quarter": chosen,
        "quarters": quarters,
        "shown": shown,
        "chart": collection.chart(shown),
        "area": area,
        "areas": [] if area else reading.areas(session),
        "may_see_people": area is not None and may_see_people(viewer, area),
        "base": f"/budgets/{area}" if area else "/budgets",
        "api_url": _api_url(chosen, area),
    }
    return render(request, "budget_collection.html", context, viewer=viewer, session=session)


def _api_url(chosen: Quarter, area: str | None) -> str:
    return f"/api/v1/budgets/collection/{chosen.slug}" + (f"/{area}" if area else "")


@router.get("/budgets", response_class=HTMLResponse)
def england(
    request: Request, session: DbSession, viewer: PublicViewer, quarter: QuarterQuery = None
) -> Response:
    """England's quarterly collection, with every area's headline counts."""
    return _collection_page(request, session, viewer, None, quarter)


@router.get("/budgets/{area}", response_class=HTMLResponse)
def area_collection(
    request: Request,
    area: str,
    session: DbSession,
    viewer: PublicViewer,
    quarter: QuarterQuery = None,
) -> Response:
    """One area's quarterly collection; its coordinator also gets links to the budgets."""
    reading.area_name(session, area)  # an unknown area is a 404
    return _collection_page(request, session, viewer, area, quarter)


# ---------------------------------------------------------------------------------------
# The area's budgets: its coordinator and pool finance officer


@router.get("/budgets/{area}/people", response_class=HTMLResponse)
def budget_list(
    request: Request,
    area: str,
    session: DbSession,
    viewer: AreaPeople,
    status: str = "",
    eligibility: str = "",
    holding: str = "",
) -> Response:
    """The area's budgets, narrowed by status, eligibility and how they are held."""
    _people_of(viewer, area)
    chosen = reading.Filters(status=status, eligibility=eligibility, holding=holding)
    shown, matching = reading.budgets(session, area, chosen, viewer)
    context = {
        "name": reading.area_name(session, area),
        "base": f"/budgets/{area}",
        "filters": chosen,
        "choices": reading.filter_choices(),
        "budgets": shown,
        "matching": matching,
        "may_set_up": may_set_up(viewer, area),
    }
    return render(request, "budget_list.html", context, viewer=viewer, session=session)


def _set_up_page(
    request: Request,
    session: Session,
    viewer: Principal,
    area: str,
    form: SetUpForm,
    errors: PageErrors | None = None,
) -> Response:
    context = {
        "name": reading.area_name(session, area),
        "base": f"/budgets/{area}",
        "form": form,
        "errors": errors or PageErrors(),
        "choices": reading.filter_choices(),
    }
    status = errors.status if errors else 200
    return render(
        request, "budget_set_up.html", context, viewer=viewer, session=session, status_code=status
    )


@router.get("/budgets/{area}/people/new", response_class=HTMLResponse)
def set_up_form(request: Request, area: str, session: DbSession, viewer: Coordinator) -> Response:
    """The form to set up a blended budget: its parts, support plan and review date."""
    _coordinates(viewer, area)
    return _set_up_page(request, session, viewer, area, SetUpForm.empty())


def _coordinates(viewer: Principal, area: str) -> None:
    if not may_set_up(viewer, area):
        raise Forbidden("only the area's personal budget coordinator sets up budgets")


@router.post("/budgets/{area}/people/new", response_class=HTMLResponse)
def set_up(
    request: Request,
    area: str,
    session: DbSession,
    viewer: Coordinator,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Check every field, then set the budget up whole, or show each problem by its field."""
    _coordinates(viewer, area)
    filled, problems = read_set_up(form, area)
    errors = PageErrors()
    for field_id, message in problems:
        errors.add(message, field_id)
    if filled.checked is not None:
        try:
            made = reading.set_up(session, filled.checked, viewer)
        except CarepoolError as exc:
            session.rollback()
            reading.field_errors(errors, exc)
        else:
            flash(request, f"Budget {made} set up and its allocation posted to the pool")
            return RedirectResponse(f"/budgets/{area}/people/{quote(made)}", status_code=303)
    return _set_up_page(request, session, viewer, area, filled, errors)


@router.get("/budgets/{area}/people/{reference}", response_class=HTMLResponse)
def budget_page(
    request: Request, area: str, reference: str, session: DbSession, viewer: AreaPeople
) -> Response:
    """One budget: its parts, support plan, status history, and spend against it."""
    _people_of(viewer, area)
    shown = reading.budget(session, area, reference, viewer)
    context = {
        "name": reading.area_name(session, area),
        "base": f"/budgets/{area}",
        "budget": shown,
    }
    return render(request, "budget_page.html", context, viewer=viewer, session=session)


# ---------------------------------------------------------------------------------------
# Transactions


def _transactions_page(
    request: Request,
    session: Session,
    viewer: Principal,
    area: str,
    errors: PageErrors | None = None,
    notice: str = "",
) -> Response:
    context = {
        "name": reading.area_name(session, area),
        "base": f"/budgets/{area}",
        "errors": errors or PageErrors(),
        "notice": notice,
        "may_upload": may_upload(viewer, area),
        "max_mb": pool_forms.MAX_UPLOAD // 2**20,
    }
    status = errors.status if errors else 200
    return render(
        request, "budget_transactions.html", context, viewer=viewer, session=session,
        status_code=status,
    )  # fmt: skip


@router.get("/budgets/{area}/transactions", response_class=HTMLResponse)
def transactions_form(
    request: Request, area: str, session: DbSession, viewer: AreaPeople
) -> Response:
    """Upload a file of transactions: direct payment returns, invoices, card statements."""
    _people_of(viewer, area)
    return _transactions_page(request, session, viewer, area)


@router.post("/budgets/{area}/transactions", response_class=HTMLResponse)
def upload_transactions(
    request: Request,
    area: str,
    session: DbSession,
    viewer: AreaPeople,
    _size: SizeChecked,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Import a transaction file all or nothing; list every problem by file, row and column."""
    _people_of(viewer, area)
    errors = PageErrors()
    sent = form.get("transactions_file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        errors.add("Choose the transactions file to upload", "transactions-file")
        return _transactions_page(request, session, viewer, area, errors)
    try:
        with pool_forms.saved_upload(sent) as path:
            outcome = reading.import_transactions(session, path, viewer)
    except CarepoolError as exc:
        session.rollback()
        pool_forms.add_problems(errors, exc, "transactions-file")
        return _transactions_page(request, session, viewer, area, errors)
    flash(request, outcome)
    return RedirectResponse(f"/budgets/{area}/transactions", status_code=303)
