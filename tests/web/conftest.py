"""Fixtures for the web tests: the demo nation built once, copied for each module that uses it.

Building the demo takes a few seconds, so it is built once per run into a SQLite file
(``demo_db_file``, in the suite's conftest) and every module gets its own copy: a module can
change its database without touching another's. Tests that change state take
``fresh_engine``, a copy of their own.

``varied_engine`` adds an honest unpublished allocation: version 2 of 2015-16, imported as a
variation of the published version 1 that moves one penny of the CCG minimum from one area
to another — exactly what a national team would do to correct a published allocation.
"""

from __future__ import annotations

import csv
import random
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carepool.accounts import service as accounts
from carepool.allocation import service as allocation
from carepool.demo import service as demo
from carepool.domain.allocation import AllocationStatus
from carepool.domain.roles import SYSTEM, Principal
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.store.db import engine_for, unit_of_work
from carepool.synth.plans import synthetic_plan
from carepool.web.app import create_app

with warnings.catch_warnings():
    # Starlette's test client would rather have the httpx2 fork; plain httpx still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

SECRET = "test-secret-key-for-carepool-web-tests-only"
YEAR = "2015-16"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _copy_database(source: Path, folder: Path) -> Engine:
    target = folder / "carepool.db"
    shutil.copyfile(source, target)
    return engine_for(f"sqlite:///{target}")


def _close(engine: Engine) -> None:
    """Fold the write-ahead log into the file (so a copy is complete) and close connections."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


Variation = tuple[str, str]
"""The penny moved by version 2: (from this area, to this area)."""


def _vary(engine: Engine, folder: Path) -> Variation:
    """Import version 2 of 2015-16: version 1's lines with 1p moved between two areas."""
    with unit_of_work(engine) as session:
        published = allocation.current_run(session, YEAR, SYSTEM)
        assert published is not None and published.status == AllocationStatus.PUBLISHED
        lines = allocation.stored_lines(published)
    ccg = [i for i, line in enumerate(lines) if line.stream == "ccg_minimum"]
    first, last = lines[ccg[0]], lines[ccg[-1]]
    assert first.area_code != last.area_code
    table = folder / "variation.csv"
    with table.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["financial_year", "stream", "area_code", "commissioner_code", "amount"])
        for index, line in enumerate(lines):
            pence = line.amount - (1 if index == ccg[0] else 0) + (1 if index == ccg[-1] else 0)
            writer.writerow(
                [line.financial_year, line.stream, line.area_code, line.commissioner_code or "",
                 f"{pence // 100}.{pence % 100:02d}"]
            )  # fmt: skip
    with unit_of_work(engine) as session:
        run = allocation.import_allocation(
            session, YEAR, table, SYSTEM, reason="correction: one penny moved between areas"
        )
        assert run.version == 2 and run.status == AllocationStatus.DRAFT
    return first.area_code, last.area_code


@pytest.fixture(scope="session")
def varied_db_file(
    demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Variation]:
    folder = tmp_path_factory.mktemp("varied")
    engine = _copy_database(demo_db_file, folder)
    variation = _vary(engine, folder)
    _close(engine)
    return folder / "carepool.db", variation


