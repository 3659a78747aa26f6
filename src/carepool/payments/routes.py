"""Payment for performance pages: the year's payments, one area's, why each amount, and the
national team's steps.

Every page is public, as the allocation and plan pages are, and shows each viewer what they
may see (:mod:`carepool.payments.service.views` decides, for the pages, the CSV and the API
alike). The national team sees each quarter's run whatever its status, with the step each of
them may take now: a national administrator drafts a quarter's run, an analyst or another
administrator checks it, the health approver approves it and an administrator pays it into
the pools; a checked or approved run can be sent back with a reason. Everyone else sees what
has been paid, each amount exact and each count of admissions under publication control,
with a published explanation of every payment. An area's own people see their area's
payments in every status and the whole chain behind each.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from carepool.allocation.routes.national import pounds
from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.metric_catalogue import definition
from carepool.domain.money import format_money, has_other_digits, parse_money
from carepool.domain.payment import REVISION_APPROVERS, RevisionAction, RunAction, RunStatus
from carepool.domain.roles import Principal, Role
from carepool.frameworks import load_framework
from carepool.geography.service import year_geography
from carepool.io.spreadsheet_text import csv_writer
from carepool.payments.schemas import (
    ExplanationOut,
    PaymentTotals,
    PublishedExplanationOut,
    RunOut,
    WhatIfOut,
)
from carepool.payments.service import ambitions, views
from carepool.payments.service import runs as payments
from carepool.payments.service.views import PaymentRow, PublishedExplanation, QuarterRuns
from carepool.web.auth import AdminViewer, CsrfChecked, DbSession, PublicViewer, require_roles
from carepool.web.charts import Pair, PairedChart, paired_bar_chart
from carepool.web.forms import PageErrors, attempt
from carepool.web.kit import check_year, flash, render
from carepool.web.public import PAYMENT_KINDS

router = APIRouter(include_in_schema=False)

PaymentTeam = Annotated[
    Principal,
    Depends(require_roles(Role.NATIONAL_ADMIN, Role.ANALYST, Role.HEALTH_APPROVER)),
]

RUN_TAGS = {
    RunStatus.DRAFT.value: "govuk-tag--grey",
    RunStatus.CHECKED.value: "govuk-tag--blue",
    RunStatus.APPROVED.value: "govuk-tag--turquoise",
    RunStatus.PAID.value: "govuk-tag--green",
    RunStatus.TRUED_UP.value: "govuk-tag--yellow",
}
PAYMENT_TAGS = {
    "met": ("Met", "govuk-tag--green"),
    "partly_met": ("Partly met", "govuk-tag--yellow"),
    "not_met": ("Not met", "govuk-tag--red"),
    "no_data": ("No measured value", "govuk-tag--grey"),
}
"""A payment's result in words and colour (the words carry the meaning)."""

BUTTONS = {
    RunAction.CHECK: ("Record that the run is checked", ""),
    RunAction.APPROVE: ("Approve the run for payment", ""),
    RunAction.PAY: ("Pay the run into the pools", "govuk-button--warning"),
    RunAction.SEND_BACK: ("Send back to draft", "govuk-button--secondary"),
}
DONE = {
    RunAction.CHECK: "checked",
    RunAction.APPROVE: "approved for payment",
    RunAction.PAY: "paid into the pools",
    RunAction.SEND_BACK: "sent back to draft",
}
PATH_ACTIONS = {"check": RunAction.CHECK, "approve": RunAction.APPROVE, "pay": RunAction.PAY,
                "send-back": RunAction.SEND_BACK}  # fmt: skip

CSV_COLUMNS = (
    "area_code",
    "area_name",
    "region",
    "quarter",
    "run",
    "run_status",
    "final",
    "baseline",
    "plan",
    "actual",
    "unit_cost",
    "pot",
    "earned",
    "released",
    "retained",
    "result",
)


# --------------------------------------------------------------------------------------------
# What the year's pages share


