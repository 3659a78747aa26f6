"""What every browser test needs: Debian's Chromium, and the app served on a free local port."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page, expect, sync_playwright

from carepool.demo.service import DEMO_PASSWORD
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.store.db import engine_for, unit_of_work
from carepool.substitution import service as substitution
from carepool.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> Path:
    """Chromium's path; skip without it, except in CI, where a missing browser is a failure."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing (apt install chromium)")
    pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt install chromium)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a background thread on 127.0.0.1; its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=_free_port(), log_level="warning", ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def public_pages(path: Path, year: str = "2015-16") -> list[str]:
    """Every public page of the demo, with real codes for the pages about one thing."""
    engine = engine_for(f"sqlite:///{path}")
    with unit_of_work(engine) as session:
        area = year_geography(session, year).areas[0].code
        status = plans.national_status(session, year)
        rows: list[dict[str, Any]] = status["plans"]  # type: ignore[assignment]
        approved = next(r["area_code"] for r in rows if r["status"] == "Approved")
        council = substitution.report(session).councils[0].code
    engine.dispose()
    pages = [
        "/",
        "/frameworks",
        f"/frameworks/{year}",
        "/frameworks/2023-25",  # every kind of citation and unconfirmed marker
        "/allocations",
        f"/allocations/{year}",
        "/areas",
        f"/areas?q={area}",
        f"/areas/{area}",
        f"/areas/{area}/scorecard?year={year}",
        f"/areas/{approved}/scorecard?year={year}",
        f"/areas/{area}/metrics",
        f"/areas/{area}/history",
        "/history",
        f"/plans/{year}",
        f"/plans/{year}/{approved}/read",
        f"/payments/{year}",
        f"/payments/{year}/{approved}",
        "/metrics",
        "/substitution",
        f"/substitution/{council}",
        "/pooling",
        f"/pooling/{approved}",
        "/budgets",
        f"/budgets/{area}",
        "/open-data",
        "/api/docs",
        "/accessibility",
        "/privacy",
        "/contact",
        "/sign-in",
    ]
    return list(dict.fromkeys(pages))


@contextmanager
def public_site(demo_db_file: Path, folder: Path) -> Iterator[tuple[str, list[str]]]:
    """A copy of the demo served on loopback, with the public pages to visit on it."""
    path = folder / "demo.db"
    shutil.copyfile(demo_db_file, path)
    pages = public_pages(path)
    engine = engine_for(f"sqlite:///{path}")
    try:
        with serving(create_app(engine, "browser-public-secret")) as url:
            yield url, pages
    finally:
        engine.dispose()


@contextmanager
def browser_page(**context: Any) -> Iterator[Page]:
    """A page of a fresh headless Chromium context made with ``context``'s options."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium()), args=CHROMIUM_ARGS)
        opened = browser.new_context(**context)
        try:
            yield opened.new_page()
        finally:
            opened.close()
            browser.close()


def sign_in(page: Page, username: str) -> None:
    """Sign in as a demo account through the sign-in form, as a person would."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
