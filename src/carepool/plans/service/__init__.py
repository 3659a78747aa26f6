"""Plan services: create, edit (optimistically), check, move through sign-off and assurance.

A plan is created pre-filled from the published allocation. Its content is edited only in
draft, by the area's editors; sending it for sign-off freezes that version, and any later
change starts a new one. Every step is an event on the plan and in the audit log.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError
from sqlalchemy.orm import Session

from carepool.allocation import repository as allocation_store
from carepool.allocation import service as allocation
from carepool.allocation.repository import AllocationRun
from carepool.audit import repository as audit
from carepool.audit import service as audit_service
from carepool.domain.allocation import AllocationStatus, area_totals
from carepool.domain.audit import plan_chain
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, NotFound, Problem
from carepool.domain.geography import Area
from carepool.domain.money import Pence
from carepool.domain.plan import (
    Ambition,
    ConditionConfirmation,
    Contribution,
    PlanContent,
    compare,
)
from carepool.domain.plan_rules import Finding, PlanContext, blocking, check_plan
from carepool.domain.plan_workflow import (
    EDITABLE,
    HWB_CHAIR,
    MOVES,
    PLAN_WORKFLOW,
    Action,
    PlanFacts,
    PlanStatus,
    Progress,
    next_status,
    scope,
)
from carepool.domain.roles import Principal, Role, acting_as
from carepool.geography.service import YearGeography, year_geography
from carepool.plans import repository as repo
from carepool.plans.files.workbook import WorkbookMeta, read_plan_workbook, write_plan_workbook
from carepool.plans.repository import PlanEventRow as PlanEventRow
from carepool.plans.repository import PlanRow as PlanRow
from carepool.plans.repository import PlanVersionRow as PlanVersionRow
from carepool.store.db import database_of, flush


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class AreaFacts:
    """What carepool knows about an area that a plan is checked against."""

    context: PlanContext
    area_name: str


def area_facts(session: Session, geo: YearGeography, area_code: str) -> AreaFacts:
    """The area's facts, worked out once per published allocation and geography.

    A published allocation run and stored vintages never change (a new run or vintage is a new
    row), so facts keyed by them stay true; every plan page and check needs them.
    """
    area = geo.area(area_code)
    run = _published_run(session, geo.framework.year)
    key = (
        database_of(session),
        geo.framework.year,
        area_code,
        run.id,
        *(v.id if v else None for v in (geo.councils_vintage, geo.shares_vintage)),
        geo.population_vintage.id if geo.population_vintage else None,
    )
    facts = _FACTS.get(key)
    if facts is None:
        with _WORKING_OUT:
            facts = _FACTS.get(key)
            if facts is None:
                facts = _work_out_facts(session, geo, area, run)
                if len(_FACTS) >= _FACTS_LIMIT:
                    _FACTS.pop(next(iter(_FACTS)))
                _FACTS[key] = facts
    return facts


_FACTS: dict[tuple[object, ...], AreaFacts] = {}
_FACTS_LIMIT = 2_000
_WORKING_OUT = threading.Lock()


def warm(session: Session) -> int:
    """Work out every area's facts for each year with a published allocation; return how many.

    A server calls this as it starts, so the first page each person opens is as quick as the
    rest instead of waiting on geography and allocation reads shared by everyone.
    """
    warmed = 0
    for year in allocation_store.published_years(session):
        geo = year_geography(session, year)
        for area in geo.areas:
            area_facts(session, geo, area.code)
            warmed += 1
    return warmed


def _work_out_facts(
    session: Session, geo: YearGeography, area: Area, run: AllocationRun
) -> AreaFacts:
    area_code = area.code
    minimums: dict[tuple[str, str, str], Pence] = {}
    for line in allocation.area_lines(session, run, area_code):
        partner = line.commissioner_code or area_code
        key = (line.financial_year, line.stream, partner)
        minimums[key] = Pence(minimums.get(key, 0) + line.amount)
    serving = {s.commissioner_code for s in geo.shares if s.council_code in area.councils}
    partners = {code: geo.commissioners[code].name for code in sorted(serving)}
    partners[area_code] = f"{area.name} (council)"
    districts = geo.districts(area_code)
    context = PlanContext(
        framework=geo.framework,
        area_code=area_code,
        area_kind=area.kind,
        partners=partners,
        minimums=minimums,
        districts=districts,
    )
    return AreaFacts(context, area.name)


def _published_run(session: Session, year: str) -> AllocationRun:
    published = [
        r for r in allocation.runs(session, year) if r.status == AllocationStatus.PUBLISHED
    ]
    if not published:
        raise NotFound(f"{year} has no published allocation yet, so there are no plans")
    return published[-1]


def prefilled(facts: AreaFacts) -> PlanContent:
    """A new plan: minimum contributions from the allocation, every metric and condition."""
    framework = facts.context.framework
    return PlanContent(
        contributions=tuple(
            Contribution(financial_year=y, stream=s, partner_code=p, minimum=amount)
            for (y, s, p), amount in sorted(facts.context.minimums.items())
        ),
        ambitions=tuple(
            Ambition(metric=m.metric, baseline=facts.context.baselines.get(m.metric))
            for m in framework.metrics
        ),
        conditions=tuple(
            ConditionConfirmation(condition=c.id) for c in framework.national_conditions
        ),
    )


def _may_edit(actor: Principal, area_code: str) -> bool:
    return actor.may_act_as(Role.AREA_EDITOR, area_code)


NATIONAL_CHANGE = "national_change"
"""The timeline's mark for a change to the plan made by the national team for the area."""


