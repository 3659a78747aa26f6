"""The roll-forward rules on their own: money stays exact and every change is named."""

from __future__ import annotations

import datetime as dt

from carepool.domain.money import Pence
from carepool.domain.plan import (
    Commissioner,
    ConditionConfirmation,
    ConditionStatus,
    Contribution,
    NewOrExisting,
    PlanContent,
    RiskShareKind,
    Scheme,
    Section75,
)
from carepool.domain.plan_rollforward import ChangeKind, roll_forward
from carepool.domain.plan_rules import PlanContext
from carepool.frameworks import load_framework

OLD, NEW = load_framework("2015-16"), load_framework("2016-17")
AREA, CCG, GONE = "E06000001", "E38000001", "E38000099"


def _scheme(ref: str, source: str, pence: int) -> Scheme:
    return Scheme(
        ref=ref,
        name=f"Scheme {ref}",
        scheme_type="Reablement",
        commissioner=Commissioner.NHS,
        provider="Trust",
        funding_source=source,
        area_of_spend="Community health",
        new_or_existing=NewOrExisting.NEW,
        financial_year="2015-16",
        planned_spend=pence,
    )


def _previous() -> PlanContent:
    return PlanContent(
        contributions=(
            Contribution(
                financial_year="2015-16",
                stream="ccg_minimum",
                partner_code=CCG,
                minimum=1_000_001,
                additional=500,
            ),
            Contribution(
                financial_year="2015-16",
                stream="ccg_minimum",
                partner_code=GONE,
                minimum=0,
                additional=700,
            ),
        ),
        schemes=(
            _scheme("S1", "ccg_minimum", 333_334),
            _scheme("S2", "ccg_minimum", 333_333),
            _scheme("S3", "ccg_minimum", 334_534),
        ),
        conditions=(
            ConditionConfirmation(
                condition="plans_jointly_agreed", status=ConditionStatus.CONFIRMED
            ),
        ),
        section75=Section75(
            host_partner=GONE,
            pool_manager="A. Patel",
            risk_share=RiskShareKind.PROPORTIONAL,
            signed=dt.date(2015, 3, 1),
        ),
        narrative="Last year's plan.",
    )


def _context(minimum: int) -> PlanContext:
    return PlanContext(
        framework=NEW,
        area_code=AREA,
        area_kind="UA",
        partners={CCG: "A CCG", AREA: "The council"},
        minimums={("2016-17", "ccg_minimum", CCG): Pence(minimum)},
    )


def test_schemes_scale_to_the_new_total_to_the_penny() -> None:
    rolled = roll_forward(_previous(), OLD, _context(1_234_567))
    pooled = sum(c.total for c in rolled.content.contributions)
    assert pooled == 1_234_567 + 500  # the minimum, and the extra carried at the same amount
    assert sum(s.planned_spend for s in rolled.content.schemes) == pooled
    assert [s.financial_year for s in rolled.content.schemes] == ["2016-17"] * 3
    assert {s.new_or_existing for s in rolled.content.schemes} == {NewOrExisting.EXISTING}


def test_what_cannot_be_carried_is_named() -> None:
    rolled = roll_forward(_previous(), OLD, _context(1_000_001))
    by_kind = {c.kind: c for c in rolled.changes}
    assert "£7.00" in by_kind[ChangeKind.PARTNER_GONE].message
    host = [c for c in rolled.changes if c.subject == "host_partner"]
    assert host and rolled.content.section75.host_partner == ""
    assert rolled.content.section75.signed is None
    assert rolled.content.section75.pool_manager == "A. Patel"
    new = {c.subject for c in rolled.changes if c.kind is ChangeKind.CONDITION_NEW}
    assert new == {c.id for c in NEW.national_conditions} - {"plans_jointly_agreed"}
    assert all(c.must_change for c in rolled.changes if c.kind is ChangeKind.CONDITION_NEW)
    assert not by_kind[ChangeKind.CONDITION_CARRIED].must_change