def _totals(rows: Sequence[PaymentRow]) -> PaymentTotals:
    return PaymentTotals.of([row.line for row in rows])


def _chart(year: str, rows: Sequence[PaymentRow]) -> PairedChart | None:
    """Each quarter's pot beside the money it released into the pools."""
    by_quarter: dict[str, list[PaymentRow]] = {}
    for row in rows:
        by_quarter.setdefault(row.slug, []).append(row)
    if not by_quarter:
        return None
    pairs = [
        Pair(slug, sum(r.line.pot_pence for r in shown), sum(r.line.released_pence for r in shown))
        for slug, shown in sorted(by_quarter.items())
    ]
    unearned = sum(p.first - p.second for p in pairs)
    return paired_bar_chart(
        "payments-chart",
        f"Performance pot and money released into the pools, {year}, by quarter",
        f"Paired bars for {len(pairs)} quarters: the pot that could be earned and the money "
        f"earned and released into the pools. {format_money(unearned)} was not earned and "
        "stays with the CCGs. The same figures are in the table below the chart.",
        pairs,
        headings=("Quarter", "Pot", "Released"),
        shown=lambda pence: format_money(pence, pence_shown=False),
    )


def _common(year: str, rows: Sequence[PaymentRow]) -> dict[str, Any]:
    framework = load_framework(year)
    return {
        "framework": framework,
        "design": views.design(year),
        "kind_names": PAYMENT_KINDS,
        "rows": rows,
        "totals": _totals(rows),
        "chart": _chart(year, rows),
        "run_tags": RUN_TAGS,
        "payment_tags": PAYMENT_TAGS,
    }


def _quarter_card(quarter: QuarterRuns, viewer: Principal) -> dict[str, Any]:
    in_play, current = quarter.in_play, quarter.current
    return {
        "quarter": quarter,
        "current": RunOut.of(current) if current else None,
        "in_play": RunOut.of(in_play) if in_play else None,
        "offers": views.offers(in_play, viewer) if in_play else [],
        "may_draft": views.may_draft(viewer, quarter),
        "events": list(in_play.events) if in_play else [],
        "earlier": [RunOut.of(r) for r in quarter.runs if r not in (in_play, current)],
    }


def _national(
    request: Request,
    session: Session,
    year: str,
    viewer: Principal,
    errors: PageErrors | None = None,
    posted: dict[str, str] | None = None,
) -> Response:
    rows = views.year_rows(session, year, viewer)
    context = {
        **_common(year, rows),
        "split": [
            ("Paid", _totals([r for r in rows if r.paid]), "totals"),
            ("Not yet paid", _totals([r for r in rows if not r.paid]), "unpaid"),
            ("All quarters with a run", _totals(rows), "all"),
        ],
        "quarters": [_quarter_card(q, viewer) for q in views.quarters(session, year)],
        "not_credible": ambitions.beyond_variation(session, year),
        "buttons": BUTTONS,
        "errors": errors or PageErrors(),
        "posted": posted or {},
    }
    status = errors.status if errors else 200
    return render(
        request, "payments_national.html", context, viewer=viewer, session=session,
        status_code=status,
    )  # fmt: skip


def _csv_rows(rows: Sequence[PaymentRow]) -> list[tuple[object, ...]]:
    return [
        (
            row.area_code,
            row.area_name,
            row.region,
            row.line.quarter,
            row.run,
            row.run_status,
            "final" if row.final else "provisional",
            row.line.baseline,
            row.line.plan,
            row.actual_shown.replace(",", ""),
            pounds(row.line.unit_cost_pence),
            pounds(row.line.pot_pence),
            pounds(row.line.earned_pence),
            pounds(row.line.released_pence),
            pounds(row.line.retained_pence),
            row.line.status.value,
        )
        for row in rows
    ]


# --------------------------------------------------------------------------------------------
# The year


