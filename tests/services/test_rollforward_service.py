"""Rolling plans forward: next year's draft starts from this year's approved plan."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carepool.allocation import service as allocation
from carepool.audit import service as audit
from carepool.demo import service as demo
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, NotFound
from carepool.domain.plan_rollforward import ChangeKind
from carepool.domain.plan_workflow import Action, PlanStatus
from carepool.domain.roles import SYSTEM, Principal, principal
from carepool.frameworks import load_framework
from carepool.geography.service import SyntheticInputs, load_synthetic, year_geography
from carepool.plans import service as plans
from carepool.plans.service import rollforward
from carepool.store.db import unit_of_work
from carepool.synth.nation import build_nation
from carepool.synth.plans import synthetic_plan

OLD, NEW = "2015-16", "2016-17"
YEARS = ("2015-16", "2016-17", "2017-19", "2019-20")


def carepool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process, on the test's database (the fixture sets its address)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    command = [sys.executable, "-m", "carepool", *args]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def nation(sqlite_engine: Engine) -> Engine:
    """A synthetic nation with published allocations for four years and no plans yet."""
    built = build_nation(7)
    inputs = SyntheticInputs(
        demo.synthetic_vintage_name(built),
        built.councils,
        built.commissioners,
        built.shares,
        built.populations,
        demo.fingerprint(built),
    )
    with unit_of_work(sqlite_engine) as session:
        load_synthetic(session, inputs, SYSTEM, "mid-2017 (CCG-LA shares)")
        for year in YEARS:
            run = allocation.allocate(session, year, SYSTEM)
            allocation.move(session, run, AllocationStatus.APPROVED, SYSTEM)
            allocation.move(session, run, AllocationStatus.PUBLISHED, SYSTEM)
    return sqlite_engine


def _editor(area: str) -> Principal:
    return principal("editor", "Editor", [f"area_editor:{area}"])


def _plan(session: Session, year: str, area: str, *, approve: bool) -> plans.PlanRow:
    """The area's plan for ``year``: written well, and approved by everyone if asked."""
    geo = year_geography(session, year)
    facts = plans.area_facts(session, geo, area)
    editor = _editor(area)
    plan = plans.start(session, year, area, editor)
    content = synthetic_plan(facts.context, geo.bands[area]["all"], random.Random(area))
    plans.save(session, plan, content, plan.lock_version, editor)
    if not approve:
        return plan
    plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)
    for partner in sorted(plans.progress(plan).required_signers):
        signer = principal(f"s-{partner}", "S", [f"area_signatory:{area}:{partner}"])
        plans.act(session, plan, Action.SIGN, signer, plans.Decision(partner=partner))
    assurer = principal("assurer", "A", ["assurer"])
    plans.act(session, plan, Action.START_ASSURANCE, assurer)
    plans.act(session, plan, Action.RECORD_CATEGORY, assurer, plans.Decision(category="Approved"))
    plans.act(session, plan, Action.APPROVE, principal("h", "H", ["health_approver"]))
    plans.act(session, plan, Action.APPROVE, principal("l", "L", ["lg_approver"]))
    assert plan.status == PlanStatus.APPROVED
    return plan


def _areas(session: Session) -> list[str]:
    return [a.code for a in year_geography(session, NEW).areas]


@dataclass(frozen=True)
class Step:
    """One year to the next, and what its frameworks change."""

    old: str
    new: str
    stream_ended: str | None
    stream_new: str | None
    metrics_ended: frozenset[str]
    conditions_new: frozenset[str]
    payment_changed: bool


STEPS = [
    Step(
        "2015-16",
        "2016-17",
        "social_care_capital",
        None,
        frozenset({"patient_experience"}),
        frozenset(
            {"data_sharing", "out_of_hospital_or_risk_share", "delayed_transfers_action_plan"}
        ),
        payment_changed=True,
    ),
    Step("2017-19", "2019-20", None, "winter_pressures", frozenset(), frozenset(), False),
]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: f"{s.old}-to-{s.new}")
def test_an_approved_plan_becomes_next_years_draft_with_what_must_change(
    nation: Engine, step: Step
) -> None:
    with unit_of_work(nation) as session:
        area = _areas(session)[0]
        old = plans.content_of(plans.current_version(_plan(session, step.old, area, approve=True)))
        [result] = rollforward.roll_forward_year(session, step.old, step.new, _editor(area), [area])
        assert result.outcome == "rolled_forward"
        new_plan = plans.find(session, step.new, area)
        assert new_plan is not None and new_plan.status == PlanStatus.DRAFT
        new = plans.content_of(plans.current_version(new_plan))
        facts = plans.area_facts(session, year_geography(session, step.new), area)
        # Every partner's minimum is the new year's published allocation.
        given = {(c.financial_year, c.stream, c.partner_code): c.minimum for c in new.contributions}
        assert given == dict(facts.context.minimums)
        # The NHS stream's schemes are scaled to its new total, to the penny.
        [year] = facts.context.framework.financial_years
        pooled = sum(
            c.total
            for c in new.contributions
            if c.financial_year == year and c.stream == "ccg_minimum"
        )
        planned = sum(
            s.planned_spend
            for s in new.schemes
            if s.financial_year == year and s.funding_source == "ccg_minimum"
        )
        assert planned == pooled > 0
        # What partners pooled beyond the minimum in the last year is carried at the same amount.
        last = load_framework(step.old).financial_years[-1]
        extra = {
            (c.stream, c.partner_code): c.additional
            for c in old.contributions
            if c.financial_year == last and c.stream != step.stream_ended
        }
        assert {
            (c.stream, c.partner_code): c.additional
            for c in new.contributions
            if (c.stream, c.partner_code) in extra
        } == extra
        assert new.narrative == old.narrative
        assert new.section75.signed is None
        assert new.section75.pool_manager == old.section75.pool_manager
        kinds: dict[ChangeKind, set[str]] = defaultdict(set)
        for change in result.changes:
            kinds[change.kind].add(change.subject.split(" / ")[0])  # stream / partner
        assert kinds[ChangeKind.STREAM_ENDED] == ({step.stream_ended} - {None})
        assert kinds[ChangeKind.STREAM_NEW] == ({step.stream_new} - {None})
        assert kinds[ChangeKind.METRIC_ENDED] == step.metrics_ended
        assert kinds[ChangeKind.CONDITION_NEW] == step.conditions_new
        answered = {c.condition for c in new.conditions if c.status is not None}
        assert kinds[ChangeKind.CONDITION_CARRIED] == answered
        assert answered and not answered & step.conditions_new
        assert bool(kinds[ChangeKind.PAYMENT]) is step.payment_changed
        # Re-validated at once: the new ambitions are still to set.
        rules = {f.rule for f in result.findings}
        assert "metrics_planned" in rules
        assert [e.action for e in new_plan.events] == [rollforward.ROLL_FORWARD]
        assert rollforward.rolled_from(new_plan) == step.old
        from_year, again = rollforward.changes_since(session, new_plan, _editor(area))
        assert from_year == step.old and again == list(result.changes)
        logged = [(e.action, e.entity_id) for e in audit.recent(session, 10)]
        assert ("roll_forward", f"{step.new}/{area}") in logged


