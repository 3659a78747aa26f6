"""The web application: GOV.UK-styled pages for people and a JSON API for machines.

``create_app`` wires the pieces together and nothing else: routers by audience, the signed
session cookie, the error renderings, static files, a few security headers, ``HEAD`` and the
access log (:mod:`carepool.web.access`). Run it with::

    uvicorn --factory carepool.web.app:create_app --host 127.0.0.1 --port 8000 \
        --no-proxy-headers --no-access-log

or from code with ``uvicorn.run(create_app(engine), ..., proxy_headers=False)``. Uvicorn
otherwise believes ``X-Forwarded-For`` from loopback, so a local client could pose as any
address; behind a reverse proxy, name it with ``--forwarded-allow-ips`` instead (``carepool
serve`` does this from ``CAREPOOL_TRUSTED_PROXIES``). ``--no-access-log`` leaves the access
log to carepool's own, which leaves out query strings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carepool import config
from carepool.allocation import api as api_allocations
from carepool.allocation.routes import area, national
from carepool.budgets import api as api_budgets
from carepool.budgets.routes import pages as budgets
from carepool.domain.errors import CarepoolError
from carepool.geography import api as api_areas
from carepool.metrics import api as api_metrics
from carepool.metrics import routes as metrics
from carepool.metrics.service.actuals import quarter_actuals
from carepool.payments import api as api_payments
from carepool.payments import routes as payments
from carepool.plans import api as api_plans
from carepool.plans import service as plan_service
from carepool.plans.routes import national as plans_national
from carepool.plans.routes import pages as plans
from carepool.plans.routes import rollforward as plan_rollforward
from carepool.plans.routes import sections as plan_sections
from carepool.pooling import api as api_pooling
from carepool.pooling import routes as pooling
from carepool.pools import api as api_pools
from carepool.pools.routes import pages as pools
from carepool.publication import routes as open_data
from carepool.scorecard import routes as scorecard_routes
from carepool.store.db import default_engine, is_initialised, unit_of_work
from carepool.substitution import api as api_substitution
from carepool.substitution import routes as substitution
from carepool.tasks import routes as tasks
from carepool.web import about, api, errors, public
from carepool.web.access import AccessLog, HeadAsGet
from carepool.web.auth import SESSION_HOURS, SignInLimiter

STATIC_DIR = Path(__file__).resolve().parent / "static"
GOVUK_DIR = STATIC_DIR / "govuk"
"""GOV.UK Frontend's ``dist/govuk`` folder, copied here by ``make assets`` (not committed)."""

SESSION_COOKIE = "carepool_session"

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
]


class SecurityHeaders:
    """Adds headers that stop framing, sniffing and injected scripts or styles, and keeps
    pages (which may show unpublished figures) out of shared caches."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith(("/static/", "/assets/"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_SECURITY_HEADERS)
                if not cacheable:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


ADMITTED = 30
"""Requests handled at once per process; more wait, costing nothing, until one finishes.

Routes run in a thread pool of 40 and each holds a database connection (pool of 40) from the
moment its viewer is looked up. Without a limit, a burst of requests can take every
connection in their first step and then wait for threads held by requests waiting for
connections: nothing moves until the pool's timeout. Admitting fewer than either pool holds
keeps every admitted request able to finish.
"""


class AdmissionLimit:
    """Admit at most ``ADMITTED`` requests at a time; the rest queue in the event loop."""

    def __init__(self, app: ASGIApp, limit: int = ADMITTED) -> None:
        self.app = app
        self.limit = limit
        self.gate = asyncio.Semaphore(limit)
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # a semaphore belongs to one event loop (tests use several)
            self.loop, self.gate = loop, asyncio.Semaphore(self.limit)
        async with self.gate:
            await self.app(scope, receive, send)


_log = logging.getLogger(__name__)


def warm(engine: Engine) -> None:
    """Work out what every plan page shares (geography, each area's facts) before serving.

    Without it the first requests after a start all find the caches empty at once and each
    waits on the same reads. A database not yet set up, or with nothing published, is fine:
    there is nothing to warm, and pages say so when asked.
    """
    try:
        if not is_initialised(engine):
            return
        with unit_of_work(engine) as session:
            plan_service.warm(session)
    except (CarepoolError, SQLAlchemyError) as problem:
        _log.warning("caches not warmed at start: %s", problem)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    await asyncio.to_thread(warm, app.state.engine)
    yield


def create_app(
    engine: Engine | None = None, secret_key: str | None = None, *, https_only: bool = False
) -> FastAPI:
    """The carepool web application over ``engine`` (default: the configured database).

    ``secret_key`` signs session cookies (default from :func:`carepool.config.secret_key`).
    ``https_only`` marks the cookie Secure; set it whenever the service is served over HTTPS.
    """
    app = FastAPI(
        title="carepool API",
        version="1",
        summary="Open data and machine access for pooled health and care budgets.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # interactive consoles load scripts from a CDN: /api/docs is ours (about)
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.engine = engine or default_engine()
    app.state.sign_in_limiter = SignInLimiter()
    app.state.session_secret = secret_key or config.secret_key()
    app.state.metric_actuals = quarter_actuals  # the pools' returns read metric values with it
    app.state.govuk_css = (GOVUK_DIR / "govuk-frontend.min.css").is_file()
    errors.install(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=app.state.session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=https_only,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    app.add_middleware(AdmissionLimit)
    app.add_middleware(AccessLog)  # outermost: sees every request as the client sent it
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if (GOVUK_DIR / "assets").is_dir():
        # GOV.UK Frontend's stylesheet asks for its fonts and images under /assets/.
        app.mount("/assets", StaticFiles(directory=GOVUK_DIR / "assets"), name="govuk-assets")
    for router in (
        public.router,
        about.router,
        scorecard_routes.router,  # /areas before allocation's /areas/{code}
        national.router,
        area.router,
        metrics.router,
        open_data.router,
        plans_national.router,  # /plans/{year}.csv before /plans/{year}
        plans.router,  # /plans/{year}/upload before /plans/{year}/{area}
        plan_sections.router,
        plan_rollforward.router,
        api.router,
        api_areas.router,
        api_allocations.router,
        api_plans.router,
        pools.router,
        api_pools.router,
        api_metrics.router,
        payments.router,  # /payments/{year}.csv before /payments/{year}
        api_payments.router,
        substitution.router,
        api_substitution.router,
        pooling.router,
        api_pooling.router,
        budgets.router,
        api_budgets.router,
        tasks.router,
    ):
        app.include_router(router)
    return app
