"""Plans through the services: pre-filled, edited safely, checked, signed, assured, approved."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from carepool.allocation import service as allocation
from carepool.demo import service as demo
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, NotFound
from carepool.domain.plan import PlanContent
from carepool.domain.plan_workflow import Action, PlanStatus
from carepool.domain.roles import PUBLIC, SYSTEM, Principal, principal
from carepool.geography.service import SyntheticInputs, load_synthetic, year_geography
from carepool.plans import service as plans
from carepool.store.db import unit_of_work
from carepool.synth.nation import build_nation
from carepool.synth.plans import synthetic_plan

YEAR = "2015-16"


@pytest.fixture
def nation(engine: Engine) -> Engine:
    """A synthetic nation with a published 2015-16 allocation and no plans yet."""
    built = build_nation(7)
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
    return engine


def _area(session: Session) -> str:
    return year_geography(session, YEAR).areas[0].code


def _editor(area: str) -> Principal:
    return principal("editor", "Editor", [f"area_editor:{area}"])


def _good_content(session: Session, area: str) -> PlanContent:
    geo = year_geography(session, YEAR)
    facts = plans.area_facts(session, geo, area)
    return synthetic_plan(facts.context, geo.bands[area]["all"], random.Random(area))


def test_a_plan_from_start_to_approval(nation: Engine) -> None:
    with unit_of_work(nation) as session:
        area = _area(session)
        editor = _editor(area)
        plan = plans.start(session, YEAR, area, editor)
        prefilled = plans.content_of(plans.current_version(plan))
        assert prefilled.minimum() == allocation.view(
            session, allocation.runs(session, YEAR)[-1]
        ).area_total(area)
        plans.save(session, plan, _good_content(session, area), plan.lock_version, editor)
        assert plans.findings(session, plan) == []
        plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)
        for partner in sorted(plans.progress(plan).required_signers):
            signer = principal(f"s-{partner}", "S", [f"area_signatory:{area}:{partner}"])
            plans.act(session, plan, Action.SIGN, signer, plans.Decision(partner=partner))
        assert plan.status == PlanStatus.SUBMITTED
        assurer = principal("assurer", "A", ["assurer"])
        plans.act(session, plan, Action.START_ASSURANCE, assurer)
        plans.act(session, plan, Action.RECORD_CATEGORY, assurer,
                  plans.Decision(category="Approved subject to conditions",
                                 conditions=["Publish the 7-day rota"]))  # fmt: skip
        health = principal("h", "H", ["health_approver"])
        plans.act(session, plan, Action.APPROVE, health)
        assert plan.status == PlanStatus.NATIONAL
        with pytest.raises(Conflict, match="already approved"):
            plans.act(session, plan, Action.APPROVE, health)
        plans.act(session, plan, Action.APPROVE, principal("l", "L", ["lg_approver"]))
        assert plan.status == PlanStatus.APPROVED
        plans.act(session, plan, Action.MARK_CONDITION_MET, assurer,
                  plans.Decision(condition_id=plan.conditions[0].id))  # fmt: skip
    with unit_of_work(nation) as session:
        plan = plans.get(session, YEAR, area, PUBLIC)  # approved: the public may read it
        steps = [e.action for e in plan.events]
        assert steps[:3] == ["start", "request_sign_off", "sign"]
        assert steps[-3:] == ["approve", "approve", "mark_condition_met"]
        assert plan.versions[0].frozen and len(plan.versions) == 1
        status = plans.national_status(session, YEAR)
        assert status["by_status"]["Approved"] == 1
        assert status["by_status"]["Not started"] == status["areas"] - 1


def test_sign_off_is_refused_while_the_plan_has_errors(nation: Engine) -> None:
    with unit_of_work(nation) as session:
        area = _area(session)
        plan = plans.start(session, YEAR, area, _editor(area))
        with pytest.raises(CarepoolError, match="problems to fix before sign-off") as caught:
            plans.act(session, plan, Action.REQUEST_SIGN_OFF, _editor(area))
        assert any("narrative" in str(p) for p in caught.value.problems)
        assert plan.status == PlanStatus.DRAFT


def test_sent_back_plans_get_a_new_version_to_compare(nation: Engine) -> None:
    with unit_of_work(nation) as session:
        area = _area(session)
        editor = _editor(area)
        plan = plans.start(session, YEAR, area, editor)
        content = _good_content(session, area)
        plans.save(session, plan, content, plan.lock_version, editor)
        plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)
        chair = principal("chair", "Chair", [f"area_signatory:{area}:HWB"])
        with pytest.raises(CarepoolError, match="comment is required"):
            plans.act(session, plan, Action.SEND_BACK, chair, plans.Decision(partner="HWB"))
        plans.act(session, plan, Action.SEND_BACK, chair,
                  plans.Decision(partner="HWB", comment="Say more about carers"))  # fmt: skip
        assert (plan.status, plan.round) == (PlanStatus.DRAFT, 2)
        changed = content.model_copy(update={"narrative": content.narrative + " Carers too."})
        plans.save(session, plan, changed, plan.lock_version, editor)
        assert [v.number for v in plan.versions] == [1, 2]
        differences = plans.compare_versions(plan, 1, 2)
        assert [path for path, _, _ in differences] == ["narrative"]
        with pytest.raises(NotFound, match="no version 3"):
            plans.compare_versions(plan, 1, 3)


def test_a_stale_save_is_refused_not_applied(nation: Engine) -> None:
    with unit_of_work(nation) as session:
        area = _area(session)
        editor = _editor(area)
        plan = plans.start(session, YEAR, area, editor)
        opened = plan.lock_version
        first = plans.content_of(plans.current_version(plan)).model_copy(update={"narrative": "A"})
        plans.save(session, plan, first, opened, editor)
        second = first.model_copy(update={"narrative": "B"})
        with pytest.raises(Conflict, match="someone else saved this plan"):
            plans.save(session, plan, second, opened, editor)
        assert plans.content_of(plans.current_version(plan)).narrative == "A"


@pytest.mark.postgres
def test_simultaneous_saves_on_postgres_lose_nothing(nation: Engine) -> None:
    if nation.dialect.name != "postgresql":
        pytest.skip("concurrent writers are exercised on PostgreSQL")
    with unit_of_work(nation) as session:
        area = _area(session)
        plans.start(session, YEAR, area, _editor(area))
    factory = sessionmaker(nation, expire_on_commit=False)
    one, two = factory(), factory()
    try:
        plan_one = plans.find(one, YEAR, area)
        plan_two = plans.find(two, YEAR, area)
        assert plan_one is not None and plan_two is not None
        lock = plan_one.lock_version
        content = plans.content_of(plans.current_version(plan_one))
        plans.save(one, plan_one, content.model_copy(update={"narrative": "one"}), lock,
                   _editor(area))  # fmt: skip
        one.commit()
        with pytest.raises(Conflict):
            plans.save(two, plan_two, content.model_copy(update={"narrative": "two"}), lock,
                       _editor(area))  # fmt: skip
        two.rollback()
    finally:
        one.close()
        two.close()
    with unit_of_work(nation) as session:
        plan = plans.find(session, YEAR, area)
        assert plan is not None
        assert plans.content_of(plans.current_version(plan)).narrative == "one"


def test_people_reach_only_what_their_roles_allow(nation: Engine) -> None:
    with unit_of_work(nation) as session:
        geo = year_geography(session, YEAR)
        mine, other = geo.areas[0].code, geo.areas[1].code
        plan = plans.start(session, YEAR, mine, _editor(mine))
        with pytest.raises(Forbidden):
            plans.start(session, YEAR, other, _editor(mine))
        with pytest.raises(NotFound):
            plans.get(session, YEAR, mine, _editor(other))
        with pytest.raises(NotFound):
            plans.get(session, YEAR, mine, PUBLIC)
        assert plans.get(session, YEAR, mine, principal("a", "A", ["assurer"])) is plan
        assurer = principal("a", "A", ["assurer"])
        content = plans.content_of(plans.current_version(plan))
        with pytest.raises(Forbidden):
            plans.save(session, plan, content, plan.lock_version, assurer)
