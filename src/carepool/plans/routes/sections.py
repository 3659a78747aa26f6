"""The plan's section pages, where an area's editors write their plan one part at a time.

Each page shows the section as stored, with the rule findings about that section, and saves
the whole plan through :func:`carepool.plans.service.save` with the ``lock_version`` the page
was drawn from: if someone else saved in between, nothing is overwritten, the person is told
and what they typed is kept on the page. Bad input (money that is not money, a date that is
not a date) is shown beside its field and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from carepool.domain.errors import NotFound
from carepool.domain.plan import PlanContent, Scheme, SchemeYears, schemes_by_ref
from carepool.domain.roles import Principal
from carepool.plans import service as plans
from carepool.plans.routes.forms import (
    INSTALMENTS,
    QUARTERS,
    RISK_SHARES,
    Values,
    ambitions_in_order,
    changed,
    condition_values,
    confirmations_in_order,
    contribution_values,
    metric_values,
    next_scheme_ref,
    read_conditions,
    read_contributions,
    read_metrics,
    read_scheme,
    read_section75,
    scheme_choices,
    scheme_values,
    section75_values,
    text,
)
from carepool.plans.routes.views import (
    SECTION_BY_SLUG,
    PlanPage,
    load_plan,
    require_editable,
    section_findings,
)
from carepool.plans.service import EDITOR_ROLES
from carepool.web.auth import CsrfChecked, DbSession, require_roles
from carepool.web.forms import PageErrors, attempt, posted_form
from carepool.web.kit import flash, render

router = APIRouter(include_in_schema=False)

Editor = Annotated[Principal, Depends(require_roles(*EDITOR_ROLES))]
PostedForm = Annotated[FormData, Depends(posted_form)]

Parts = dict[str, Any]
"""The parts of the plan a form changes, by field of :class:`PlanContent`."""


@dataclass(frozen=True, slots=True)
class SectionForm:
    """How one section's page is drawn and read back."""

    template: str
    values: Callable[[PlanPage], Values]
    read: Callable[[FormData, PlanPage], tuple[Values, PageErrors, Parts]]
    context: Callable[[PlanPage], dict[str, Any]]


def _no_context(page: PlanPage) -> dict[str, Any]:
    return {}


# ---------------------------------------------------------------------------------------
# Each section's reader and page context


def _read_contributions(form: FormData, page: PlanPage) -> tuple[Values, PageErrors, Parts]:
    values, errors, rows = read_contributions(form, page.content, page.partners, page.geo.framework)
    return values, errors, {"contributions": rows}


def _contributions_context(page: PlanPage) -> dict[str, Any]:
    framework = page.geo.framework
    streams = {s.id: s.name for s in framework.streams}
    rows = [
        {
            "field": f"additional-{i}",
            "partner": page.partners.get(c.partner_code, c.partner_code),
            "stream": streams.get(c.stream, c.stream),
            "financial_year": c.financial_year,
            "minimum": c.minimum,
            "total": c.total,
        }
        for i, c in enumerate(page.content.contributions, start=1)
    ]
    return {"rows": rows, "multi_year": len(framework.financial_years) > 1}


def _districts(page: PlanPage) -> tuple[str, ...]:
    return tuple(page.facts.context.districts)


def _read_new_scheme(form: FormData, page: PlanPage) -> tuple[Values, PageErrors, Parts]:
    values, errors, rows = read_scheme(form, page.geo.framework, _districts(page))
    if errors:
        return values, errors, {}
    if _ref_taken(rows, {s.ref for s in page.content.schemes}, errors):
        return values, errors, {}
    return values, errors, {"schemes": (*page.content.schemes, *rows)}


def _ref_taken(rows: tuple[Scheme, ...], taken: set[str], errors: PageErrors) -> bool:
    """A reference names one scheme, so a new or changed scheme may not take another's
    (its rows would be read back as that scheme's years)."""
    if rows and rows[0].ref in taken:
        errors.add(f"The plan already has a scheme {rows[0].ref}: choose another reference", "ref")
        return True
    return False


def _schemes_context(page: PlanPage) -> dict[str, Any]:
    framework = page.geo.framework
    content = page.content
    totals = [
        {
            "financial_year": year,
            "pooled": sum(c.total for c in content.contributions if c.financial_year == year),
            "planned": sum(s.planned_spend for s in content.schemes if s.financial_year == year),
        }
        for year in framework.financial_years
    ]
    choices = scheme_choices(framework, _districts(page))
    return {
        "schemes": list(enumerate(schemes_by_ref(content.schemes), start=1)),
        "choices": choices,
        "sources": dict(choices["funding_source"]),
        "years": framework.financial_years,
        "district_sources": [s.name for s in framework.streams if s.passes_to_districts],
        "totals": totals,
    }


def _read_metrics(form: FormData, page: PlanPage) -> tuple[Values, PageErrors, Parts]:
    values, errors, ambitions = read_metrics(form, page.content, page.geo.framework)
    return values, errors, {"ambitions": ambitions}


