"""One error hierarchy, two web renderings: the API's JSON envelope and GOV.UK error pages.

Anything under ``/api/`` gets the one stable envelope whatever went wrong, so a machine client
needs a single parser::

    {"error": {"code": "not_found", "message": "...", "problems": [...]}}

Everything else gets a GOV.UK error page with the same message. A
:class:`~carepool.domain.errors.CarepoolError` is the user's problem and is shown as it is; any
other exception is a bug: it is logged with its traceback and the user sees only that
something went wrong on our side, never the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from carepool.domain.errors import CarepoolError, Forbidden, Problem
from carepool.web.schemas.common import ErrorBody, ErrorEnvelope, ProblemOut

API_PREFIX = "/api/"
log = logging.getLogger("carepool.web")


class NotSignedIn(CarepoolError):
    """The request needs a signed-in person (or, for the API, a valid token)."""

    code = "unauthenticated"
    http_status = 401


class CsrfRefused(Forbidden):
    """A form came back without the token this session was given, so it may be forged."""

    code = "csrf_refused"


class TooManyAttempts(CarepoolError):
    """Too many failed sign-ins for this username from this client; wait and try again."""

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


API_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": HTTPStatus(status).phrase}
    for status in (400, 401, 403, 404, 409, 422, 500)
}
"""``responses=`` for API routes so the schema shows the envelope for each error status."""

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_request",
    429: "too_many_attempts",
}

_PAGE_TITLES = {
    400: "There is a problem with your request",
    401: "You need to sign in",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "This page cannot be used that way",
    409: "That cannot be done now",
    422: "There is a problem with your request",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def envelope(code: str, message: str, problems: Sequence[Problem] = ()) -> ErrorEnvelope:
    body = ErrorBody(code=code, message=message, problems=[ProblemOut.of(p) for p in problems])
    return ErrorEnvelope(error=body)


def _json(
    status: int,
    code: str,
    message: str,
    problems: Sequence[Problem] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    content = envelope(code, message, problems).model_dump(mode="json")
    return JSONResponse(content, status_code=status, headers=headers)


def _page(
    request: Request,
    status: int,
    message: str,
    problems: Sequence[Problem] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    # Imported here: the page renderer lives with the routes, which import this module.
    from carepool.web.kit import render

    title = _PAGE_TITLES.get(status, _phrase(status))
    context = {"title": title, "message": message, "problems": problems, "status": status}
    return render(request, "error.html", context, status_code=status, headers=headers)


def _headers_for(exc: CarepoolError) -> dict[str, str]:
    if isinstance(exc, NotSignedIn):
        return {"WWW-Authenticate": 'Bearer realm="carepool"'}
    if isinstance(exc, TooManyAttempts):
        return {"Retry-After": str(exc.retry_after)}
    return {}


async def carepool_error(request: Request, exc: Exception) -> Response:
    """A user's problem: the envelope for the API, a GOV.UK page (or sign-in) for people."""
    assert isinstance(exc, CarepoolError)
    headers = _headers_for(exc)
    if is_api(request):
        return _json(exc.http_status, exc.code, exc.message, exc.problems, headers)
    if isinstance(exc, NotSignedIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)
    return _page(request, exc.http_status, exc.message, exc.problems, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) in the same two renderings."""
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = _phrase(status)
    message = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else ""
    headers = dict(exc.headers or {})
    if is_api(request):
        code = _HTTP_CODES.get(status, f"http_{status}")
        return _json(status, code, message or phrase, headers=headers)
    if status == 404 and not message:
        message = "If you typed the web address, check it is correct."
    return _page(request, status, message or phrase, headers=headers)


async def validation_error(request: Request, exc: Exception) -> Response:
    """Bad path or query values: every problem listed with where it is."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        Problem(str(e.get("msg", "invalid value")), key=".".join(str(p) for p in e.get("loc", ())))
        for e in exc.errors()
    ]
    message = "the request has values that are not valid"
    if is_api(request):
        return _json(422, "invalid_request", message, problems)
    return _page(request, 400, "Some of the values sent are not valid.", problems)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug. Logged in full for us; the user gets an apology and nothing internal."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = "Something went wrong on our side. Try again later."
    if is_api(request):
        return _json(500, "internal_error", message)
    return _page(request, 500, message)


def install(app: FastAPI) -> None:
    app.add_exception_handler(CarepoolError, carepool_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
