"""What the plan pages and the plan API share: loading a plan for a viewer, its task list,
timeline and the actions open to the viewer, and who may see which row of the national view.

The rules for *who may do what* live in the services and the workflow table; this module only
asks them (``PLAN_WORKFLOW.may``) so that a button is shown exactly when pressing it would
be allowed, and never decides anything itself.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from carepool.domain.errors import Conflict, Forbidden
from carepool.domain.geography import Area
from carepool.domain.plan import PlanContent
from carepool.domain.plan_rules import Finding, Severity, check_plan
from carepool.domain.plan_workflow import (
    EDITABLE,
    HWB_CHAIR,
    MOVES,
    PLAN_WORKFLOW,
    Action,
    PlanStatus,
    Progress,
    allowed_actions,
    scope,
)
from carepool.domain.roles import Principal, Role
from carepool.geography.service import YearGeography, year_geography
from carepool.plans import service as plans
from carepool.plans.service import PlanEventRow, PlanRow
from carepool.web.kit import check_year

T = TypeVar("T")

NOT_STARTED = "Not started"
HWB_CHAIR_NAME = "Health and Wellbeing Board chair"
STATUS_ORDER = (NOT_STARTED, *(s.value for s in PlanStatus))
"""Statuses in the order a plan passes through them, for counts and charts."""


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the plan with its own edit page, and the rules' name for it."""

    slug: str
    title: str
    finding_section: str
    depends_on: str | None = None


SECTIONS = (
    Section("contributions", "Contributions", "Contributions"),
    Section("schemes", "Schemes", "Schemes", depends_on="Contributions"),
    Section("metrics", "Metrics", "Metrics"),
    Section("conditions", "National conditions", "Conditions"),
    Section("section75", "Section 75 agreement", "Section 75"),
    Section("narrative", "Narrative", "Narrative"),
)
SECTION_BY_SLUG = {s.slug: s for s in SECTIONS}
SLUG_OF_FINDING = {s.finding_section: s.slug for s in SECTIONS}


@dataclass(frozen=True, slots=True)
class Task:
    section: Section
    status: str  # "Completed", "Incomplete" or "Cannot start yet"
    errors: int
    warnings: int

    @property
    def hint(self) -> str:
        parts = []
        if self.errors:
            parts.append(f"{self.errors} problem{'s' if self.errors != 1 else ''} to fix")
        if self.warnings:
            parts.append(f"{self.warnings} warning{'s' if self.warnings != 1 else ''}")
        return ", ".join(parts)


def task_list(findings: Sequence[Finding]) -> list[Task]:
    """Each section's status from the rule findings: a section with errors is incomplete, and
    one that depends on an incomplete section (schemes spend the contributions) cannot start."""
    errors = Counter(f.location.section for f in findings if f.severity is Severity.ERROR)
    warnings = Counter(f.location.section for f in findings if f.severity is Severity.WARNING)
    tasks = []
    for section in SECTIONS:
        if section.depends_on and errors[section.depends_on]:
            status = "Cannot start yet"
        elif errors[section.finding_section]:
            status = "Incomplete"
        else:
            status = "Completed"
        tasks.append(
            Task(
                section, status, errors[section.finding_section], warnings[section.finding_section]
            )
        )
    return tasks


def section_findings(findings: Iterable[Finding], section: Section) -> list[Finding]:
    return [f for f in findings if f.location.section == section.finding_section]


@dataclass(frozen=True, slots=True)
class PlanPage:
    """A plan the viewer may read, with what carepool knows about its area."""

    geo: YearGeography
    area: Area
    plan: PlanRow
    facts: plans.AreaFacts
    content: PlanContent
    findings: list[Finding]

    @property
    def status(self) -> PlanStatus:
        return PlanStatus(self.plan.status)

    @property
    def partners(self) -> dict[str, str]:
        return partner_names(self.facts)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE


def partner_names(facts: plans.AreaFacts) -> dict[str, str]:
    """The area's partners by code, with the Health and Wellbeing Board chair who also signs."""
    return {**facts.context.partners, HWB_CHAIR: HWB_CHAIR_NAME}


def area_of(session: Session, year: str, area_code: str) -> tuple[YearGeography, Area]:
    """The year's geography and the area, or 404 for an unknown year or area."""
    geo = year_geography(session, check_year(year))
    return geo, geo.area(area_code)


def load_plan(session: Session, year: str, area_code: str, viewer: Principal) -> PlanPage:
    """The plan as ``viewer`` may see it; 404 when it does not exist or they may not see it."""
    geo, area = area_of(session, year, area_code)
    plan = plans.get(session, year, area_code, viewer)
    return page_for(session, geo, area, plan)


def page_for(session: Session, geo: YearGeography, area: Area, plan: PlanRow) -> PlanPage:
    facts = plans.area_facts(session, geo, area.code)
    content = plans.content_of(plans.current_version(plan))
    return PlanPage(geo, area, plan, facts, content, check_plan(content, facts.context))


def may_edit(viewer: Principal, area_code: str) -> bool:
    """Mirrors the service's rule, to decide whether to show edit links (it checks again)."""
    return viewer.has_area(Role.AREA_EDITOR, area_code) or viewer.has(Role.NATIONAL_ADMIN)


def require_editable(page: PlanPage, viewer: Principal) -> None:
    """Refuse an edit page to anyone but the area's editors, and any plan not in draft."""
    if not may_edit(viewer, page.area.code):
        raise Forbidden("only the area's plan editors can change its plan")
    if not page.editable:
        raise Conflict(f"the plan is {page.plan.status}; it can be changed only in draft")