@router.get("/payments/{year}.csv")
def payments_csv(year: str, session: DbSession, viewer: PublicViewer) -> Response:
    """The rows of the viewer's year page: everything for national roles, the paid payments
    (counts under publication control) for everyone else."""
    rows = views.year_rows(session, check_year(year), viewer)
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(rows))
    synthetic = "-synthetic" if year_geography(session, year).synthetic else ""
    scope = "" if viewer.is_national else "-paid"
    name = f"carepool-payments-{year}{scope}{synthetic}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/payments/{year}", response_class=HTMLResponse)
def payments_year(
    request: Request, year: str, session: DbSession, viewer: PublicViewer
) -> Response:
    check_year(year)
    if viewer.is_national:
        return _national(request, session, year, viewer)
    rows = views.year_rows(session, year, viewer)
    own = sorted({g.area_code for g in viewer.grants if g.area_code})
    context = {**_common(year, rows), "own_areas": own}
    return render(request, "payments_published.html", context, viewer=viewer, session=session)


# --------------------------------------------------------------------------------------------
# The national team's steps


@router.post("/payments/{year}/runs/{quarter}/draft", response_class=HTMLResponse)
def draft_run(
    request: Request,
    year: str,
    quarter: str,
    session: DbSession,
    viewer: AdminViewer,
    _csrf: CsrfChecked,
    final: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Draft the quarter's run from the latest stored values (again, if nothing changed,
    gives back the same run)."""
    number = views.quarter_number(quarter)
    errors = PageErrors()
    outcome = attempt(
        session, errors,
        lambda: payments.draft(session, check_year(year), number, viewer, final=final == "yes"),
        f"draft-{quarter}", subject="payment run",
    )  # fmt: skip
    if outcome is None:
        return _national(request, session, year, viewer, errors)
    label = payments.run_label(outcome.run)
    if outcome.created:
        message = f"{label} drafted for {len(outcome.run.lines)} areas"
        if outcome.missing:
            message += f"; {len(outcome.missing)} areas have no measured value and no line"
    else:
        message = f"The stored inputs give {label} again, so nothing changed"
    flash(request, message)
    return RedirectResponse(f"/payments/{year}#quarter-{quarter}", status_code=303)


@router.post("/payments/{year}/runs/{quarter}/{action}", response_class=HTMLResponse)
def take_step(
    request: Request,
    year: str,
    quarter: str,
    action: str,
    session: DbSession,
    viewer: PaymentTeam,
    _csrf: CsrfChecked,
    version: Annotated[int | None, Form()] = None,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check, approve, pay or send back the quarter's run in play, as the version shown."""
    chosen = PATH_ACTIONS.get(action)
    if chosen is None:
        raise NotFound(f"{action!r} is not a step: use check, approve, pay or send-back")
    number = views.quarter_number(quarter)
    check_year(year)
    errors = PageErrors()
    field = f"reason-{quarter}" if chosen is RunAction.SEND_BACK else f"quarter-{quarter}"

    def step() -> str:
        run = views.run_to_act_on(session, year, number, version)
        if chosen is RunAction.PAY:
            paid = payments.pay(session, run, viewer)
            pools = len(paid.entries)
            return f"{payments.run_label(run)} paid into {pools} pools"
        payments.move(session, run, chosen, viewer, reason.strip())
        return f"{payments.run_label(run)} {DONE[chosen]}"

    message = attempt(session, errors, step, field, subject="payment run")
    if message is None:
        return _national(request, session, year, viewer, errors, {field: reason})
    flash(request, message)
    return RedirectResponse(f"/payments/{year}#quarter-{quarter}", status_code=303)


# --------------------------------------------------------------------------------------------
# One area, and why each amount


@router.get("/payments/{year}/{area_code}", response_class=HTMLResponse)
def payments_area(
    request: Request, year: str, area_code: str, session: DbSession, viewer: PublicViewer
) -> Response:
    return _area(request, session, check_year(year), area_code, viewer)


