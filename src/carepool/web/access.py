"""How requests arrive and are recorded: ``HEAD`` answered wherever ``GET`` is, and one
access-log line per request.

Monitoring and link checkers ask ``HEAD /`` to see whether a service is up; FastAPI answers
``HEAD`` only where a route declares it, so without :class:`HeadAsGet` they get 405. The
request is handled as a ``GET`` and its body left out, so the status and headers (with the
length of the body a ``GET`` would get) are the same.

Uvicorn's own access log writes the query string, which can carry what a person typed into a
search or filter; :class:`AccessLog` writes the method, the path without its query, the
status and how long the response took, on the ``carepool.access`` logger, and ``carepool
serve`` turns uvicorn's off (:func:`uvicorn_log_config`).
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "carepool.access"
_access = logging.getLogger(ACCESS_LOGGER)


class HeadAsGet:
    """Answer ``HEAD`` as the same ``GET`` would be answered, without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


class AccessLog:
    """Log ``METHOD /path STATUS 12.3ms`` once each request is answered; never the query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            _access.info("%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed)


def uvicorn_log_config(base: dict[str, Any]) -> dict[str, Any]:
    """Uvicorn's logging configuration (``base``) with the access log written to standard
    error beside uvicorn's own messages."""
    config = copy.deepcopy(base)
    config["loggers"][ACCESS_LOGGER] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return config