def _metrics_context(page: PlanPage) -> dict[str, Any]:
    framework = page.geo.framework
    uses = {m.metric: m for m in framework.metrics}
    return {
        "metrics": [
            {"id": a.metric, "use": uses.get(a.metric)}
            for a in ambitions_in_order(page.content, framework)
        ],
        "quarters": QUARTERS,
    }


def _read_conditions(form: FormData, page: PlanPage) -> tuple[Values, PageErrors, Parts]:
    values, errors, given = read_conditions(form, page.content, page.geo.framework)
    return values, errors, {"conditions": given}


def _conditions_context(page: PlanPage) -> dict[str, Any]:
    framework = page.geo.framework
    by_id = {c.id: c for c in framework.national_conditions}
    return {
        "conditions": [by_id[c.condition] for c in confirmations_in_order(page.content, framework)],
        "statuses": [(s, s) for s in ("Confirmed", "Not yet met: plan in place", "Not met")],
    }


def _read_section75(form: FormData, page: PlanPage) -> tuple[Values, PageErrors, Parts]:
    values, errors, terms = read_section75(
        form, page.content.section75, page.facts.context.partners
    )
    return values, errors, {"section75": terms} if terms else {}


def _section75_context(page: PlanPage) -> dict[str, Any]:
    return {
        "host_partners": list(page.facts.context.partners.items()),
        "risk_shares": list(RISK_SHARES.items()),
        "instalments": list(INSTALMENTS.items()),
    }


def _read_narrative(form: FormData, page: PlanPage) -> tuple[Values, PageErrors, Parts]:
    values = {"narrative": text(form, "narrative")}
    errors = PageErrors()
    if len(values["narrative"]) > 20000:
        errors.add("The narrative must be 20,000 characters or fewer", "narrative")
    return values, errors, {"narrative": values["narrative"]}


FORMS: dict[str, SectionForm] = {
    "contributions": SectionForm(
        "plan_edit_contributions.html",
        lambda page: contribution_values(page.content),
        _read_contributions,
        _contributions_context,
    ),
    "schemes": SectionForm(
        "plan_edit_schemes.html",
        lambda page: scheme_values(
            None, page.geo.framework, next_scheme_ref(page.content.schemes), _districts(page)
        ),
        _read_new_scheme,
        _schemes_context,
    ),
    "metrics": SectionForm(
        "plan_edit_metrics.html",
        lambda page: metric_values(page.content, page.geo.framework),
        _read_metrics,
        _metrics_context,
    ),
    "conditions": SectionForm(
        "plan_edit_conditions.html",
        lambda page: condition_values(page.content, page.geo.framework),
        _read_conditions,
        _conditions_context,
    ),
    "section75": SectionForm(
        "plan_edit_section75.html",
        lambda page: section75_values(page.content.section75),
        _read_section75,
        _section75_context,
    ),
    "narrative": SectionForm(
        "plan_edit_narrative.html",
        lambda page: {"narrative": page.content.narrative},
        _read_narrative,
        _no_context,
    ),
}


# ---------------------------------------------------------------------------------------
# Drawing and saving


def _editing(session: Session, year: str, area: str, viewer: Principal) -> PlanPage:
    page = load_plan(session, year, area, viewer)
    require_editable(page, viewer)
    return page


def _form_of(section: str) -> SectionForm:
    if section not in FORMS:
        raise NotFound(f"a plan has no section {section!r}")
    return FORMS[section]


def _lock_of(form: FormData, errors: PageErrors) -> int | None:
    raw = text(form, "lock_version")
    if not raw.isdigit():
        errors.add("The form did not say which version of the plan it changes; reload the page")
        return None
    return int(raw)


