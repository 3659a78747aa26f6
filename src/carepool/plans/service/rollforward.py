"""Roll plans forward: start next year's plan from this year's approved one.

The new plan is a draft made from the previous approved plan (see
:mod:`carepool.domain.plan_rollforward`), checked at once against the new year's rules, and
marked on its timeline with the year it came from, so its page can show what must change.
A plan already past draft in the new year is never overwritten; an area whose previous plan
was not approved has nothing trustworthy to start from and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.audit import plan_chain
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, NotFound
from carepool.domain.plan import PlanContent
from carepool.domain.plan_rollforward import Change, roll_forward
from carepool.domain.plan_rules import Finding, check_plan
from carepool.domain.plan_workflow import Action, PlanStatus
from carepool.domain.roles import Principal
from carepool.frameworks import available_years, load_framework
from carepool.geography.service import YearGeography, year_geography
from carepool.plans import repository as repo
from carepool.plans import service as plans
from carepool.plans.repository import PlanRow

ROLL_FORWARD = "roll_forward"
"""The timeline label of a plan's roll-forward; its comment names the year it came from."""

_FROM_YEAR = re.compile(r"from the approved ([0-9]{4}-[0-9]{2}) plan")

Outcome = Literal["rolled_forward", "refused"]


@dataclass(frozen=True, slots=True)
class AreaRollForward:
    """What happened to one area: its new draft and what must change, or why not."""

    area_code: str
    area_name: str
    outcome: Outcome
    reason: str = ""
    version: int | None = None
    pooled_pence: int = 0
    changes: tuple[Change, ...] = ()
    findings: tuple[Finding, ...] = ()
    content: PlanContent | None = None


def check_years(from_year: str, to_year: str) -> None:
    """Both years have frameworks and the plan goes forward in time."""
    years = available_years()
    unknown = [y for y in (from_year, to_year) if y not in years]
    if unknown:
        raise NotFound(
            f"there is no programme year {unknown[0]!r}; frameworks exist for: {', '.join(years)}"
        )
    if years.index(from_year) >= years.index(to_year):
        raise CarepoolError(
            f"a plan rolls forward to a later year: {to_year} does not come after {from_year}"
        )


def previous_year(year: str) -> str | None:
    """The programme year before ``year``, the one its plans roll forward from."""
    years = available_years()
    index = years.index(year) if year in years else 0
    return years[index - 1] if index > 0 else None


def roll_forward_year(
    session: Session,
    from_year: str,
    to_year: str,
    actor: Principal,
    area_codes: Sequence[str] | None = None,
) -> list[AreaRollForward]:
    """Roll forward every area (or the ones named); each is rolled forward or refused.

    A named area that cannot be rolled forward raises, so one person asking about one area
    hears why at once; a national run reports every refusal beside the plans it made.
    """
    check_years(from_year, to_year)
    geo = year_geography(session, to_year)
    codes = list(area_codes) if area_codes else [a.code for a in geo.areas]
    results = []
    for code in codes:
        try:
            results.append(roll_forward_area(session, geo, from_year, code, actor))
        except (Conflict, NotFound) as refusal:
            if area_codes:
                raise
            results.append(_refused(geo, code, refusal.message))
    return results


def _refused(geo: YearGeography, code: str, reason: str) -> AreaRollForward:
    name = next((a.name for a in geo.areas if a.code == code), code)
    return AreaRollForward(code, name, "refused", reason)


