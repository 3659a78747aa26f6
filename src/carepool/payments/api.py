"""Payment for performance in the versioned JSON API: where each area's payments stand, every
run, why each amount, and the national team's steps.

Where the year's payments stand and the list of runs are for national roles (they show runs
not yet paid, with exact counts). An explanation answers everyone, as the pages do
(:mod:`carepool.payments.service.views`): national roles and the area's own people get the
whole chain; anyone else gets the published explanation of a paid payment, and a 404 for
one not paid. The steps (draft, check, approve, pay, send back) need a bearer token whose
owner holds a role for the step; the service checks the workflow, four eyes included, and
records each step in the audit log. A step may carry the ``version`` of the run its caller
saw: if another run is in play by then, it is refused (409). Money is integer pence.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from carepool.domain.payment import RunAction
from carepool.domain.roles import Principal, Role
from carepool.payments.schemas import (
    ExplanationOut,
    PublishedExplanationOut,
    RunDrafted,
    RunList,
    RunOut,
    RunPaid,
    StatusOut,
)
from carepool.payments.service import runs as payments
from carepool.payments.service import status as standing
from carepool.payments.service import views
from carepool.payments.service.views import PublishedExplanation
from carepool.web.auth import (
    AdminViewer,
    ApiRoute,
    DbSession,
    NationalViewer,
    PublicViewer,
    require_roles,
)
from carepool.web.errors import API_ERROR_RESPONSES
from carepool.web.kit import check_year
from carepool.web.params import IdField

router = APIRouter(
    prefix="/api/v1",
    tags=["payments"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)

Checker = Annotated[Principal, Depends(require_roles(Role.NATIONAL_ADMIN, Role.ANALYST))]
Approver = Annotated[Principal, Depends(require_roles(Role.NATIONAL_ADMIN, Role.HEALTH_APPROVER))]

QUARTER_TEXT = "Q1, Q2, Q3 or Q4 of the programme year's first financial year"


class DraftRequest(BaseModel):
    """Which quarter to draft, and from which data."""

    model_config = ConfigDict(extra="forbid")

    quarter: str = Field(description=QUARTER_TEXT)
    data_vintage: str | None = Field(
        default=None, max_length=120, description="the metric data vintage; default the latest"
    )
    final: bool = Field(default=False, description="the data vintage is final, not provisional")


class StepRequest(BaseModel):
    """What a step may carry."""

    model_config = ConfigDict(extra="forbid")

    version: IdField | None = Field(
        default=None, description="if given, refused (409) unless this version is in play"
    )


class SendBackRequest(StepRequest):
    reason: str = Field(max_length=2000, description="why the run goes back to draft")


@router.get("/payments/{year}", summary="Where every area's payments stand (national roles)")
def payment_status(year: str, session: DbSession, viewer: NationalViewer) -> StatusOut:
    return StatusOut.of(check_year(year), standing.status(session, year))


@router.get("/payments/{year}/runs", summary="Every payment run of a year (national roles)")
def payment_runs(year: str, session: DbSession, viewer: NationalViewer) -> RunList:
    return RunList(
        year=check_year(year), runs=[RunOut.of(run) for run in payments.runs(session, year)]
    )


@router.get(
    "/payments/{year}/{area_code}/{quarter}",
    summary="Why an area's payment for a quarter is what it is (the public: once paid)",
)
def payment_explanation(
    year: str, area_code: str, quarter: str, session: DbSession, viewer: PublicViewer
) -> ExplanationOut | PublishedExplanationOut:
    number = views.quarter_number(quarter)
    found = views.explanation(session, check_year(year), area_code, number, viewer)
    if isinstance(found, PublishedExplanation):
        return PublishedExplanationOut.of(found)
    return ExplanationOut.of(found)


@router.post("/payments/{year}/runs", summary="Draft a quarter's run (national administrator)")
def draft_run(
    year: str, request: DraftRequest, session: DbSession, viewer: AdminViewer
) -> RunDrafted:
    """The same inputs give back the run already drafted (``created`` false)."""
    number = views.quarter_number(request.quarter)
    outcome = payments.draft(
        session,
        check_year(year),
        number,
        viewer,
        data_vintage=request.data_vintage,
        final=request.final,
    )
    return RunDrafted.of(outcome)


def _move(
    session: DbSession,
    year: str,
    quarter: str,
    action: RunAction,
    viewer: Principal,
    version: int | None,
    comment: str = "",
) -> RunOut:
    run = views.run_to_act_on(session, check_year(year), views.quarter_number(quarter), version)
    payments.move(session, run, action, viewer, comment)
    return RunOut.of(run)


@router.post("/payments/{year}/runs/{quarter}/check", summary="Check the quarter's drafted run")
def check_run(
    year: str,
    quarter: str,
    session: DbSession,
    viewer: Checker,
    request: Annotated[StepRequest | None, Body()] = None,
) -> RunOut:
    """Someone other than the person who drafted it (analyst or national administrator)."""
    step = request or StepRequest()
    return _move(session, year, quarter, RunAction.CHECK, viewer, step.version)


@router.post("/payments/{year}/runs/{quarter}/approve", summary="Approve the quarter's checked run")
def approve_run(
    year: str,
    quarter: str,
    session: DbSession,
    viewer: Approver,
    request: Annotated[StepRequest | None, Body()] = None,
) -> RunOut:
    """Someone other than the person who checked it (health approver or administrator)."""
    step = request or StepRequest()
    return _move(session, year, quarter, RunAction.APPROVE, viewer, step.version)


@router.post("/payments/{year}/runs/{quarter}/send-back", summary="Send the run back to draft")
def send_back_run(
    year: str, quarter: str, request: SendBackRequest, session: DbSession, viewer: AdminViewer
) -> RunOut:
    return _move(
        session, year, quarter, RunAction.SEND_BACK, viewer, request.version, request.reason
    )


@router.post("/payments/{year}/runs/{quarter}/pay", summary="Pay the quarter's approved run")
def pay_run(
    year: str,
    quarter: str,
    session: DbSession,
    viewer: AdminViewer,
    request: Annotated[StepRequest | None, Body()] = None,
) -> RunPaid:
    """Post every line into its area's pool, all or nothing; paying again posts nothing."""
    number = views.quarter_number(quarter)
    step = request or StepRequest()
    run = views.run_to_act_on(session, check_year(year), number, step.version)
    return RunPaid.of(payments.pay(session, run, viewer))