def _draw(
    request: Request,
    page: PlanPage,
    viewer: Principal,
    slug: str,
    values: Values,
    *,
    errors: PageErrors | None = None,
    lock_version: int | None = None,
    template: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """A section page; after a refused save it keeps the typed values and the old lock, so a
    second press cannot overwrite someone else's save unseen."""
    section = SECTION_BY_SLUG[slug]
    spec = FORMS[slug]
    context = {
        "page": page,
        "area": page.area,
        "framework": page.geo.framework,
        "section": section,
        "base": f"/plans/{page.plan.year}/{page.area.code}",
        "findings": section_findings(page.findings, section),
        "values": values,
        "errors": errors or PageErrors(),
        "lock_version": page.plan.lock_version if lock_version is None else lock_version,
        **spec.context(page),
        **(extra or {}),
    }
    status = errors.status if errors else 200
    return render(
        request, template or spec.template, context, viewer=viewer,
        synthetic=page.geo.synthetic, status_code=status,
    )  # fmt: skip


def _save(
    request: Request,
    session: Session,
    page: PlanPage,
    viewer: Principal,
    parts: Parts,
    lock: int | None,
    errors: PageErrors,
    message: str,
) -> bool:
    """Save the changed parts; False (with the reasons in ``errors``) if refused."""
    content: PlanContent | None = None
    if not errors and lock is not None:
        content = changed(page.content, errors, **parts)
    if content is None or errors or lock is None:
        return False
    saved = attempt(session, errors, lambda: plans.save(session, page.plan, content, lock, viewer))
    if saved is None:
        return False
    flash(request, message)
    return True


@router.get("/plans/{year}/{area}/edit/{section}", response_class=HTMLResponse)
def edit_section(
    request: Request, year: str, area: str, section: str, session: DbSession, viewer: Editor
) -> Response:
    spec = _form_of(section)
    page = _editing(session, year, area, viewer)
    return _draw(request, page, viewer, section, spec.values(page))


@router.post("/plans/{year}/{area}/edit/{section}", response_class=HTMLResponse)
def save_section(
    request: Request,
    year: str,
    area: str,
    section: str,
    session: DbSession,
    viewer: Editor,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    spec = _form_of(section)
    page = _editing(session, year, area, viewer)
    values, errors, parts = spec.read(form, page)
    lock = _lock_of(form, errors)
    title = SECTION_BY_SLUG[section].title
    done = "Scheme added" if section == "schemes" else f"{title} saved"
    if _save(request, session, page, viewer, parts, lock, errors, done):
        return RedirectResponse(f"/plans/{year}/{area}/edit/{section}", status_code=303)
    return _draw(request, _again(session, page, viewer), viewer, section, values,
                 errors=errors, lock_version=lock)  # fmt: skip


def _again(session: Session, page: PlanPage, viewer: Principal) -> PlanPage:
    """The plan as stored now (a refused save was rolled back)."""
    return load_plan(session, page.plan.year, page.area.code, viewer)


# ---------------------------------------------------------------------------------------
# One scheme: change or remove


def _scheme_at(page: PlanPage, row: int) -> SchemeYears:
    """The ``row``-th scheme of the schemes table (a scheme once, with all its years)."""
    schemes = schemes_by_ref(page.content.schemes)
    if not 1 <= row <= len(schemes):
        raise NotFound(f"the plan has no scheme in row {row}")
    return schemes[row - 1]


def _replaced(
    content: PlanContent, old: SchemeYears, new: tuple[Scheme, ...]
) -> tuple[Scheme, ...]:
    """The plan's scheme rows with a scheme's rows replaced by ``new``, where its first was."""
    kept: list[Scheme] = []
    for number, scheme in enumerate(content.schemes, start=1):
        if number == old.rows[0]:
            kept.extend(new)
        elif number not in old.rows:
            kept.append(scheme)
    return tuple(kept)


@router.get("/plans/{year}/{area}/edit/schemes/{row}", response_class=HTMLResponse)
def edit_scheme(
    request: Request, year: str, area: str, row: int, session: DbSession, viewer: Editor
) -> Response:
    page = _editing(session, year, area, viewer)
    scheme = _scheme_at(page, row)
    values = scheme_values(scheme, page.geo.framework, scheme.scheme.ref, _districts(page))
    return _draw(request, page, viewer, "schemes", values, template="plan_edit_scheme.html",
                 extra={"row": row})  # fmt: skip


@router.post("/plans/{year}/{area}/edit/schemes/{row}", response_class=HTMLResponse)
def save_scheme(
    request: Request,
    year: str,
    area: str,
    row: int,
    session: DbSession,
    viewer: Editor,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    page = _editing(session, year, area, viewer)
    old = _scheme_at(page, row)
    values, errors, rows = read_scheme(form, page.geo.framework, _districts(page))
    _ref_taken(rows, {s.ref for s in page.content.schemes} - {old.scheme.ref}, errors)
    lock = _lock_of(form, errors)
    schemes = _replaced(page.content, old, rows)
    message = f"Scheme {values['ref']} saved"
    if _save(request, session, page, viewer, {"schemes": schemes}, lock, errors, message):
        return RedirectResponse(f"/plans/{year}/{area}/edit/schemes", status_code=303)
    return _draw(request, _again(session, page, viewer), viewer, "schemes", values,
                 errors=errors, lock_version=lock, template="plan_edit_scheme.html",
                 extra={"row": row})  # fmt: skip


@router.post("/plans/{year}/{area}/edit/schemes/{row}/remove", response_class=HTMLResponse)
def remove_scheme(
    request: Request,
    year: str,
    area: str,
    row: int,
    session: DbSession,
    viewer: Editor,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    page = _editing(session, year, area, viewer)
    scheme = _scheme_at(page, row)
    errors = PageErrors()
    lock = _lock_of(form, errors)
    schemes = _replaced(page.content, scheme, ())
    message = f"Scheme {scheme.scheme.ref} ({scheme.scheme.name}) removed"
    if _save(request, session, page, viewer, {"schemes": schemes}, lock, errors, message):
        return RedirectResponse(f"/plans/{year}/{area}/edit/schemes", status_code=303)
    fresh = _again(session, page, viewer)
    values = FORMS["schemes"].values(fresh)
    return _draw(request, fresh, viewer, "schemes", values, errors=errors, lock_version=lock)
