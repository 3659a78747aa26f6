"""The demo: a whole synthetic nation, allocated and published, with an account for each role.

Everything here is synthetic and labelled so; the demo passwords are published in the README
and must never be used for a real deployment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carepool.domain.allocation import AllocationStatus
from carepool.domain.roles import SYSTEM
from carepool.frameworks import load_framework
from carepool.services import accounts, allocation
from carepool.services.geography import SyntheticInputs, load_synthetic, year_geography
from carepool.store.models import UserRow
from carepool.synth.nation import SyntheticNation, build_nation

DEMO_PASSWORD = "carepool-demo-2015"
DEMO_YEARS = ("2015-16", "2017-19")


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    display_name: str
    grants: tuple[str, ...]


def demo_accounts(area_code: str, commissioner_code: str) -> list[DemoAccount]:
    """One account per role, local ones for the first area of the synthetic nation."""
    return [
        DemoAccount("national", "National team administrator", ("national_admin",)),
        DemoAccount("assurer", "Regional assurer", ("assurer",)),
        DemoAccount("health", "National approver for health", ("health_approver",)),
        DemoAccount("localgov", "National approver for local government", ("lg_approver",)),
        DemoAccount("analyst", "Analyst", ("analyst",)),
        DemoAccount("area", "Area plan editor", (f"area_editor:{area_code}",)),
        DemoAccount(
            "signatory",
            "Area signatory (NHS)",
            (f"area_signatory:{area_code}:{commissioner_code}",),
        ),
        DemoAccount("finance", "Pool finance officer", (f"pool_finance:{area_code}",)),
    ]


def fingerprint(nation: SyntheticNation) -> str:
    """A stable identity for a generated nation, so building it twice stores it once."""
    text = f"{nation.label}|{len(nation.councils)}|{sum(c.persons for c in nation.populations)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_demo(
    session: Session, seed: int = 2015, progress: Callable[[str], None] | None = None
) -> dict[str, object]:
    """Build the demo into the session's database; safe to run again (it changes nothing)."""
    say = progress or (lambda _message: None)
    say("Generating the synthetic nation")
    nation = build_nation(seed)
    framework = load_framework(DEMO_YEARS[0])
    inputs = SyntheticInputs(
        label=nation.label,
        councils=nation.councils,
        commissioners=nation.commissioners,
        shares=nation.shares,
        populations=nation.populations,
        fingerprint=fingerprint(nation),
    )
    say("Storing areas, commissioners and populations")
    load_synthetic(session, inputs, SYSTEM, framework.geography.population_vintage)
    for year in DEMO_YEARS:
        say(f"Allocating {year}")
        _allocate_and_publish(session, year)
    say("Creating demo accounts")
    geo = year_geography(session, DEMO_YEARS[0])
    first = geo.areas[0]
    serving = sorted(s.commissioner_code for s in geo.shares if s.council_code in first.councils)
    made = _ensure_accounts(session, demo_accounts(first.code, serving[0]))
    return {"label": nation.label, "areas": len(geo.areas), "accounts_created": made}


def _allocate_and_publish(session: Session, year: str) -> None:
    run = allocation.allocate(session, year, SYSTEM)
    if run.status == AllocationStatus.DRAFT:
        allocation.move(session, run, AllocationStatus.APPROVED, SYSTEM, "demo: approved")
    if run.status == AllocationStatus.APPROVED:
        allocation.move(session, run, AllocationStatus.PUBLISHED, SYSTEM, "demo: published")


def _ensure_accounts(session: Session, wanted: list[DemoAccount]) -> int:
    made = 0
    for account in wanted:
        if session.scalars(select(UserRow).filter_by(username=account.username)).first():
            continue
        accounts.create_user(
            session, account.username, DEMO_PASSWORD, account.grants, SYSTEM, account.display_name
        )
        made += 1
    return made
