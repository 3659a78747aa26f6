"""Helpers for the ledger tests: a small nation, an approved plan, spend rows.

Building the whole demo takes seconds; these tests need one area's approved plan, made the
way tests/services/test_plans.py makes one, with Section 75 terms the test chooses.
(A module of its own, not conftest.py, so test modules can import it by name.)
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carepool.allocation import service as allocation
from carepool.demo import service as demo
from carepool.domain.allocation import AllocationStatus
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.periods import quarter
from carepool.domain.plan import PlanContent, RiskShareKind, Section75
from carepool.domain.plan_workflow import Action
from carepool.domain.roles import SYSTEM, Principal, principal
from carepool.geography.service import SyntheticInputs, load_synthetic, year_geography
from carepool.metrics.service.results import save_results
from carepool.payments.service import ambitions
from carepool.plans import service as plans
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work
from carepool.store.models import PoolRow
from carepool.synth.nation import build_nation
from carepool.synth.plans import synthetic_plan

YEAR = "2015-16"
FINANCE = "finance"


def build_published_nation(engine: Engine, seed: int = 7) -> None:
    """A synthetic nation with a published 2015-16 allocation and no plans."""
    built = build_nation(seed)
    inputs = SyntheticInputs(
        demo.synthetic_vintage_name(built),
        built.councils,
        built.commissioners,
        built.shares,
        built.populations,
        demo.fingerprint(built),
    )
    with unit_of_work(engine) as session:
        load_synthetic(session, inputs, SYSTEM, "mid-2017 (CCG-LA shares)")
        run = allocation.allocate(session, YEAR, SYSTEM)
        allocation.move(session, run, AllocationStatus.APPROVED, SYSTEM)
        allocation.move(session, run, AllocationStatus.PUBLISHED, SYSTEM)


def approve_plan(
    session: Session,
    area: str,
    *,
    kind: RiskShareKind = RiskShareKind.PROPORTIONAL,
    parameters: dict[str, object] | None = None,
    instalments: int = 4,
) -> PlanContent:
    """Write, sign, assure and approve the area's plan with the given risk share."""
    editor = principal("editor", "Editor", [f"area_editor:{area}"])
    plan = plans.start(session, YEAR, area, editor)
    geo = year_geography(session, YEAR)
    facts = plans.area_facts(session, geo, area)
    content = synthetic_plan(facts.context, geo.bands[area]["all"], random.Random(area))
    terms = Section75(
        host_partner=area,
        pool_manager="A. Patel",
        risk_share=kind,
        risk_share_parameters=parameters or {},
        instalments=instalments,  # type: ignore[arg-type]
        signed=content.section75.signed,
    )
    content = content.model_copy(update={"section75": terms})
    plans.save(session, plan, content, plan.lock_version, editor)
    plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)
    for partner in sorted(plans.progress(plan).required_signers):
        signer = principal(f"s-{partner}", "S", [f"area_signatory:{area}:{partner}"])
        plans.act(session, plan, Action.SIGN, signer, plans.Decision(partner=partner))
    assurer = principal("assurer", "A", ["assurer"])
    plans.act(session, plan, Action.START_ASSURANCE, assurer)
    plans.act(session, plan, Action.RECORD_CATEGORY, assurer, plans.Decision(category="Approved"))
    plans.act(session, plan, Action.APPROVE, principal("h", "H", ["health_approver"]))
    plans.act(session, plan, Action.APPROVE, principal("l", "L", ["lg_approver"]))
    return content


def pooled_areas(engine: Engine, count: int) -> list[str]:
    """The nation's first ``count`` areas, each with an approved plan and its pool open."""
    with unit_of_work(engine) as session:
        codes = [area.code for area in year_geography(session, YEAR).areas[:count]]
        for code in codes:
            approve_plan(session, code)
            ledger.open_pool(session, YEAR, code, SYSTEM)
    return codes


def admission_ambitions(
    session: Session, area: str
) -> tuple[tuple[Decimal, ...], tuple[Decimal, ...]]:
    """The area's approved baselines and ambitions for emergency admissions, each quarter."""
    pool = ledger.pool_for(session, YEAR, area, SYSTEM)
    found = ambitions.plan_ambition(ledger.plan_content(session, pool))
    assert found is not None
    return found


def store_admissions(
    session: Session, vintage: str, admissions: Mapping[tuple[str, int], int]
) -> None:
    """Store a data vintage's emergency admissions, by area and quarter number, as a metric
    computation would (every value of the vintage at once: saving replaces the vintage)."""
    values = [
        MetricValue(
            metric="non_elective_admissions",
            definition_version=1,
            area_code=area,
            period=quarter(YEAR, number).label,
            grain=Grain.QUARTER,
            numerator=count,
            denominator=500_000,
            value=Decimal(count),
        )
        for (area, number), count in sorted(admissions.items())
    ]
    save_results(session, values, SYSTEM, engine="duckdb", data_vintage=vintage)


@dataclass(frozen=True, slots=True)
class Area:
    engine: Engine
    code: str


def finance(area_code: str) -> Principal:
    return principal(FINANCE, "Pool finance", [f"pool_finance:{area_code}"])


def the_pool(session: Session, area_code: str) -> PoolRow:
    return ledger.pool_for(session, YEAR, area_code, SYSTEM)


SpendRow = tuple[str, str, str, str, str]
WriteSpend = Callable[[str, Iterable[Sequence[str]]], Path]


def spend_rows(
    count: int, schemes: Sequence[str], *, prefix: str = "R", seed: int = 1
) -> list[SpendRow]:
    """Valid spend rows spread over the year."""
    rng = random.Random(seed)
    start = dt.date(2015, 4, 1)
    return [
        (
            (start + dt.timedelta(days=rng.randint(0, 365))).isoformat(),
            rng.choice(list(schemes)),
            "Community health trust",
            f"{rng.randint(1, 50_000)}.{rng.randint(0, 99):02d}",
            f"{prefix}{i:06d}",
        )
        for i in range(count)
    ]


def bare_pool(at: dt.datetime) -> dict[str, object]:
    """Pool 1 as a migration test writes it straight into an older schema (no plan behind it)."""
    return {
        "id": 1, "year": "2015-16", "area_code": "E06000001", "host_partner": "E06000001",
        "pool_manager": "A. Patel", "risk_share_kind": None, "risk_share_parameters": {},
        "instalments": 4, "partners": {}, "starts": dt.date(2015, 4, 1),
        "ends": dt.date(2016, 3, 31), "plan_version": 1, "opened_by": "finance",
        "opened_at": at,
    }  # fmt: skip


def bare_entry(at: dt.datetime) -> dict[str, object]:
    """What such a test's entries of pool 1 share, before their own id, date and kind."""
    return {"pool_id": 1, "narration": "", "source": {}, "created_by": "f", "created_at": at}
