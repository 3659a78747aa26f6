"""Joint plans in the versioned JSON API: read them, write their content, take workflow steps.

The same services and the same rules as the pages: a token sees what its owner would see on
the web (the public sees approved plans only), writes go through the optimistic lock, and a
step is checked by the workflow. Bearer tokens are never sent by a browser on its own, so
these routes need no CSRF token (the API never reads the session cookie). Money is integer
pence. Errors are the one envelope: 409 for a stale ``lock_version`` or an illegal step, 422
with the location of every problem for content that is not a valid plan.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from carepool.domain.errors import CarepoolError, Conflict, NotFound
from carepool.domain.plan import PlanContent
from carepool.domain.plan_workflow import Action
from carepool.domain.roles import Principal
from carepool.plans import service as plans
from carepool.plans.schemas import (
    Comparison,
    FieldChange,
    PlanEvent,
    PlanEvents,
    PlanProblems,
    PlanReport,
    PlanStatusReport,
    PlanVersion,
)
from carepool.plans.service import EDITOR_ROLES, PlanRow, check_lock, visible_status
from carepool.web.auth import ApiRoute, DbSession, PublicViewer, SignedInViewer, require_roles
from carepool.web.errors import API_ERROR_RESPONSES
from carepool.web.kit import check_year
from carepool.web.params import MAX_ID, IdField, IdPath

router = APIRouter(
    prefix="/api/v1",
    tags=["plans"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)

EditorViewer = Annotated[Principal, Depends(require_roles(*EDITOR_ROLES))]


class InvalidPlan(CarepoolError):
    """Content sent to the API is not a valid plan; each problem names its field."""

    code = "invalid_plan"
    http_status = 422


class _DeclaredAsPlanContent:
    """Declares a raw JSON object as :class:`PlanContent` in the OpenAPI document.

    The route checks the object itself (:func:`carepool.plans.service.parse_content`), so content
    that is not a plan is refused with every problem located under ``content`` (``invalid_plan``)
    rather than FastAPI's generic 422; the document still shows its whole shape, unknown keys
    refused included.
    """

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(PlanContent.__pydantic_core_schema__)


class ContentUpdate(BaseModel):
    """A whole plan's content, with the ``lock_version`` of the plan it was based on."""

    model_config = ConfigDict(extra="forbid")

    lock_version: IdField = Field(description="from the plan report; a stale one gives 409")
    content: Annotated[dict[str, Any], _DeclaredAsPlanContent] = Field(
        description="the plan's content, as in the plan report"
    )


class ActionRequest(BaseModel):
    """What a step may carry; only what the step needs is read."""

    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=4000)
    partner: str | None = Field(default=None, description="the partner a signatory signs for")
    category: str | None = Field(default=None, description="assurance category to record")
    conditions: list[str] = Field(default_factory=list, description="conditions of approval")
    key_lines_of_enquiry: str = Field(default="", max_length=4000)
    condition_id: IdField | None = Field(default=None, description="a condition to mark met")
    lock_version: IdField | None = Field(
        default=None, description="if given, the step is refused (409) if the plan has changed"
    )


def _plan(session: Session, year: str, area: str, viewer: Principal) -> PlanRow:
    """The plan or 404; an unknown area simply has no plan (no geography needed to say so)."""
    return plans.get(session, check_year(year), area, viewer)


@router.get("/plans/{year}", summary="Every area's plan status (the public: approved plans)")
def plans_status(year: str, session: DbSession, viewer: PublicViewer) -> PlanStatusReport:
    report = visible_status(plans.national_status(session, check_year(year)), viewer)
    return PlanStatusReport.model_validate(report)


@router.get("/plans/{year}/{area}", summary="One area's plan: status, content and history")
def plan_report(year: str, area: str, session: DbSession, viewer: PublicViewer) -> PlanReport:
    return PlanReport.of(_plan(session, year, area, viewer))


@router.get("/plans/{year}/{area}/versions/{number}", summary="One version of a plan's content")
def plan_version(
    year: str, area: str, number: IdPath, session: DbSession, viewer: PublicViewer
) -> PlanVersion:
    plan = _plan(session, year, area, viewer)
    version = next((v for v in plan.versions if v.number == number), None)
    if version is None:
        raise NotFound(f"the plan has no version {number}; it has 1 to {len(plan.versions)}")
    return PlanVersion.of(plan, version)


@router.get("/plans/{year}/{area}/compare", summary="Fields that differ between two versions")
def compare(
    year: str,
    area: str,
    session: DbSession,
    viewer: PublicViewer,
    first: Annotated[int, Query(alias="from", ge=1, le=MAX_ID)],
    second: Annotated[int, Query(alias="to", ge=1, le=MAX_ID)],
) -> Comparison:
    plan = _plan(session, year, area, viewer)
    changes = plans.compare_versions(plan, first, second)
    return Comparison(
        from_=first,
        to=second,
        changes=[FieldChange(path=path, from_=old, to=new) for path, old, new in changes],
    )


@router.get("/plans/{year}/{area}/problems", summary="What the plan rules find in the plan")
def problems(year: str, area: str, session: DbSession, viewer: PublicViewer) -> PlanProblems:
    plan = _plan(session, year, area, viewer)
    return PlanProblems.of(plans.current_version(plan).number, plans.findings(session, plan))


@router.get("/plans/{year}/{area}/events", summary="Every step in the plan's life, oldest first")
def events(year: str, area: str, session: DbSession, viewer: PublicViewer) -> PlanEvents:
    plan = _plan(session, year, area, viewer)
    return PlanEvents(events=[PlanEvent.of(e) for e in plan.events])


@router.put("/plans/{year}/{area}/content", summary="Replace a draft plan's content (editors)")
def put_content(
    year: str, area: str, update: ContentUpdate, session: DbSession, viewer: EditorViewer
) -> PlanReport:
    plan = _plan(session, year, area, viewer)
    try:
        content = plans.parse_content(update.content, "content")
    except CarepoolError as exc:
        raise InvalidPlan(exc.message, exc.problems) from exc
    plans.save(session, plan, content, update.lock_version, viewer)
    return PlanReport.of(plan)


@router.post("/plans/{year}/{area}/actions/{action}", summary="Take a workflow step")
def take_action(
    year: str,
    area: str,
    action: str,
    session: DbSession,
    viewer: SignedInViewer,
    request: Annotated[ActionRequest | None, Body()] = None,
) -> PlanReport:
    """Sign, send back, start assurance, record a category, approve... as the workflow allows."""
    plan = _plan(session, year, area, viewer)
    try:
        chosen = Action(action)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise NotFound(f"there is no plan action {action!r}; actions are: {known}") from None
    step = request or ActionRequest()
    check_lock(plan, step.lock_version, "take this step")
    decision = plans.Decision(
        comment=step.comment,
        partner=step.partner,
        category=step.category,
        conditions=step.conditions,
        key_lines_of_enquiry=step.key_lines_of_enquiry,
        condition_id=step.condition_id,
    )
    try:
        plans.act(session, plan, chosen, viewer, decision)
    except StaleDataError as exc:
        raise Conflict("someone else changed this plan at the same moment; try again") from exc
    return PlanReport.of(plan)