# ---------------------------------------------------------------------------------------
# The timeline


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    label: str
    actor: str
    role: str
    partner: str
    at: dt.datetime
    comment: str
    version: int
    from_status: str | None
    to_status: str


def action_label(action: str) -> str:
    if action == "start":
        return "Plan started"
    if action == plans.NATIONAL_CHANGE:
        return "Changed by the national team"
    try:
        return Action(action).label
    except ValueError:
        return action.replace("_", " ").capitalize()


def role_label(role: str) -> str:
    try:
        return Role(role).label
    except ValueError:
        return role


def timeline(events: Iterable[PlanEventRow], names: Mapping[str, str]) -> list[TimelineEntry]:
    """Every step, newest first, as people read it."""
    entries = [
        TimelineEntry(
            label=action_label(e.action),
            actor=e.actor,
            role=role_label(e.role) if e.role else "",
            partner=names.get(e.partner, e.partner) if e.partner else "",
            at=e.at,
            comment=e.comment,
            version=e.version,
            from_status=e.from_status,
            to_status=e.to_status,
        )
        for e in events
    ]
    return entries[::-1]


# ---------------------------------------------------------------------------------------
# What the viewer may do now


@dataclass(frozen=True, slots=True)
class ActionForm:
    """One button (and its fields) the viewer may press on the plan page now."""

    action: Action
    button: str
    partner: str | None = None
    comment: str = "none"  # "none", "optional", "reason" (optional, shown as such) or "required"
    secondary: bool = False
    warning: bool = False

    @property
    def key(self) -> str:
        """Unique per form on the page, for field ids."""
        return f"{self.action.value}-{self.partner}" if self.partner else self.action.value


_BUTTONS: dict[Action, tuple[str, str, bool, bool]] = {
    # action: (button, comment, secondary, warning); a comment is "required" only where the
    # service requires one, so the web and the API accept the same steps
    Action.SIGN: ("Sign the plan", "optional", False, False),
    Action.SEND_BACK: ("Send back", "required", False, True),
    Action.START_ASSURANCE: ("Start assurance", "optional", False, False),
    Action.RECORD_CATEGORY: ("Record the assurance category", "optional", False, False),
    Action.APPROVE: ("Approve", "optional", False, False),
    Action.NOT_APPROVE: ("Do not approve", "reason", False, True),
    Action.ESCALATE: ("Escalate", "reason", True, False),
    Action.RESOLVE_ESCALATION: ("Resolve escalation", "reason", False, False),
    Action.REOPEN: ("Reopen for resubmission", "optional", False, False),
}


def acting_role(action: Action, viewer: Principal) -> Role | None:
    """The role the service will record for ``viewer`` taking ``action`` (as it chooses it)."""
    return next((r for r in sorted(MOVES[action].roles) if viewer.has(r)), None)


def _partners_for(action: Action, viewer: Principal, area_code: str) -> list[str | None]:
    signing = [
        g.partner_code
        for g in viewer.grants
        if g.role is Role.AREA_SIGNATORY and g.area_code == area_code and g.partner_code
    ]
    if action is Action.SIGN:
        return list(signing)
    if action is Action.SEND_BACK:
        return [None, *signing]
    return [None]


def _may(
    status: PlanStatus, action: Action, viewer: Principal, area: str, partner: str | None
) -> bool:
    return PLAN_WORKFLOW.may(status, action, viewer, scope(area, partner))


def action_forms(plan: PlanRow, viewer: Principal, progress: Progress) -> list[ActionForm]:
    """The steps the workflow lets this viewer take now, one form each (signing per partner)."""
    status = PlanStatus(plan.status)
    forms = []
    for action in allowed_actions(status):
        if action not in _BUTTONS:
            continue  # sign-off requests go through check your answers; conditions have own
        button, comment, secondary, warning = _BUTTONS[action]
        for partner in _partners_for(action, viewer, plan.area_code):
            if not _may(status, action, viewer, plan.area_code, partner):
                continue
            if action is Action.SIGN and (
                partner in progress.signed_by or partner not in progress.required_signers
            ):
                continue
            if action is Action.APPROVE and acting_role(action, viewer) in progress.approved_by:
                continue
            forms.append(ActionForm(action, button, partner, comment, secondary, warning))
    return forms


def may_mark_conditions(plan: PlanRow, viewer: Principal) -> bool:
    return _may(PlanStatus(plan.status), Action.MARK_CONDITION_MET, viewer, plan.area_code, None)


def may_request_sign_off(plan: PlanRow, viewer: Principal) -> bool:
    return _may(PlanStatus(plan.status), Action.REQUEST_SIGN_OFF, viewer, plan.area_code, None)


def approvals(plan: PlanRow, progress: Progress) -> list[dict[str, Any]]:
    """Each national approver role, and who approved for it in this round (if anyone)."""
    rows = []
    for role in (Role.HEALTH_APPROVER, Role.LG_APPROVER):
        event = next(
            (
                e
                for e in plan.events
                if e.round == plan.round and e.action == Action.APPROVE and e.role == role.value
            ),
            None,
        )
        rows.append({"role": role.label, "event": event, "done": role in progress.approved_by})
    return rows


def signatures(plan: PlanRow, progress: Progress, names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every partner that must sign this round, with their signature if they have."""
    signed = {
        e.partner: e
        for e in plan.events
        if e.round == plan.round and e.action == Action.SIGN and e.partner
    }
    order = sorted(progress.required_signers, key=lambda p: (p == HWB_CHAIR, names.get(p, p)))
    return [{"code": p, "name": names.get(p, p), "event": signed.get(p)} for p in order]


# ---------------------------------------------------------------------------------------
# Errors as the GOV.UK error summary shows them


# ---------------------------------------------------------------------------------------
# The national view, cut to what each viewer may see