def roll_forward_area(
    session: Session, geo: YearGeography, from_year: str, area_code: str, actor: Principal
) -> AreaRollForward:
    """Make (or replace the draft of) the area's plan for ``geo``'s year from ``from_year``."""
    to_year = geo.framework.year
    if not plans._may_edit(actor, area_code):
        raise Forbidden("only the area's plan editors can roll its plan forward")
    source = _approved(session, from_year, area_code)
    target = plans.find(session, to_year, area_code)
    if target is not None and target.status != PlanStatus.DRAFT:
        raise Conflict(
            f"{area_code}'s {to_year} plan is {target.status}, past draft; it is not replaced"
        )
    facts = plans.area_facts(session, geo, area_code)
    rolled = roll_forward(
        plans.content_of(plans.current_version(source)), load_framework(from_year), facts.context
    )
    comment = f"Rolled forward from the approved {from_year} plan"
    if target is None:
        target = _create(session, to_year, area_code, rolled.content, actor, comment)
        plans._mark_national_change(target, actor, "plan rolled forward by the national team")
    else:  # saving marks a national change itself
        plans.save(session, target, rolled.content, target.lock_version, actor)
        target.events.append(_mark(target, actor, comment))
    audit.record(
        session,
        chain=plan_chain(to_year, area_code),
        actor=actor.username,
        action=ROLL_FORWARD,
        entity="plan",
        entity_id=f"{to_year}/{area_code}",
        before={"from_year": from_year, "from_version": plans.current_version(source).number},
        after={"pooled_pence": rolled.content.pooled(), "changes": len(rolled.changes)},
    )
    version = plans.current_version(target)
    return AreaRollForward(
        area_code,
        facts.area_name,
        "rolled_forward",
        version=version.number,
        pooled_pence=rolled.content.pooled(),
        changes=rolled.changes,
        findings=tuple(check_plan(rolled.content, facts.context)),
        content=rolled.content,
    )


def _approved(session: Session, year: str, area_code: str) -> PlanRow:
    source = plans.find(session, year, area_code)
    if source is None:
        raise NotFound(f"{area_code} has no {year} plan to roll forward from")
    if source.status != PlanStatus.APPROVED:
        raise Conflict(
            f"{area_code}'s {year} plan is {source.status}, not approved; only an approved "
            "plan is rolled forward"
        )
    return source


def _create(
    session: Session,
    year: str,
    area_code: str,
    content: PlanContent,
    actor: Principal,
    comment: str,
) -> PlanRow:
    now = plans._now()
    plan = repo.add_plan(
        session,
        year=year,
        area_code=area_code,
        status=PlanStatus.DRAFT.value,
        at=now,
        first_version=plans._version(1, content, actor, now),
        first_event=plans._event(
            1, 1, Action.REOPEN, None, PlanStatus.DRAFT, actor, comment, label=ROLL_FORWARD
        ),
    )
    audit.record(
        session,
        chain=plan_chain(year, area_code),
        actor=actor.username,
        action="create",
        entity="plan",
        entity_id=f"{year}/{area_code}",
        after={"pooled_pence": content.pooled()},
    )
    return plan


def _mark(plan: PlanRow, actor: Principal, comment: str) -> repo.PlanEventRow:
    status = PlanStatus(plan.status)
    number = plans.current_version(plan).number
    return plans._event(
        number, plan.round, Action.REOPEN, status, status, actor, comment, label=ROLL_FORWARD
    )


def rolled_from(plan: PlanRow) -> str | None:
    """The year the plan was last rolled forward from, read from its timeline."""
    for event in reversed(plan.events):
        if event.action == ROLL_FORWARD:
            found = _FROM_YEAR.search(event.comment or "")
            return found.group(1) if found else None
    return None


def changes_since(session: Session, plan: PlanRow, viewer: Principal) -> tuple[str, list[Change]]:
    """What the new year changed for a rolled-forward plan, worked out again from its source.

    The list is the same whenever it is asked for: the source is approved (frozen) and the
    framework and allocation are fixed, so nothing needs storing beside the plan.
    """
    from_year = rolled_from(plan)
    if from_year is None:
        raise NotFound(f"{plan.area_code}'s {plan.year} plan was not rolled forward")
    source = plans.get(session, from_year, plan.area_code, viewer)
    geo = year_geography(session, plan.year)
    facts = plans.area_facts(session, geo, plan.area_code)
    rolled = roll_forward(
        plans.content_of(plans.current_version(source)), load_framework(from_year), facts.context
    )
    return from_year, list(rolled.changes)


def source_year(session: Session, year: str, area_code: str) -> str | None:
    """The year before ``year`` when the area's plan for it is approved: where to start from."""
    before = previous_year(year)
    if before is None:
        return None
    source = plans.find(session, before, area_code)
    return before if source is not None and source.status == PlanStatus.APPROVED else None
