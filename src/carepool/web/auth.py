"""Who is asking, and may they: sessions, tokens, role dependencies, CSRF and sign-in limits.

Every route declares its access with exactly one of three dependencies, so a reader (and the
guard test) can see at a glance who may call it:

- :func:`public_access` — anyone; the page shows what the viewer may see (published data for
  the public, more for national roles);
- :func:`signed_in` — any signed-in person;
- :func:`require_roles` — signed in *and* holding one of the named roles;
- :func:`require_access` — signed in and allowed by a declared
  :class:`~carepool.domain.access.Access`, the same declaration that decides whether a link
  to the page is shown (:mod:`carepool.web.navigation`).

People sign in with a local account and get a signed session cookie (Starlette's
``SessionMiddleware``: HttpOnly, SameSite=Lax). The cookie names a random session id whose
SHA-256 the database keeps (``web_session``); the cookie is honoured only while that session
is live, so signing out, a password change or deactivating the account ends it at once, even
for a copy of the cookie. Machines send ``Authorization: Bearer <token>`` to ``/api/``; the
API never reads the cookie, so a forged cross-site request cannot borrow someone's session
there. Every HTML form carries the session's CSRF token and a POST without it is refused; the
token is an HMAC of the session id under the app's secret key, so it is never in the cookie
(which is signed, not encrypted). Failed sign-ins are counted per account and per client
address, so passwords cannot be guessed at speed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from carepool.accounts import service as accounts
from carepool.domain.access import NATIONAL_DASHBOARD, Access
from carepool.domain.errors import Forbidden
from carepool.domain.roles import PUBLIC, Principal, Role
from carepool.store.db import unit_of_work
from carepool.web.errors import CsrfRefused, NotSignedIn, TooManyAttempts, is_api

SESSION_USER = "user"
SESSION_ID = "sid"
CSRF_FIELD = "csrf_token"
SESSION_HOURS = 8

_ACCESS: dict[Callable[..., Any], str] = {}
"""The access dependencies and what each declares; read by :func:`access_of`."""


def access_of(call: object) -> str | None:
    """What access a dependency declares (``public``, ``signed_in``, ``roles:...``), if any."""
    return _ACCESS.get(call) if callable(call) else None


def db_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed once when the route returns, rolled back if it
    raises. Scoped to the route function so the commit happens before the response is sent
    (a redirect after a POST must never show the old state)."""
    with unit_of_work(request.app.state.engine) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]


_UNCHECKED = object()


def session_user(request: Request, session: Session) -> str | None:
    """The signed-in username if the cookie's session is live on the server, else ``None``.

    A cookie whose session was revoked (signed out, password changed, account deactivated),
    has expired or predates server-side sessions is emptied, so the request carries on as a
    signed-out one. Checked once per request.
    """
    checked = getattr(request.state, "session_user", _UNCHECKED)
    if checked is not _UNCHECKED:
        return checked  # type: ignore[return-value]
    username = request.session.get(SESSION_USER)
    session_id = request.session.get(SESSION_ID)
    live: str | None = None
    if username and isinstance(session_id, str):
        max_age = dt.timedelta(hours=SESSION_HOURS)
        if accounts.web_session_user(session, session_id, max_age) == username:
            live = str(username)
    if username and live is None:
        request.session.clear()
    request.state.session_user = live
    return live


def _session_principal(request: Request, session: Session) -> Principal:
    username = session_user(request, session)
    if not username:
        return PUBLIC
    found = accounts.find_user(session, username)
    if found is None:  # deactivated or removed since signing in
        request.session.clear()
        request.state.session_user = None
        return PUBLIC
    return found


BEARER = HTTPBearer(
    scheme_name="bearerToken",
    description="A personal API token from 'carepool users token'. Without one a route "
    "open to the public answers as to the public; one that needs a token gives 401.",
    auto_error=False,
)
"""Reads ``Authorization: Bearer <token>``, and declares it as the API's security scheme in the
OpenAPI document. ``auto_error`` is off because the token is optional: :func:`current_principal`
decides what a missing or malformed header means."""

BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def _token_principal(
    request: Request, session: Session, bearer: HTTPAuthorizationCredentials | None
) -> Principal:
    if bearer is None:
        if "authorization" in request.headers:  # sent, but not as 'Bearer <token>'
            raise NotSignedIn("the Authorization header must be 'Bearer <token>'")
        return PUBLIC
    found = accounts.principal_for_token(session, bearer.credentials.strip())
    if found is None:
        raise NotSignedIn("the API token is not valid")
    return found


def current_principal(request: Request, session: DbSession, bearer: BearerCredentials) -> Principal:
    """The viewer: from the bearer token under /api/, from the session cookie elsewhere."""
    if is_api(request):
        return _token_principal(request, session, bearer)
    return _session_principal(request, session)


Viewer = Annotated[Principal, Depends(current_principal)]


def public_access(viewer: Viewer) -> Principal:
    """Anyone may call the route; it must show each viewer only what they may see."""
    return viewer


def signed_in(viewer: Viewer) -> Principal:
    """Only signed-in people (or valid tokens); others are sent to sign in (or get 401)."""
    if viewer.is_public:
        raise NotSignedIn("sign in to use this page")
    return viewer