@pytest.fixture(scope="module")
def demo_engine(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo as built (2015-16, 2016-17, 2017-19 and 2019-20 published), this module's copy."""
    engine = _copy_database(demo_db_file, tmp_path_factory.mktemp("demo-copy"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def varied_engine(
    varied_db_file: tuple[Path, Variation], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The demo plus a draft version 2 of 2015-16, this module's copy."""
    engine = _copy_database(varied_db_file[0], tmp_path_factory.mktemp("varied-copy"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def variation(varied_db_file: tuple[Path, Variation]) -> Variation:
    return varied_db_file[1]


@pytest.fixture
def fresh_engine(varied_db_file: tuple[Path, Variation], tmp_path: Path) -> Iterator[Engine]:
    """A copy of the varied demo for one test that changes it."""
    engine = _copy_database(varied_db_file[0], tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def area_codes(demo_engine: Engine) -> tuple[str, str]:
    """The demo ``area`` user's own area, and another area it has no rights over."""
    with unit_of_work(demo_engine) as session:
        user = accounts.find_user(session, "area")
        assert user is not None
        own = next(g.area_code for g in user.grants if g.area_code)
        geo = year_geography(session, YEAR)
    other = next(a.code for a in geo.areas if a.code != own)
    assert own is not None
    return own, other


def _csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def _sign_in(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"csrf_token": _csrf_of(form.text), "username": username, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture(scope="session")
def csrf_of() -> Callable[[str], str]:
    """Read the CSRF token out of a page, as a browser posting its form would send it."""
    return _csrf_of


@pytest.fixture(scope="session")
def sign_in() -> Callable[..., None]:
    """Sign a client in through the real form (``sign_in(client, username[, password])``)."""
    return _sign_in


ClientFor = Callable[..., TestClient]


@pytest.fixture
def client_for() -> Iterator[ClientFor]:
    """Make a test client over an engine, signed in as ``username`` (or the public)."""
    made: list[TestClient] = []

    def make(engine: Engine, username: str | None = None, **options: object) -> TestClient:
        client = TestClient(create_app(engine, SECRET), **options)  # type: ignore[arg-type]
        made.append(client)
        if username:
            _sign_in(client, username)
        return client

    yield make
    for client in made:
        client.close()


# --------------------------------------------------------------------------------------------
# Joint plans
#
# The demo's ``area`` user works on the first area, whose demo plan is already approved. For
# the plan pages the area needs a plan still being written, so ``plan_db_file`` gives it a
# fresh draft (deleted and started again by ``area``, then written with a complete synthetic
# plan that passes every rule) and adds a signatory account for each partner who must sign.


@dataclass(frozen=True, slots=True)
class PlanWorld:
    """Areas and accounts the plan tests use (passwords are the demo password)."""

    own: str  # the ``area`` user's area: a draft with no problems, version 1
    other_draft: str  # another area's draft, which local users must not see
    other_approved: str  # another area's approved plan, which everyone may see
    signers: dict[str, str]  # partner code -> username of its signatory for ``own``
    demo_partner: str  # the partner the demo ``signatory`` account signs for


def _reset_plan(session: Session, area_code: str, editor: Principal) -> None:
    """Throw the area's plan away and write it again, complete, as a draft."""
    existing = plans.find(session, YEAR, area_code)
    if existing is not None:
        session.delete(existing)
        session.flush()
    plan = plans.start(session, YEAR, area_code, editor)
    geo = year_geography(session, YEAR)
    facts = plans.area_facts(session, geo, area_code)
    content = synthetic_plan(facts.context, geo.bands[area_code]["all"], random.Random(7))
    plans.save(session, plan, content, plan.lock_version, editor)


def _plan_world(engine: Engine) -> PlanWorld:
    with unit_of_work(engine) as session:
        editor = accounts.find_user(session, "area")
        signatory = accounts.find_user(session, "signatory")
        assert editor is not None and signatory is not None
        own = next(g.area_code for g in editor.grants if g.area_code)
        demo_partner = next(g.partner_code for g in signatory.grants if g.partner_code)
        assert own is not None and demo_partner is not None
        _reset_plan(session, own, editor)
        status = plans.national_status(session, YEAR)["plans"]
        other_draft = next(
            r["area_code"] for r in status if r["status"] == "Draft" and r["area_code"] != own
        )
        other_approved = next(
            r["area_code"] for r in status if r["status"] == "Approved" and r["area_code"] != own
        )
        plan = plans.find(session, YEAR, own)
        assert plan is not None
        signers = {}
        for partner in sorted(plans.progress(plan).required_signers):
            username = f"sign-{partner.lower()}"
            accounts.create_user(
                session, username, demo.DEMO_PASSWORD, [f"area_signatory:{own}:{partner}"],
                SYSTEM, f"Signatory for {partner}",
            )  # fmt: skip
            signers[partner] = username
    return PlanWorld(own, other_draft, other_approved, signers, demo_partner)


@pytest.fixture(scope="session")
def plan_db_file(
    demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, PlanWorld]:
    folder = tmp_path_factory.mktemp("plans")
    engine = _copy_database(demo_db_file, folder)
    world = _plan_world(engine)
    _close(engine)
    return folder / "carepool.db", world


@pytest.fixture(scope="session")
def plan_world(plan_db_file: tuple[Path, PlanWorld]) -> PlanWorld:
    return plan_db_file[1]


@pytest.fixture(scope="module")
def plan_engine(
    plan_db_file: tuple[Path, PlanWorld], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The demo with the ``area`` user's plan back in draft: this module's copy, read only."""
    engine = _copy_database(plan_db_file[0], tmp_path_factory.mktemp("plans-copy"))
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_plan_engine(plan_db_file: tuple[Path, PlanWorld], tmp_path: Path) -> Iterator[Engine]:
    """A copy of the plan world for one test that changes it."""
    engine = _copy_database(plan_db_file[0], tmp_path)
    yield engine
    engine.dispose()
