"""Pages about the service itself: accessibility, privacy, contact and the API reference.

GOV.UK services link these from every page's footer; a public service that publishes data
must say under what licence, what it does with people's information and whom to tell about a
problem.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carepool.web.api_reference import reference
from carepool.web.auth import DbSession, PublicViewer
from carepool.web.kit import render

router = APIRouter(include_in_schema=False)

CONTACT_VARIABLE = "CAREPOOL_CONTACT_EMAIL"
"""The address the operator publishes for problems with the service; none is assumed."""


def contact_email() -> str:
    """The operator's published address, or empty when the operator has not set one."""
    return os.environ.get(CONTACT_VARIABLE, "").strip()


def _page(request: Request, template: str, session: DbSession, viewer: PublicViewer) -> Response:
    context = {"contact_email": contact_email(), "contact_variable": CONTACT_VARIABLE}
    return render(request, template, context, viewer=viewer, session=session)


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    return _page(request, "accessibility.html", session, viewer)


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    return _page(request, "privacy.html", session, viewer)


@router.get("/contact", response_class=HTMLResponse)
def contact(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    return _page(request, "contact.html", session, viewer)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    context = {"api": reference(request.app.openapi()), "schema_url": request.app.openapi_url}
    return render(request, "api_reference.html", context, viewer=viewer, session=session)


@router.get("/docs")
def docs() -> RedirectResponse:
    """Where API frameworks usually put their docs; people and tools try it first."""
    return RedirectResponse("/api/docs", status_code=308)