def _mark_national_change(plan: PlanRow, actor: Principal, what: str) -> None:
    """Put a national change on the plan's timeline, so the area sees who changed its plan."""
    if actor.acts_for_area(Role.AREA_EDITOR, plan.area_code):
        status = PlanStatus(plan.status)
        number = current_version(plan).number
        plan.events.append(
            _event(number, plan.round, Action.REOPEN, status, status, actor, what,
                   label=NATIONAL_CHANGE, role=Role.NATIONAL_ADMIN.value)
        )  # fmt: skip


def find(session: Session, year: str, area_code: str) -> PlanRow | None:
    return repo.find(session, year, area_code)


def get(session: Session, year: str, area_code: str, viewer: Principal) -> PlanRow:
    """A plan the viewer may read: their own area's, any for national roles, approved for all."""
    plan = find(session, year, area_code)
    if plan is None or not can_read(viewer, plan):
        raise NotFound(f"no plan for {area_code} in {year} that you can see")
    return plan


def can_read(viewer: Principal, plan: PlanRow) -> bool:
    return viewer.can_see_area(plan.area_code) or plan.status == PlanStatus.APPROVED


def start(session: Session, year: str, area_code: str, actor: Principal) -> PlanRow:
    """The area's plan, created pre-filled if it does not exist yet."""
    if not _may_edit(actor, area_code):
        raise Forbidden("only the area's plan editors can start its plan")
    existing = find(session, year, area_code)
    if existing is not None:
        return existing
    geo = year_geography(session, year)
    facts = area_facts(session, geo, area_code)
    content = prefilled(facts)
    now = _now()
    plan = repo.add_plan(
        session,
        year=year,
        area_code=area_code,
        status=PlanStatus.DRAFT.value,
        at=now,
        first_version=_version(1, content, actor, now),
        first_event=_event(
            1, 1, Action.REOPEN, None, PlanStatus.DRAFT, actor, "plan started", label="start"
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
    _mark_national_change(plan, actor, "plan started by the national team for the area")
    return plan


def _version(
    number: int, content: PlanContent, actor: Principal, at: dt.datetime
) -> PlanVersionRow:
    return repo.new_version(
        number, content.model_dump(mode="json"), content.pooled(), actor.username, at
    )


def _event(
    version: int,
    round_: int,
    action: Action,
    before: PlanStatus | None,
    after: PlanStatus,
    actor: Principal,
    comment: str,
    *,
    label: str | None = None,
    partner: str | None = None,
    role: str = "",
) -> PlanEventRow:
    return repo.new_event(
        version=version,
        round=round_,
        action=label or action.value,
        from_status=before.value if before else None,
        to_status=after.value,
        actor=actor.username,
        role=role,
        partner=partner,
        at=_now(),
        comment=comment,
    )


def current_version(plan: PlanRow) -> PlanVersionRow:
    return plan.versions[-1]


def year_contents(
    session: Session, year: str, wanted: Collection[tuple[str, int]]
) -> dict[tuple[str, int], PlanContent]:
    """The wanted versions (area, number) of the year's plans, read in one query."""
    stored = repo.version_contents(session, year)
    return {key: PlanContent.model_validate(stored[key]) for key in wanted if key in stored}


def approved_contents(session: Session, year: str) -> dict[str, PlanContent]:
    """Each approved plan of the year, its current (approved) version, by area: public, as
    approved plans are, and read in two queries for a national report."""
    return {
        plan.area_code: content_of(current_version(plan))
        for plan in repo.year_plans(session, year)
        if plan.status == PlanStatus.APPROVED
    }


def content_of(version: PlanVersionRow) -> PlanContent:
    return PlanContent.model_validate(version.content)


def parse_content(data: object, source: str = "plan") -> PlanContent:
    """Plan content from JSON-like data, with every problem located."""
    try:
        return PlanContent.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(e["msg"], file=source, key=".".join(str(p) for p in e["loc"]))
            for e in exc.errors()
        ]
        raise CarepoolError(f"{source} is not a valid plan", problems) from exc


def save(
    session: Session, plan: PlanRow, content: PlanContent, expected_lock: int, actor: Principal
) -> PlanVersionRow:
    """Store edited content if nobody else saved since ``expected_lock`` was read.

    The area's editors write plans; the national team may load one for them (from a template
    sent in). Assurers and approvers never change what they judge.
    """
    if not (_may_edit(actor, plan.area_code)):
        raise Forbidden("only the area's plan editors can change its plan")
    if PlanStatus(plan.status) not in EDITABLE:
        raise Conflict(f"the plan is {plan.status}; it can be changed only in draft")
    if plan.lock_version != expected_lock:
        raise Conflict(
            "someone else saved this plan since you opened it; reload it to see their "
            "changes, then make yours again"
        )
    version = current_version(plan)
    before = content_of(version)
    now = _now()
    if version.frozen:
        version = _version(version.number + 1, content, actor, now)
        plan.versions.append(version)
    else:
        version.content = content.model_dump(mode="json")
        version.pooled_pence = content.pooled()
        version.updated_at = now
    plan.updated_at = now
    changes = compare(before, content)
    flush(session, conflict=_CONFLICT)
    audit.record(
        session,
        chain=plan_chain(plan.year, plan.area_code),
        actor=actor.username,
        action="edit",
        entity="plan",
        entity_id=f"{plan.year}/{plan.area_code}",
        before={"version": version.number},
        after={"changed": [path for path, _, _ in changes][:200]},
    )
    _mark_national_change(plan, actor, _changed_text(changes))
    flush(session)
    return version


def _changed_text(changes: Sequence[tuple[str, object, object]]) -> str:
    paths = [path for path, _, _ in changes]
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return f"changed {shown}" if paths else "saved with no change"


_CONFLICT = (
    "someone else changed this plan at the same moment; reload it to see their "
    "changes, then try again"
)
"""What a simultaneous change by someone else becomes when the plan is written."""


def findings(session: Session, plan: PlanRow, geo: YearGeography | None = None) -> list[Finding]:
    geography = geo or year_geography(session, plan.year)
    facts = area_facts(session, geography, plan.area_code)
    return check_plan(content_of(current_version(plan)), facts.context)


def progress(plan: PlanRow) -> Progress:
    """Signatures and approvals in the current round, and who still has to sign."""
    content = content_of(current_version(plan))
    partners = {c.partner_code for c in content.contributions if c.total > 0}
    this_round = [e for e in plan.events if e.round == plan.round]
    return Progress(
        required_signers=frozenset(partners | {HWB_CHAIR}),
        signed_by=frozenset(e.partner for e in this_round if e.action == Action.SIGN and e.partner),
        approved_by=frozenset(Role(e.role) for e in this_round if e.action == Action.APPROVE),
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """What an assurer or approver adds to a step."""

    comment: str = ""
    partner: str | None = None
    category: str | None = None
    conditions: Sequence[str] = ()
    key_lines_of_enquiry: str = ""
    condition_id: int | None = None


def act(
    session: Session,
    plan: PlanRow,
    action: Action,
    actor: Principal,
    decision: Decision | None = None,
) -> PlanRow:
    """Take one workflow step, after checking it is legal, allowed and complete."""
    step = decision or Decision()
    status = PlanStatus(plan.status)
    row = PLAN_WORKFLOW.permit(status, action, actor, scope(plan.area_code, step.partner))
    role = _acting_role(action, actor)
    PLAN_WORKFLOW.check_guards(row, _facts(session, plan, action, role, step))
    current = current_version(plan)
    if action is Action.REQUEST_SIGN_OFF:
        current.frozen = True
    plan.events.append(
        _event(
            current.number,
            plan.round,
            action,
            status,
            status,
            actor,
            step.comment,
            partner=step.partner,
            role=role.value,
        )
    )
    target = next_status(status, action, progress(plan))
    plan.events[-1].to_status = target.value
    _apply(plan, action, step, actor)
    plan.status = target.value
    plan.updated_at = _now()
    flush(session, conflict=_CONFLICT)
    audit.record(
        session,
        chain=plan_chain(plan.year, plan.area_code),
        actor=actor.username,
        action=action.value,
        entity="plan",
        entity_id=f"{plan.year}/{plan.area_code}",
        before={"status": status.value},
        after={
            "status": target.value,
            "comment": step.comment,
            "partner": step.partner,
            "category": step.category,
        },
    )
    flush(session)
    return plan


def _acting_role(action: Action, actor: Principal) -> Role:
    for role in sorted(MOVES[action].roles):
        if actor.has(role):
            return role
    raise Forbidden(f"{action.label.lower()} is not allowed for you")


def _facts(
    session: Session, plan: PlanRow, action: Action, role: Role, step: Decision
) -> PlanFacts:
    """What the step's guards read, before the step is taken.

    The plan's findings and the year's assurance categories are looked up only for the step
    whose guard reads them, so that other steps cost no more than they did.
    """
    blocking_problems: tuple[Problem, ...] = ()
    if action is Action.REQUEST_SIGN_OFF:
        blocking_problems = tuple(
            Problem(f"{f.location}: {f.message}", key=f.rule)
            for f in blocking(findings(session, plan))
        )
    categories: tuple[str, ...] = ()
    if action is Action.RECORD_CATEGORY:
        categories = tuple(year_geography(session, plan.year).framework.assurance_categories)
    return PlanFacts(
        progress=progress(plan),
        role=role,
        partner=step.partner,
        comment=step.comment,
        category=step.category,
        categories=categories,
        recommended=plan.category,
        blocking=blocking_problems,
    )


def _apply(plan: PlanRow, action: Action, step: Decision, actor: Principal) -> None:
    if action is Action.RECORD_CATEGORY:
        plan.category = step.category
        plan.key_lines_of_enquiry = step.key_lines_of_enquiry
        repo.add_conditions(plan, (t for t in step.conditions if t.strip()))
    elif action in {Action.SEND_BACK, Action.REOPEN}:
        plan.round += 1
        plan.category = None
    elif action is Action.MARK_CONDITION_MET:
        condition = next((c for c in plan.conditions if c.id == step.condition_id), None)
        if condition is None:
            raise NotFound(f"no condition {step.condition_id} on this plan")
        condition.met_at, condition.met_by = _now(), actor.username


def compare_versions(plan: PlanRow, first: int, second: int) -> list[tuple[str, object, object]]:
    by_number = {v.number: v for v in plan.versions}
    missing = [n for n in (first, second) if n not in by_number]
    if missing:
        raise NotFound(f"the plan has no version {missing[0]}; it has 1 to {len(plan.versions)}")
    return compare(content_of(by_number[first]), content_of(by_number[second]))


def _outstanding(plan: PlanRow | None) -> int:
    return sum(1 for c in plan.conditions if c.met_at is None) if plan else 0


def national_status(session: Session, year: str) -> dict[str, object]:
    """Every area's plan status, category and pooled money against the minimum.

    Reading it loads every plan with its versions, so it is kept until the data change (the
    national list shows it on every visit); each caller gets its own copy to change.
    """
    kept = audit_service.until_changed(session, "plan status", year, lambda: _status(session, year))
    return copy.deepcopy(kept)


def _status(session: Session, year: str) -> dict[str, object]:
    geo = year_geography(session, year)
    run = _published_run(session, year)
    minimum_by_area = area_totals(allocation.stored_lines(run))
    plans = {p.area_code: p for p in repo.year_plans(session, year)}
    rows: list[dict[str, Any]] = []
    for area in geo.areas:
        plan = plans.get(area.code)
        rows.append(
            {
                "area_code": area.code,
                "area_name": area.name,
                "region": area.region,
                "status": plan.status if plan else "Not started",
                "category": plan.category if plan else None,
                "pooled_pence": current_version(plan).pooled_pence if plan else 0,
                "minimum_pence": minimum_by_area.get(area.code, 0),
                "conditions_outstanding": _outstanding(plan),
                "round": plan.round if plan else 0,
            }
        )
    statuses = Counter(str(r["status"]) for r in rows)
    return {
        "year": year,
        "areas": len(rows),
        "by_status": dict(sorted(statuses.items())),
        "by_category": dict(
            sorted(Counter(str(r["category"]) for r in rows if r["category"]).items())
        ),
        "pooled_pence": sum(
            int(r["pooled_pence"]) for r in rows if r["status"] == PlanStatus.APPROVED
        ),
        "minimum_pence": sum(int(r["minimum_pence"]) for r in rows),
        "plans": rows,
    }


def export_workbook(
    session: Session, year: str, area_code: str, viewer: Principal, target: BinaryIO | Path
) -> None:
    """Write the area's plan (started if need be) as the Excel template."""
    if find(session, year, area_code) is None:
        start(session, year, area_code, viewer)
    plan = get(session, year, area_code, viewer)
    geo = year_geography(session, year)
    facts = area_facts(session, geo, area_code)
    meta = WorkbookMeta(
        template_version=geo.framework.template.version,
        year=year,
        area_code=area_code,
        area_name=facts.area_name,
        plan_version=current_version(plan).number,
        lock_version=plan.lock_version,
    )
    write_plan_workbook(target, content_of(current_version(plan)), facts.context, meta)


def import_workbook(
    session: Session, source: BinaryIO | Path, file_name: str, year: str, actor: Principal
) -> PlanRow:
    """Store a filled-in template as the plan's draft, refusing it whole if anything is wrong."""
    framework = year_geography(session, year).framework
    meta, content = read_plan_workbook(source, file_name, framework)
    plan = find(session, meta.year, meta.area_code)
    if plan is None:
        raise NotFound(f"{file_name}: there is no plan for {meta.area_code} in {meta.year}")
    # The template has no sheet for the pooling trajectory: the plan keeps the one it has.
    kept = content_of(current_version(plan)).trajectory
    save(session, plan, content.model_copy(update={"trajectory": kept}), meta.lock_version, actor)
    return plan


EDITOR_ROLES = acting_as(Role.AREA_EDITOR)
"""Who may change a plan's content: the area's editors, and the national team for them
(:data:`~carepool.domain.roles.NATIONAL_POWERS`)."""


def check_lock(plan: PlanRow, lock_version: int | None, doing: str) -> None:
    """Refuse a step taken on a page older than the plan: the viewer must see what they act on."""
    if lock_version is not None and lock_version != plan.lock_version:
        raise Conflict(
            f"the plan has changed since you opened it; look at it again before you {doing}"
        )


def visible_status(report: Mapping[str, Any], viewer: Principal) -> dict[str, Any]:
    """``national_status`` for this viewer: national roles see every area; anyone else sees
    approved plans (published) and their own areas, with the totals worked out again from
    just those rows so that no count gives away a plan they may not see."""
    if viewer.is_national:
        return dict(report)
    rows = [
        r
        for r in report["plans"]
        if r["status"] == PlanStatus.APPROVED or viewer.can_see_area(r["area_code"])
    ]
    return summarise(report["year"], rows, len(report["plans"]))


def summarise(year: str, rows: Sequence[Mapping[str, Any]], areas: int) -> dict[str, Any]:
    statuses = Counter(str(r["status"]) for r in rows)
    categories = Counter(str(r["category"]) for r in rows if r["category"])
    return {
        "year": year,
        "areas": areas,
        "by_status": dict(sorted(statuses.items())),
        "by_category": dict(sorted(categories.items())),
        "pooled_pence": sum(
            int(r["pooled_pence"]) for r in rows if r["status"] == PlanStatus.APPROVED
        ),
        "minimum_pence": sum(int(r["minimum_pence"]) for r in rows),
        "plans": list(rows),
    }