@cache
def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through only holders of one of ``roles`` (403 otherwise).

    Cached so that the same roles give the same dependency, which FastAPI then resolves once
    per request however many times a route mentions it.
    """

    def dependency(viewer: Annotated[Principal, Depends(signed_in)]) -> Principal:
        viewer.require(*roles)
        return viewer

    _ACCESS[dependency] = "roles:" + ",".join(sorted(r.value for r in roles))
    return dependency


@cache
def require_access(access: Access) -> Callable[[Principal], Principal]:
    """A dependency that lets through only those ``access`` allows (403 otherwise).

    Links to the page are shown by the same declaration, so a link never leads to a refusal.
    """

    def dependency(viewer: Annotated[Principal, Depends(signed_in)]) -> Principal:
        if not access.allows(viewer):
            raise Forbidden(access.refusal)
        return viewer

    _ACCESS[dependency] = access.rule
    return dependency


_ACCESS[public_access] = "public"
_ACCESS[signed_in] = "signed_in"

PublicViewer = Annotated[Principal, Depends(public_access)]
SignedInViewer = Annotated[Principal, Depends(signed_in)]
NationalViewer = Annotated[Principal, Depends(require_access(NATIONAL_DASHBOARD))]
AdminViewer = Annotated[Principal, Depends(require_roles(Role.NATIONAL_ADMIN))]


class ApiRoute(APIRoute):
    """An ``/api/v1`` route whose operation in the OpenAPI document says whether it needs the
    bearer token.

    FastAPI lists a security scheme as required by every route that reads it; a route open to
    the public answers without a token too, so its operation also lists the empty requirement
    (``{}``), which OpenAPI reads as "no credentials".
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if any(access_of(d.call) == "public" for d in self.dependant.dependencies):
            extra = dict(self.openapi_extra or {})
            extra["security"] = [*extra.get("security", []), {}]
            self.openapi_extra = extra


def _csrf_for(request: Request, session_id: str) -> str:
    key = str(request.app.state.session_secret).encode("utf-8")
    return hmac.new(key, b"csrf:" + session_id.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """This session's CSRF token; every form carries it back.

    The session id is made on first use; the token is derived from it with the app's secret
    key, so the cookie (signed but readable) never holds the token itself.
    """
    if "session" not in request.scope:  # error pages rendered outside the session middleware
        return ""
    session_id = request.session.get(SESSION_ID)
    if not isinstance(session_id, str) or not session_id:
        session_id = secrets.token_urlsafe(32)
        request.session[SESSION_ID] = session_id
    return _csrf_for(request, session_id)


async def csrf_protect(request: Request, session: DbSession) -> None:
    """Refuse a form post whose token is missing or not this live session's (403)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    session_user(request, session)  # a revoked session is emptied, so its token is refused
    session_id = request.session.get(SESSION_ID)
    expected = _csrf_for(request, session_id) if isinstance(session_id, str) else None
    if not isinstance(sent, str) or not isinstance(expected, str) or not expected:
        raise CsrfRefused("the form has expired or did not come from this service; go back, "
                          "reload the page and try again")  # fmt: skip
    if not secrets.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused("the form has expired or did not come from this service; go back, "
                          "reload the page and try again")  # fmt: skip


CsrfChecked = Annotated[None, Depends(csrf_protect)]


def start_session(request: Request, session: Session, username: str) -> None:
    """Begin a fresh session for a person who has just signed in, recorded on the server.

    Everything from before signing in is dropped and a new session id (so a new CSRF token)
    made, so a token or session planted by someone else before sign-in is worthless afterwards.
    """
    request.session.clear()
    request.session[SESSION_ID] = accounts.start_web_session(session, username)
    request.session[SESSION_USER] = username
    request.state.session_user = username


def end_session(request: Request, session: Session) -> None:
    """Revoke the session on the server and empty the cookie; a copy of it stops working."""
    session_id = request.session.get(SESSION_ID)
    if request.session.get(SESSION_USER) and isinstance(session_id, str):
        accounts.end_web_session(session, session_id)
    request.session.clear()
    request.state.session_user = None


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass
class SignInLimiter:
    """Counts failed sign-ins in a sliding window and refuses more once the limit is reached.

    Two counters: per account, from wherever the attempts come (stops guessing one person's
    password, even from many addresses), and per client address across accounts (stops trying
    one password against many names). The client address is the one the server saw, which
    names a forwarding proxy only if ``CAREPOOL_TRUSTED_PROXIES`` says to believe it. A
    success clears the account's counter. Counts are kept in this process's memory, so with
    several worker processes each enforces its own limit; put a shared limiter in front for
    that.
    """

    max_failures: int = 5
    max_client_failures: int = 50
    window_seconds: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, username: str, client: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("account", username.strip().lower()), ("client", client)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        return times

    def check(self, username: str, client: str) -> None:
        """Raise :class:`TooManyAttempts` if this username or client is locked out now."""
        now = self.clock()
        user_key, client_key = self._keys(username, client)
        with self._lock:
            for key, limit in (
                (user_key, self.max_failures),
                (client_key, self.max_client_failures),
            ):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = int(times[0] + self.window_seconds - now) + 1
                    minutes = max(1, (wait + 59) // 60)
                    raise TooManyAttempts(
                        "There have been too many failed attempts to sign in. "
                        f"Wait {minutes} minute{'s' if minutes != 1 else ''} and try again.",
                        retry_after=wait,
                    )

    def failed(self, username: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(username, client):
                times = self._recent(key, now)
                times.append(now)
                self._failures[key] = times
            if len(self._failures) > 10_000:
                self._forget_expired(now)

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(username, client)[0], None)

    def _forget_expired(self, now: float) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