def test_a_draft_is_replaced_but_a_plan_past_draft_is_not(nation: Engine) -> None:
    with unit_of_work(nation) as session:
        area = _areas(session)[0]
        _plan(session, OLD, area, approve=True)
        draft = plans.start(session, NEW, area, _editor(area))
        rollforward.roll_forward_year(session, OLD, NEW, SYSTEM, [area])
        assert rollforward.rolled_from(draft) == OLD
        assert plans.current_version(draft).content["narrative"]
        draft.status = PlanStatus.SUBMITTED.value
        with pytest.raises(Conflict, match="Submitted, past draft"):
            rollforward.roll_forward_year(session, OLD, NEW, SYSTEM, [area])


def test_only_an_approved_plan_is_rolled_forward(nation: Engine) -> None:
    with unit_of_work(nation) as session:
        first, second, third = _areas(session)[:3]
        _plan(session, OLD, first, approve=True)
        _plan(session, OLD, second, approve=False)
        with pytest.raises(Conflict, match="Draft, not approved"):
            rollforward.roll_forward_year(session, OLD, NEW, SYSTEM, [second])
        with pytest.raises(NotFound, match="no 2015-16 plan"):
            rollforward.roll_forward_year(session, OLD, NEW, SYSTEM, [third])
        results = rollforward.roll_forward_year(session, OLD, NEW, SYSTEM)
        outcomes = {r.area_code: r.outcome for r in results}
        assert outcomes[first] == "rolled_forward"
        assert outcomes[second] == outcomes[third] == "refused"
        assert sum(o == "rolled_forward" for o in outcomes.values()) == 1
        assert plans.find(session, NEW, second) is None


def test_unknown_or_backward_years_and_other_areas_are_refused(nation: Engine) -> None:
    with unit_of_work(nation) as session:
        area, other = _areas(session)[:2]
        with pytest.raises(NotFound, match="no programme year '2031-32'"):
            rollforward.roll_forward_year(session, OLD, "2031-32", SYSTEM)
        with pytest.raises(CarepoolError, match="rolls forward to a later year"):
            rollforward.roll_forward_year(session, NEW, OLD, SYSTEM)
        _plan(session, OLD, other, approve=True)
        with pytest.raises(Forbidden):
            rollforward.roll_forward_year(session, OLD, NEW, _editor(area), [other])


def test_the_command_line_rolls_forward_and_refuses_clearly(nation: Engine, tmp_path: Path) -> None:
    with unit_of_work(nation) as session:
        area, other = _areas(session)[:2]
        _plan(session, OLD, area, approve=True)
    done = carepool("plans", "roll-forward", "--from", OLD, "--to", NEW, "--json", cwd=tmp_path)
    report = ok_json(done)
    assert (report["rolled_forward"], report["refused"]) == (1, len(report["areas"]) - 1)
    [made] = [a for a in report["areas"] if a["outcome"] == "rolled_forward"]
    assert made["area_code"] == area and made["version"] == 1
    assert any(c["must_change"] and c["section"] == "Metrics" for c in made["changes"])
    assert any(p["rule"] == "metrics_planned" for p in made["problems"])
    refused = carepool(
        "plans", "roll-forward", "--from", OLD, "--to", NEW, "--area", other, cwd=tmp_path
    )
    assert refused.returncode == 1
    assert f"{other} has no 2015-16 plan to roll forward from" in refused.stderr
    assert "Traceback" not in refused.stderr
    unknown = carepool("plans", "roll-forward", "--from", OLD, "--to", "2031-32", cwd=tmp_path)
    assert unknown.returncode == 1 and "no programme year '2031-32'" in unknown.stderr
    again = carepool(
        "plans", "roll-forward", "--from", OLD, "--to", NEW, "--area", area, cwd=tmp_path
    )
    assert again.returncode == 0 and "must change" in again.stdout
    with unit_of_work(nation) as session:
        plan = plans.find(session, NEW, area)
        assert plan is not None and len(plan.versions) == 1  # the draft, replaced in place
        # the command line acts as the national team, so each roll-forward is marked as theirs
        assert [e.action for e in plan.events] == [
            rollforward.ROLL_FORWARD, plans.NATIONAL_CHANGE,
            plans.NATIONAL_CHANGE, rollforward.ROLL_FORWARD,
        ]  # fmt: skip
