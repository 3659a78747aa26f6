"""An area's joint plan: its overview, sign-off and assurance steps, versions and templates.

The overview is a GOV.UK task list of the plan's sections, with who has signed, the assurance
outcome, the timeline of every step and the buttons the viewer may press now. Anyone who may
read the plan sees it (the public once it is approved); the workflow decides each step, so a
button shown here is only a convenience: the service checks the step again when it is taken.
Sending for local sign-off goes only through "check your answers". Editing the sections is in
:mod:`carepool.plans.routes.sections`.
"""

from __future__ import annotations

import io
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.framework import Framework
from carepool.domain.money import format_money
from carepool.domain.plan import Ambition, PlanContent
from carepool.domain.plan_rules import Severity
from carepool.domain.plan_workflow import Action
from carepool.domain.roles import Principal, Role
from carepool.plans import service as plans
from carepool.plans.files.workbook_read import MAX_BYTES
from carepool.plans.routes.forms import RISK_SHARES, text
from carepool.plans.routes.views import (
    SLUG_OF_FINDING,
    PlanPage,
    action_forms,
    approvals,
    area_of,
    load_plan,
    may_edit,
    may_mark_conditions,
    may_request_sign_off,
    page_for,
    require_editable,
    signatures,
    task_list,
    timeline,
)
from carepool.plans.service import EDITOR_ROLES, PlanRow, check_lock, rollforward
from carepool.web.auth import CsrfChecked, DbSession, PublicViewer, SignedInViewer, require_roles
from carepool.web.forms import PageErrors, attempt, posted_form
from carepool.web.kit import check_year, flash, render
from carepool.web.params import VersionQuery

router = APIRouter(include_in_schema=False)