def _area(
    request: Request,
    session: Session,
    year: str,
    area_code: str,
    viewer: Principal,
    errors: PageErrors | None = None,
) -> Response:
    rows = views.area_rows(session, year, area_code, viewer)
    full = views.sees_area(viewer, area_code)
    context = {
        "framework": load_framework(year),
        "design": views.design(year),
        "kind_names": PAYMENT_KINDS,
        "area": year_geography(session, year).area(area_code),
        "rows": rows,
        "totals": _totals(rows),
        "full": full,
        "has_pool": views.has_pool(session, year, area_code),
        "may_read_books": views.may_read_books(viewer, area_code),
        "history": views.area_history(session, year, area_code) if full else [],
        "revisions": ambitions.revisions(session, year, area_code) if viewer.is_national else [],
        "may_propose": viewer.has(Role.NATIONAL_ADMIN),
        "may_decide": any(viewer.has(role) for role in REVISION_APPROVERS),
        "errors": errors or PageErrors(),
        "run_tags": RUN_TAGS,
        "payment_tags": PAYMENT_TAGS,
    }
    status = errors.status if errors else 200
    return render(
        request, "payments_area.html", context, viewer=viewer, session=session,
        status_code=status,
    )  # fmt: skip


@router.post("/payments/{year}/{area_code}/revisions", response_class=HTMLResponse)
def propose_revision(
    request: Request,
    year: str,
    area_code: str,
    session: DbSession,
    viewer: AdminViewer,
    _csrf: CsrfChecked,
    q1: Annotated[str, Form(max_length=40)] = "",
    q2: Annotated[str, Form(max_length=40)] = "",
    q3: Annotated[str, Form(max_length=40)] = "",
    q4: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A national administrator proposes a revised ambition for the area's four quarters."""
    check_year(year)
    errors = PageErrors()
    texts = (q1, q2, q3, q4)
    typed = [_admissions(text, errors, f"revised-{n}") for n, text in enumerate(texts, start=1)]
    if not errors and None in typed:
        errors.add("Enter an ambition for each of the four quarters", "revised-1")
    if errors:
        return _area(request, session, year, area_code, viewer, errors)
    quarters = tuple(q for q in typed if q is not None)

    def propose() -> str:
        found = ambitions.propose(session, year, area_code, quarters, reason, viewer)
        return f"Revision {found.id} proposed: it takes effect once both national approvers approve"

    message = attempt(session, errors, propose, "revision-reason", subject="ambition")
    if message is None:
        return _area(request, session, year, area_code, viewer, errors)
    flash(request, message)
    return RedirectResponse(f"/payments/{year}/{area_code}#revisions", status_code=303)


@router.post(
    "/payments/{year}/{area_code}/revisions/{revision_id}/{decision}",
    response_class=HTMLResponse,
)
def decide_revision(
    request: Request,
    year: str,
    area_code: str,
    revision_id: int,
    decision: str,
    session: DbSession,
    viewer: PublicViewer,
    _csrf: CsrfChecked,
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A national approver approves (each once; in force once both have) or rejects."""
    check_year(year)
    chosen = {"approve": RevisionAction.APPROVE, "reject": RevisionAction.REJECT}.get(decision)
    if chosen is None:
        raise NotFound(f"{decision!r} is not a decision: use approve or reject")
    errors = PageErrors()

    def decide() -> str:
        revision = ambitions.find_revision(session, revision_id)
        if revision.year != year or revision.area_code != area_code:
            raise NotFound(f"{area_code} has no ambition revision {revision_id} in {year}")
        found = ambitions.decide(session, revision, chosen, viewer, comment)
        return f"Revision {found.id}: {found.status.lower()}"

    message = attempt(session, errors, decide, f"comment-{revision_id}", subject="ambition")
    if message is None:
        return _area(request, session, year, area_code, viewer, errors)
    flash(request, message)
    return RedirectResponse(f"/payments/{year}/{area_code}#revisions", status_code=303)


@router.get("/payments/{year}/{area_code}/what-if", response_class=HTMLResponse)
def what_if_page(
    request: Request,
    year: str,
    area_code: str,
    session: DbSession,
    viewer: PublicViewer,
    quarter: str = "Q1",
    ambition: str = "",
    unit_cost: str = "",
) -> Response:
    """Try another ambition or unit cost for one quarter: the pot it gives, the earnings the
    area's own variation makes likely, and whether the ambition is credible. For the
    national team (assurers included) and the area's own people."""
    check_year(year)
    if not views.sees_area(viewer, area_code):
        raise NotFound(f"no payment what-if for {area_code} that you may see")
    number = views.quarter_number(quarter)
    errors = PageErrors()
    tried = _admissions(ambition, errors)
    cost = _pence(unit_cost, errors)
    found = ambitions.what_if(
        session, year, area_code, number, viewer, ambition=tried, unit_cost_pence=cost
    )
    context = {
        "framework": load_framework(year),
        "area": year_geography(session, year).area(area_code),
        "w": WhatIfOut.of(found),
        "quarter": quarter,
        "quarters": views.QUARTERS,
        "ambition": ambition,
        "unit_cost": unit_cost,
        "errors": errors,
    }
    status = errors.status if errors else 200
    return render(
        request,
        "payments_what_if.html",
        context,
        viewer=viewer,
        session=session,
        status_code=status,
    )


def _admissions(text: str, errors: PageErrors, field: str = "ambition") -> Decimal | None:
    """A number of admissions typed in the form, or ``None`` (with an error if it is not)."""
    if not text.strip():
        return None
    try:
        found = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        found = Decimal(-1)
    if has_other_digits(text) or not found.is_finite() or found < 0 or found > MAX_ADMISSIONS:
        errors.add("Enter the ambition as a number of admissions in the quarter", field)
        return None
    return found


def _pence(text: str, errors: PageErrors) -> int | None:
    """A cost of an admission typed in the form, in pence, or ``None``."""
    if not text.strip():
        return None
    try:
        found = parse_money(text)
    except CarepoolError as error:
        errors.add(f"Enter the cost of an admission in pounds: {error.message}", "unit_cost")
        return None
    if found <= 0 or found > MAX_UNIT_COST_PENCE:
        errors.add("Enter a cost of an admission above £0 and at most £1,000,000", "unit_cost")
        return None
    return found


MAX_ADMISSIONS = Decimal(10_000_000)
MAX_UNIT_COST_PENCE = 100_000_000


@router.get("/payments/{year}/{area_code}/{quarter}", response_class=HTMLResponse)
def payment_explanation(
    request: Request,
    year: str,
    area_code: str,
    quarter: str,
    session: DbSession,
    viewer: PublicViewer,
) -> Response:
    """Why the area's payment for the quarter is what it is, from framework file to ledger."""
    number = views.quarter_number(quarter)
    found = views.explanation(session, check_year(year), area_code, number, viewer)
    if isinstance(found, PublishedExplanation):
        shown: ExplanationOut | PublishedExplanationOut = PublishedExplanationOut.of(found)
        actual = "" if found.actual is None else found.actual.shown
        population = "" if found.population is None else found.population.shown
    else:
        shown = ExplanationOut.of(found)
        actual = "" if found.line.actual is None else f"{found.line.actual:,}"
        population = "" if found.population is None else f"{found.population:,}"
    context = {
        "e": shown,
        "full": isinstance(shown, ExplanationOut),
        "slug": quarter,
        "area": year_geography(session, year).area(area_code),
        "actual_shown": actual,
        "population_shown": population,
        "metric_name": _metric_name(shown.metric),
        "kind_names": PAYMENT_KINDS,
        "may_read_books": views.may_read_books(viewer, area_code),
        "run_tags": RUN_TAGS,
        "payment_tags": PAYMENT_TAGS,
    }
    return render(request, "payment_explanation.html", context, viewer=viewer, session=session)


def _metric_name(metric_id: str) -> str:
    try:
        return definition(metric_id).name
    except NotFound:  # a metric since taken out of the catalogue: its id says what it was
        return metric_id