Editor = Annotated[Principal, Depends(require_roles(*EDITOR_ROLES))]
PostedForm = Annotated[FormData, Depends(posted_form)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_SLACK = 64 * 1024
"""Room for the form's other fields and multipart boundaries around the file itself."""
MONEY_FIELDS = frozenset({"minimum", "additional", "planned_spend"})


class UploadTooLarge(CarepoolError):
    """An upload bigger than any plan template, refused before a byte of it is read."""

    code = "too_large"
    http_status = 413


def upload_size_limit(request: Request) -> None:
    """Refuse an upload over the limit from its declared length, before reading the body.

    Browsers always declare the length of a form they send; the server will not read past it.
    """
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise CarepoolError("the upload must say how long it is (Content-Length)")
    if int(declared) > MAX_BYTES + UPLOAD_SLACK:
        raise UploadTooLarge(
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; a plan template is far "
            "smaller, so check you chose the right file"
        )


SizeChecked = Annotated[None, Depends(upload_size_limit)]


def _base(page: PlanPage) -> str:
    return f"/plans/{page.plan.year}/{page.area.code}"


def _lock_of(form: FormData) -> int | None:
    raw = text(form, "lock_version")
    return int(raw) if raw.isdigit() else None


# ---------------------------------------------------------------------------------------
# Upload (declared before /plans/{year}/{area}, which would otherwise match "upload")


@router.get("/plans/{year}/upload", response_class=HTMLResponse)
def upload_form(request: Request, year: str, session: DbSession, viewer: Editor) -> Response:
    context = {"year": check_year(year), "errors": PageErrors(), "max_mb": MAX_BYTES // 2**20}
    return render(request, "plan_upload.html", context, viewer=viewer, session=session)


@router.post("/plans/{year}/upload", response_class=HTMLResponse)
def upload(
    request: Request,
    year: str,
    session: DbSession,
    viewer: Editor,
    _size: SizeChecked,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Store a filled-in template as the plan's draft, or list every problem and store none."""
    check_year(year)
    errors = PageErrors()
    sent = form.get("workbook")
    if not isinstance(sent, UploadFile) or not sent.filename:
        errors.add("Choose the plan workbook to upload", "workbook")
    else:
        name = sent.filename
        plan = attempt(
            session,
            errors,
            lambda: plans.import_workbook(session, sent.file, name, year, viewer),
            "workbook",
        )
        if plan is not None:
            flash(request, f"{name} uploaded: version {plans.current_version(plan).number} saved")
            return RedirectResponse(f"/plans/{year}/{plan.area_code}", status_code=303)
    context = {"year": year, "errors": errors, "max_mb": MAX_BYTES // 2**20}
    return render(
        request, "plan_upload.html", context, viewer=viewer, session=session,
        status_code=errors.status,
    )  # fmt: skip


@router.get("/plans/{year}/{area}.xlsx")
def plan_workbook(year: str, area: str, session: DbSession, viewer: PublicViewer) -> Response:
    """The plan as the year's Excel template, for anyone who may read the plan."""
    area_of(session, year, area)
    if plans.find(session, year, area) is None:
        raise NotFound(f"no plan for {area} in {year} that you can see")
    buffer = io.BytesIO()
    plans.export_workbook(session, year, area, viewer, buffer)
    plan = plans.get(session, year, area, viewer)
    name = f"carepool-plan-{year}-{area}-v{plans.current_version(plan).number}.xlsx"
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---------------------------------------------------------------------------------------
# The overview


@router.get("/plans/{year}/{area}", response_class=HTMLResponse)
def plan_overview(
    request: Request, year: str, area: str, session: DbSession, viewer: PublicViewer
) -> Response:
    geo, found = area_of(session, year, area)
    plan = plans.find(session, year, area)
    if plan is None:
        if not viewer.can_see_area(area):
            raise NotFound(f"no plan for {area} in {year} that you can see")
        may_start = may_edit(viewer, area)
        context = {
            "area": found,
            "framework": geo.framework,
            "may_start": may_start,
            "roll_from": rollforward.source_year(session, year, area) if may_start else None,
        }
        return render(
            request, "plan_not_started.html", context, viewer=viewer, synthetic=geo.synthetic
        )
    if not plans.can_read(viewer, plan):
        raise NotFound(f"no plan for {area} in {year} that you can see")
    page = page_for(session, geo, found, plan)
    roll_from = None
    if page.editable and may_edit(viewer, area):
        roll_from = rollforward.source_year(session, year, area)
    return _overview(request, page, viewer, roll_from=roll_from)


def _overview(
    request: Request,
    page: PlanPage,
    viewer: Principal,
    errors: PageErrors | None = None,
    posted: dict[str, str] | None = None,
    *,
    roll_from: str | None = None,
) -> Response:
    plan = page.plan
    progress = plans.progress(plan)
    names = page.partners
    version = plans.current_version(plan)
    context = {
        "page": page,
        "area": page.area,
        "framework": page.geo.framework,
        "plan": plan,
        "version": version,
        "base": _base(page),
        "tasks": task_list(page.findings),
        "edit_links": page.editable and may_edit(viewer, page.area.code),
        "may_check": may_request_sign_off(plan, viewer),
        "may_edit": may_edit(viewer, page.area.code),
        "for_the_area": page.editable and viewer.acts_for_area(Role.AREA_EDITOR, page.area.code),
        "signatures": signatures(plan, progress, names),
        "approvals": approvals(plan, progress),
        "actions": action_forms(plan, viewer, progress),
        "may_mark": may_mark_conditions(plan, viewer)
        and any(c.met_at is None for c in plan.conditions),
        "partners": names,
        "timeline": timeline(plan.events, names),
        "versions": plan.versions,
        "errors": errors or PageErrors(),
        "posted": posted or {},
        "roll_from": roll_from,
        "rolled_from": rollforward.rolled_from(plan),
    }
    status = errors.status if errors else 200
    return render(
        request, "plan_overview.html", context, viewer=viewer, synthetic=page.geo.synthetic,
        status_code=status,
    )  # fmt: skip


@router.post("/plans/{year}/{area}/start")
def start_plan(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: Editor,
    _csrf: CsrfChecked,
) -> Response:
    """Create the area's plan, pre-filled with its minimum contributions from the allocation."""
    area_of(session, year, area)
    if not viewer.can_see_area(area):
        raise NotFound(f"no plan for {area} in {year} that you can see")
    if plans.find(session, year, area) is None:
        plans.start(session, year, area, viewer)
        flash(request, "The plan has been started with the minimum contributions filled in")
    return RedirectResponse(f"/plans/{year}/{area}", status_code=303)


def _decision(form: FormData) -> tuple[plans.Decision, dict[str, str]]:
    posted = {
        name: text(form, name)
        for name in ("key", "comment", "partner", "category", "conditions", "kloe", "condition")
    }
    condition = posted["condition"]
    decision = plans.Decision(
        comment=posted["comment"][:4000],
        partner=posted["partner"] or None,
        category=posted["category"] or None,
        conditions=[line.strip() for line in posted["conditions"].splitlines() if line.strip()],
        key_lines_of_enquiry=posted["kloe"][:4000],
        condition_id=int(condition) if condition.isdigit() else None,
    )
    return decision, posted


def _field_errors(action: Action, decision: plans.Decision, key: str, page: PlanPage) -> PageErrors:
    """Say which field is wrong before asking the service, which would only say what."""
    errors = PageErrors()
    if action is Action.SEND_BACK and not decision.comment:
        errors.add("Say why the plan is being sent back", f"{key}-comment")
    if (
        action is Action.RECORD_CATEGORY
        and decision.category not in page.geo.framework.assurance_categories
    ):
        errors.add("Choose the assurance category", f"{key}-category")
    return errors


@router.post("/plans/{year}/{area}/actions/{action}", response_class=HTMLResponse)
def take_action(
    request: Request,
    year: str,
    area: str,
    action: str,
    session: DbSession,
    viewer: SignedInViewer,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """One workflow step; a refusal is shown on the plan page with the reason."""
    page = load_plan(session, year, area, viewer)
    try:
        chosen = Action(action)
    except ValueError:
        raise NotFound(f"there is no plan action {action!r}") from None
    if chosen is Action.REQUEST_SIGN_OFF:
        return RedirectResponse(f"{_base(page)}/check", status_code=303)
    decision, posted = _decision(form)
    errors = _field_errors(chosen, decision, posted["key"] or chosen.value, page)
    if not errors:
        lock = _lock_of(form)

        def step() -> object:
            check_lock(page.plan, lock, "do this")
            return plans.act(session, page.plan, chosen, viewer, decision)

        if attempt(session, errors, step) is not None:
            flash(request, f"{chosen.label}: the plan is now {page.plan.status.lower()}")
            return RedirectResponse(_base(page), status_code=303)
    fresh = load_plan(session, year, area, viewer)
    return _overview(request, fresh, viewer, errors, posted)


# ---------------------------------------------------------------------------------------
# Check your answers


def _check_page(
    request: Request,
    page: PlanPage,
    viewer: Principal,
    errors: PageErrors | None = None,
    comment: str = "",
) -> Response:
    blocking = [f for f in page.findings if f.severity is Severity.ERROR]
    shown = errors or PageErrors()
    if not shown:
        for finding in blocking:
            slug = SLUG_OF_FINDING.get(finding.location.section, "")
            row = f", row {finding.location.row}" if finding.location.row else ""
            shown.add(f"{finding.location.section}{row}: {finding.message}", f"check-{slug}")
    context = {
        **_content_context(page, page.content),
        "blocking": blocking,
        "warnings": [f for f in page.findings if f.severity is Severity.WARNING],
        "errors": shown,
        "comment": comment,
        "lock_version": page.plan.lock_version,
    }
    status = errors.status if errors else 200
    return render(
        request, "plan_check.html", context, viewer=viewer, synthetic=page.geo.synthetic,
        status_code=status,
    )  # fmt: skip


def _content_context(page: PlanPage, content: PlanContent) -> dict[str, object]:
    """What a page showing a plan's content needs to name its codes as people read them."""
    framework = page.geo.framework
    return {
        "page": page,
        "area": page.area,
        "framework": framework,
        "content": content,
        "base": _base(page),
        "partners": page.partners,
        "streams": {s.id: s.name for s in framework.streams} | {"additional": "Additional"},
        "metric_rows": [_ambition_row(a, framework) for a in content.ambitions],
        "metric_labels": {m.metric: m.label for m in framework.metrics},
        "conditions": {c.id: c for c in framework.national_conditions},
        "risk_shares": RISK_SHARES,
    }


def _ambition_row(ambition: Ambition, framework: Framework) -> tuple[str, str]:
    label = next((m.label for m in framework.metrics if m.metric == ambition.metric), None)
    quarters = ", ".join(
        f"Q{i} {q if q is not None else 'not given'}" for i, q in enumerate(ambition.quarters, 1)
    )
    baseline = ambition.baseline if ambition.baseline is not None else "not given"
    return label or ambition.metric, f"Baseline {baseline}; {quarters}"


@router.get("/plans/{year}/{area}/check", response_class=HTMLResponse)
def check_answers(
    request: Request, year: str, area: str, session: DbSession, viewer: Editor
) -> Response:
    page = load_plan(session, year, area, viewer)
    require_editable(page, viewer)
    return _check_page(request, page, viewer)


@router.post("/plans/{year}/{area}/check", response_class=HTMLResponse)
def send_for_sign_off(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: Editor,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Freeze the checked version and ask the partners to sign it."""
    page = load_plan(session, year, area, viewer)
    require_editable(page, viewer)
    comment = text(form, "comment")[:4000]
    errors = PageErrors()
    lock = _lock_of(form)

    def step() -> object:
        check_lock(page.plan, lock, "send it for sign-off")
        return plans.act(
            session, page.plan, Action.REQUEST_SIGN_OFF, viewer, plans.Decision(comment=comment)
        )

    if attempt(session, errors, step) is not None:
        number = plans.current_version(page.plan).number
        flash(request, f"Version {number} has been sent for local sign-off")
        return RedirectResponse(_base(page), status_code=303)
    return _check_page(request, load_plan(session, year, area, viewer), viewer, errors, comment)


# ---------------------------------------------------------------------------------------
# Reading the plan


@router.get("/plans/{year}/{area}/read", response_class=HTMLResponse)
def read_plan(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: PublicViewer,
    version: VersionQuery = None,
) -> Response:
    """The plan's whole content on one page, to read, print or sign against.

    Everyone who may see the plan may read it, whatever its status: a signatory signs the
    version shown here, an assurer assures it, and the public reads it once it is approved.
    """
    page = load_plan(session, year, area, viewer)
    latest = plans.current_version(page.plan)
    wanted = latest.number if version is None else version
    shown = next((v for v in page.plan.versions if v.number == wanted), None)
    if shown is None:
        raise NotFound(f"the plan for {page.area.name} has no version {version}")
    context = {
        **_content_context(page, plans.content_of(shown)),
        "plan": page.plan,
        "shown": shown,
        "latest": latest.number,
        "timeline": timeline(page.plan.events, page.partners),
    }
    return render(request, "plan_read.html", context, viewer=viewer, synthetic=page.geo.synthetic)


# ---------------------------------------------------------------------------------------
# Versions


def readable_path(path: str) -> str:
    """``schemes[2].planned_spend`` as people read it: ``Schemes, row 3, planned spend``."""
    sections = {"ambitions": "Metrics", "section75": "Section 75"}
    words: list[str] = []
    for part in re.findall(r"\[[0-9]+\]|[^.\[\]]+", path):
        if not part.startswith("["):
            words.append(sections.get(part, part.replace("_", " ")))
        elif words and words[-1] == "quarters":
            words[-1] = f"Q{int(part[1:-1]) + 1}"
        else:
            words.append(f"row {int(part[1:-1]) + 1}")
    joined = ", ".join(words)
    return joined[:1].upper() + joined[1:]


def shown_value(path: str, value: object) -> str:
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, int) and path.rsplit(".", 1)[-1] in MONEY_FIELDS:
        return format_money(value)
    return str(value)


def _comparison(plan: PlanRow, first: int, second: int) -> list[dict[str, str]]:
    return [
        {"field": readable_path(p), "path": p, "old": shown_value(p, a), "new": shown_value(p, b)}
        for p, a, b in plans.compare_versions(plan, first, second)
    ]


@router.get("/plans/{year}/{area}/versions", response_class=HTMLResponse)
def versions(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: PublicViewer,
    first: Annotated[int | None, Query(alias="from", ge=1)] = None,
    second: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> Response:
    """Two versions of the plan side by side, field by field (default: the last two)."""
    page = load_plan(session, year, area, viewer)
    latest = plans.current_version(page.plan).number
    second = second or latest
    first = first or max(1, second - 1)
    context = {
        "page": page,
        "area": page.area,
        "framework": page.geo.framework,
        "base": _base(page),
        "versions": page.plan.versions,
        "first": first,
        "second": second,
        "rows": _comparison(page.plan, first, second),
    }
    return render(
        request, "plan_versions.html", context, viewer=viewer, synthetic=page.geo.synthetic
    )
