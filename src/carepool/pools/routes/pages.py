"""The Section 75 pooled budget for finance users: the pools, their books and their returns.

Pool finance officers run their own pool here: read its balances, contribution schedule and
budget against actual, upload spend from the host's finance system, record receipts, close
periods, settle the year and write and submit the quarterly return. The national team reads
every pool. The Health and Wellbeing Board's signatory reads and signs off the area's returns.
The public sees nothing of a pool: every page needs someone signed in, and the services decide
again who may see and do what, so a form shown here is only a convenience.

A refusal never gives a pool away: asking for another area's pool is refused before anyone
looks for it, with no figures and no names.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from carepool.domain.access import POOLED_BUDGETS
from carepool.domain.errors import CarepoolError
from carepool.domain.money import format_money
from carepool.domain.periods import Quarter, quarters_of
from carepool.domain.quarterly_return import (
    EDITABLE,
    ExpenditureLine,
    ReturnAction,
    may,
    risk_share_words,
)
from carepool.domain.roles import Principal, Role, acting_as
from carepool.geography.service import year_geography
from carepool.pools.routes import forms
from carepool.pools.schemas import ReturnReport
from carepool.pools.service import ledger, returns
from carepool.pools.service import reports as ledger_reports
from carepool.pools.service import settlement as ledger_settle
from carepool.pools.service.returns import ReturnRow
from carepool.web.auth import (
    CsrfChecked,
    DbSession,
    NationalViewer,
    SignedInViewer,
    require_access,
    require_roles,
)
from carepool.web.forms import PageErrors, attempt, posted_form
from carepool.web.kit import check_year, flash, render
from carepool.web.params import IdPath

router = APIRouter(include_in_schema=False)

Writer = Annotated[Principal, Depends(require_roles(*acting_as(Role.POOL_FINANCE)))]
FinanceOfficer = Annotated[Principal, Depends(require_roles(Role.POOL_FINANCE))]
Signatory = Annotated[Principal, Depends(require_roles(Role.AREA_SIGNATORY))]
PoolsViewer = Annotated[Principal, Depends(require_access(POOLED_BUDGETS))]
PostedForm = Annotated[FormData, Depends(posted_form)]
SizeChecked = Annotated[None, Depends(forms.upload_size_limit)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 50


def _common(page: forms.PoolPage, viewer: Principal, **extra: Any) -> dict[str, Any]:
    """What every pool page's layout needs."""
    return {
        "page": page,
        "pool": page.pool,
        "area": page.area,
        "base": page.base,
        "may_write": forms.may_write(viewer, page.area.code),
        "for_the_area": viewer.acts_for_area(Role.POOL_FINANCE, page.area.code),
        "may_read_books": ledger.may_read(viewer, page.area.code),
        "light_tags": forms.LIGHT_TAGS,
        "return_tags": forms.RETURN_TAGS,
        "stream_names": {s.id: s.name for s in page.geo.framework.streams},
        "debit": forms.debit,
        "credit": forms.credit,
        **extra,
    }


def _show(
    request: Request,
    template: str,
    page: forms.PoolPage,
    viewer: Principal,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    shown = _common(page, viewer, **context)
    synthetic = page.geo.synthetic
    return render(request, template, shown, viewer=viewer, synthetic=synthetic, status_code=status)


def _today() -> dt.date:
    return dt.date.today()


# ---------------------------------------------------------------------------------------
# Every pool


@router.get("/pools/{year}", response_class=HTMLResponse)
def pool_list(request: Request, year: str, session: DbSession, viewer: PoolsViewer) -> Response:
    """National roles see every pool; pool finance officers their own; the board's signatory
    the returns waiting for them (who may open it: :data:`POOLED_BUDGETS`)."""
    check_year(year)
    awaiting = returns.awaiting_sign_off(session, viewer, year)
    areas = {g.area_code for g in viewer.grants if g.role is Role.POOL_FINANCE}
    geo = year_geography(session, year)
    names = {a.code: a.name for a in geo.areas}
    positions = sorted(
        _positions(session, viewer, year, areas),
        key=lambda p: names.get(p.pool.area_code, p.pool.area_code),
    )
    totals = {
        name: sum(getattr(p, name) for p in positions)
        for name in ("due", "received", "spend", "budget", "forecast", "variance")
    }
    context = {
        "year": year,
        "positions": positions,
        "names": names,
        "totals": totals,
        "ratings": Counter(p.light.value for p in positions),
        "awaiting": awaiting,
        "light_tags": forms.LIGHT_TAGS,
        "national": viewer.is_national,
    }
    return render(request, "pool_list.html", context, viewer=viewer, synthetic=geo.synthetic)


def _positions(
    session: Session, viewer: Principal, year: str, areas: set[str | None]
) -> list[returns.PoolPosition]:
    """National roles read every pool's position (kept until the data change); a finance
    officer only their own pools'."""
    if viewer.is_national:
        return list(returns.positions(session, year, _today()))
    own = [p for p in ledger.pools(session, year) if p.area_code in areas]
    return [returns.position(session, pool) for pool in own]


@router.get("/pools/{year}/returns", response_class=HTMLResponse)
def returns_overview(
    request: Request, year: str, session: DbSession, viewer: NationalViewer
) -> Response:
    """Every area's quarterly returns, to see where the year stands and whom to chase.

    Declared before ``/pools/{year}/{area}``, which would otherwise take ``returns``.
    """
    check_year(year)
    shown = returns.overview(session, viewer, year, _today())
    context = {
        "year": year,
        "shown": shown,
        "counts": shown.counts,
        "chase": shown.chase,
    }
    geo = year_geography(session, year)
    return render(request, "pool_returns.html", context, viewer=viewer, synthetic=geo.synthetic)


# ---------------------------------------------------------------------------------------
# One pool: the summary


def _quarter(page: forms.PoolPage, slug: str | None) -> Quarter:
    return returns.quarter_of(page.pool, slug) if slug else returns.current_quarter(page.pool)


def _summary(
    request: Request,
    session: Session,
    page: forms.PoolPage,
    viewer: Principal,
    slug: str | None = None,
    errors: PageErrors | None = None,
    posted: dict[str, str] | None = None,
) -> Response:
    pool = page.pool
    quarter = _quarter(page, slug)
    lines = returns.budget_lines(session, pool, quarter)
    schemes = [line for line in lines if line.group == "scheme"]
    total = next(line for line in lines if line.group == "total")
    title = f"Budget against actual to the end of {quarter.label}, by scheme"
    balances = ledger.balances(session, pool)
    stored = returns.returns_of(session, pool)
    context = {
        "quarter": quarter,
        "quarters": returns.pool_quarters(pool),
        "lines": lines,
        "groups": _groups(lines),
        "total": total,
        "chart": forms.budget_actual_chart("budget-chart", title, schemes),
        "forecast": returns.latest_forecast(session, pool),
        "overspend": total.forecast_variance > 0,
        "accounts": forms.account_groups(balances, pool.partners or {}),
        "performance_retained": ledger.performance_retained(balances),
        "schedule": forms.schedule(returns.instalments(session, pool), min(_today(), pool.ends)),
        "instalment_tags": forms.INSTALMENT_TAGS,
        "returns": [(q, stored.get(q.label)) for q in returns.pool_quarters(pool)],
        "settlements": returns.settlements(session, pool),
        "risk_share": _risk_share_text(page),
        "errors": errors or PageErrors(),
        "posted": posted or {},
    }
    status = errors.status if errors else 200
    return _show(request, "pool_summary.html", page, viewer, context, status)


def _groups(lines: Sequence[ExpenditureLine]) -> list[tuple[str, str, list[ExpenditureLine]]]:
    """The three cuts of the budget, each with its table id and caption."""
    cuts = (
        ("scheme", "By scheme"),
        ("area_of_spend", "By area of spend"),
        ("funding_stream", "By funding stream"),
    )
    return [(key, caption, [x for x in lines if x.group == key]) for key, caption in cuts]


def _risk_share_text(page: forms.PoolPage) -> str:
    return risk_share_words(returns.terms_of(page.pool))


@router.get("/pools/{year}/{area}", response_class=HTMLResponse)
def pool_summary(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: SignedInViewer,
    quarter: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    page = forms.load_pool(session, year, area, viewer)
    return _summary(request, session, page, viewer, quarter)


@router.post("/pools/{year}/{area}/forecast", response_class=HTMLResponse)
def record_forecast(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: Writer,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """The pool manager's forecast outturn and, for an overspend, what will be done about it."""
    page = forms.load_pool(session, year, area, viewer)
    errors = PageErrors()
    amount = forms.money(form, "forecast", errors, "the forecast outturn")
    note = forms.text(form, "note")
    quarter = _quarter(page, forms.text(form, "quarter", 20) or None)
    budget = next(
        x for x in returns.budget_lines(session, page.pool, quarter) if x.group == "total"
    )
    if amount is not None and amount > budget.annual_budget and not note:
        errors.add("Say what the partners will do about the forecast overspend", "note")
    if not errors:
        as_at = min(_today(), quarter.period.end)
        pool = page.pool

        def step() -> object:
            return ledger_reports.set_forecast(
                session, pool, amount or 0, note, viewer, as_at=as_at
            )

        done = attempt(session, errors, step, "forecast", subject="return")
        if done is not None:
            what = f"recorded a forecast outturn of {format_money(amount or 0)} at {as_at}"
            ledger.mark_national_change(session, pool, viewer, what)
            flash(request, f"Forecast outturn of {format_money(amount or 0)} recorded")
            return RedirectResponse(f"{page.base}?quarter={quarter.slug}#forecast", 303)
    posted = {"forecast": forms.text(form, "forecast", 40), "note": note}
    return _summary(request, session, page, viewer, quarter.slug, errors, posted)


# ---------------------------------------------------------------------------------------
# The ledger and its entries


@router.get("/pools/{year}/{area}/ledger", response_class=HTMLResponse)
def pool_ledger(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: SignedInViewer,
    page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> Response:
    page = forms.load_pool(session, year, area, viewer)
    entries = returns.entry_page(session, page.pool, page_number, PER_PAGE)
    changes = ledger.national_changes(session, page.pool)
    context = {"entries": entries, "national_changes": changes}
    return _show(request, "pool_ledger.html", page, viewer, context)


@router.get("/pools/{year}/{area}/entries/{entry_id}", response_class=HTMLResponse)
def pool_entry(
    request: Request,
    year: str,
    area: str,
    entry_id: IdPath,
    session: DbSession,
    viewer: SignedInViewer,
) -> Response:
    """One entry and where it came from: the plan, the file and row, the person, its kin."""
    page = forms.load_pool(session, year, area, viewer)
    detail = returns.entry_detail(session, page.pool, entry_id)
    source = {k: v for k, v in detail.stored.entry.source.items() if k != "parameters"}
    context = {"detail": detail, "entry": detail.stored.entry, "source": source}
    return _show(request, "pool_entry.html", page, viewer, context)


# ---------------------------------------------------------------------------------------
# Spend


def _spend_page(
    request: Request,
    session: Session,
    page: forms.PoolPage,
    viewer: Principal,
    errors: PageErrors | None = None,
    notice: str = "",
) -> Response:
    context = {
        "imports": ledger.imports(session, page.pool),
        "errors": errors or PageErrors(),
        "notice": notice,
        "max_mb": forms.MAX_UPLOAD // 2**20,
        "schemes": ledger.plan_content(session, page.pool).schemes,
    }
    status = errors.status if errors else 200
    return _show(request, "pool_spend.html", page, viewer, context, status)


@router.get("/pools/{year}/{area}/spend", response_class=HTMLResponse)
def spend_form(
    request: Request, year: str, area: str, session: DbSession, viewer: SignedInViewer
) -> Response:
    page = forms.load_pool(session, year, area, viewer)
    return _spend_page(request, session, page, viewer)


@router.post("/pools/{year}/{area}/spend", response_class=HTMLResponse)
def upload_spend(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: Writer,
    _size: SizeChecked,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Post a spend file all or nothing; list every problem with its row and column."""
    page = forms.load_pool(session, year, area, viewer)
    errors = PageErrors()
    sent = form.get("spend_file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        errors.add("Choose the spend file to upload", "spend-file")
        return _spend_page(request, session, page, viewer, errors)
    try:
        with forms.saved_upload(sent) as path:
            outcome = ledger.import_spend(session, page.pool, path, viewer)
    except CarepoolError as exc:
        session.rollback()
        forms.add_problems(errors, exc, "spend-file")
        return _spend_page(request, session, page, viewer, errors)
    if outcome.already:
        notice = f"{outcome.file_name} was imported before, so nothing was posted again."
        return _spend_page(request, session, page, viewer, notice=notice)
    message = (
        f"{outcome.file_name}: {outcome.posted:,} rows posted ({format_money(outcome.total_pence)})"
    )
    if outcome.skipped:
        message += f"; {outcome.skipped:,} rows were already posted and were skipped"
    ledger.mark_national_change(session, page.pool, viewer, f"imported spend file {message}")
    flash(request, message)
    return RedirectResponse(f"{page.base}#budget", status_code=303)


# ---------------------------------------------------------------------------------------
# Receipts


RECEIPT_FIELDS = (
    "contribution",
    "amount",
    "reference",
    "received-day",
    "received-month",
    "received-year",
)


def _receipts_page(
    request: Request,
    session: Session,
    page: forms.PoolPage,
    viewer: Principal,
    errors: PageErrors | None = None,
    posted: dict[str, str] | None = None,
) -> Response:
    content = ledger.plan_content(session, page.pool)
    options = sorted({(c.partner_code, c.stream) for c in content.contributions if c.total > 0})
    context = {
        "options": [(f"{p}|{s}", f"{page.pool.partners.get(p, p)}: {s}") for p, s in options],
        "schedule": forms.schedule(
            returns.instalments(session, page.pool), min(_today(), page.pool.ends)
        ),
        "instalment_tags": forms.INSTALMENT_TAGS,
        "errors": errors or PageErrors(),
        "posted": posted or {},
    }
    status = errors.status if errors else 200
    return _show(request, "pool_receipts.html", page, viewer, context, status)


@router.get("/pools/{year}/{area}/receipts", response_class=HTMLResponse)
def receipts_form(
    request: Request, year: str, area: str, session: DbSession, viewer: SignedInViewer
) -> Response:
    page = forms.load_pool(session, year, area, viewer)
    return _receipts_page(request, session, page, viewer)


@router.post("/pools/{year}/{area}/receipts", response_class=HTMLResponse)
def record_receipt(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: Writer,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Money received from a partner, set against its earliest instalment still owed."""
    page = forms.load_pool(session, year, area, viewer)
    errors = PageErrors()
    chosen = forms.text(form, "contribution", 200)
    partner, _, stream = chosen.partition("|")
    if not stream:
        errors.add("Choose whose contribution was received", "contribution")
    amount = forms.money(form, "amount", errors, "the amount received")
    received = forms.date_from(form, "received", errors, "the date received")
    reference = forms.text(form, "reference", 100)
    if not reference:
        errors.add("Enter the bank or finance-system reference", "reference")
    if not errors and amount is not None and received is not None:
        pool, paid, on = page.pool, amount, received

        def step() -> int:
            return ledger.record_receipt(
                session, pool, partner, stream, paid, on, reference, viewer
            )

        entry_id = attempt(session, errors, step, "amount", subject="pool")
        if entry_id is not None:
            name = page.pool.partners.get(partner, partner)
            done = f"recorded {format_money(amount)} from {name} as entry {entry_id}"
            ledger.mark_national_change(session, pool, viewer, done)
            flash(request, done[0].upper() + done[1:])
            return RedirectResponse(f"{page.base}/receipts", status_code=303)
    posted = {name: forms.text(form, name, 200) for name in RECEIPT_FIELDS}
    return _receipts_page(request, session, page, viewer, errors, posted)


# ---------------------------------------------------------------------------------------
# Periods and the year-end settlement


def _periods_page(
    request: Request,
    session: Session,
    page: forms.PoolPage,
    viewer: Principal,
    errors: PageErrors | None = None,
) -> Response:
    pool = page.pool
    closed = ledger.closed_periods(session, pool)
    shut = {p.label for p in closed}
    years = ledger_settle.financial_years(pool)
    openable = [q.label for q in quarters_of(years) if q.label not in shut]
    openable += [y for y in years if y not in shut]
    settled = returns.settlements(session, pool)
    done = {s.financial_year for s in settled}
    variances = {y: ledger_settle.year_variance(session, pool, y) for y in years if y not in done}
    context = {
        "closed": closed,
        "openable": openable,
        "settlements": settled,
        "unsettled": variances,
        "risk_share": _risk_share_text(page),
        "errors": errors or PageErrors(),
    }
    status = errors.status if errors else 200
    return _show(request, "pool_periods.html", page, viewer, context, status)


@router.get("/pools/{year}/{area}/periods", response_class=HTMLResponse)
def periods(
    request: Request, year: str, area: str, session: DbSession, viewer: SignedInViewer
) -> Response:
    page = forms.load_pool(session, year, area, viewer)
    return _periods_page(request, session, page, viewer)


@router.post("/pools/{year}/{area}/periods", response_class=HTMLResponse)
def close_period(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: Writer,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Close a quarter or the year: nothing more may be dated in it."""
    page = forms.load_pool(session, year, area, viewer)
    errors = PageErrors()
    label = forms.text(form, "period", 20)
    if not label:
        errors.add("Choose the period to close", "period")
    else:
        pool = page.pool
        closed = attempt(
            session,
            errors,
            lambda: ledger.close_period(session, pool, label, viewer),
            "period",
            subject="pool",
        )
        if closed is not None:
            ledger.mark_national_change(session, pool, viewer, f"closed {closed.label}")
            flash(request, f"{closed.label} is closed: nothing more can be dated in it")
            return RedirectResponse(f"{page.base}/periods", status_code=303)
    return _periods_page(request, session, page, viewer, errors)


@router.post("/pools/{year}/{area}/settle", response_class=HTMLResponse)
def settle(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: Writer,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Share the year's over- or underspend by the agreed risk share and post who owes what."""
    page = forms.load_pool(session, year, area, viewer)
    errors = PageErrors()
    chosen = forms.text(form, "financial_year", 10) or None
    pool = page.pool
    result = attempt(
        session,
        errors,
        lambda: ledger_settle.settle(session, pool, viewer, chosen),
        "settle",
        subject="pool",
    )
    if result is not None:
        outcome = ledger_settle.outcome(result.variance)
        amount = format_money(abs(result.variance))
        what = f"settled {result.financial_year}: {outcome} of {amount}"
        ledger.mark_national_change(session, pool, viewer, what)
        flash(request, f"{result.financial_year} settled: {outcome} of {amount} shared as agreed")
        return RedirectResponse(f"{page.base}/periods#settlement", status_code=303)
    return _periods_page(request, session, page, viewer, errors)


@router.post("/pools/{year}/{area}/reopen", response_class=HTMLResponse)
def reopen(
    request: Request,
    year: str,
    area: str,
    session: DbSession,
    viewer: Writer,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Reopen a settled year, with the reason, so it takes entries again (the settlement is
    reversed and the reopening recorded)."""
    page = forms.load_pool(session, year, area, viewer)
    errors = PageErrors()
    chosen = forms.text(form, "financial_year", 10) or None
    reason = forms.text(form, "reason", 500)
    if not reason:
        errors.add("Say why the settled year is reopened", "reason")
        return _periods_page(request, session, page, viewer, errors)
    pool = page.pool
    result = attempt(
        session,
        errors,
        lambda: ledger_settle.reopen(session, pool, viewer, reason, chosen),
        "reason",
        subject="pool",
    )
    if result is None:
        return _periods_page(request, session, page, viewer, errors)
    what = f"reopened settled {result.financial_year}: {reason}"
    ledger.mark_national_change(session, pool, viewer, what)
    flash(
        request,
        f"{result.financial_year} reopened: its settlement is reversed and entries can be dated "
        "in it again; settle it again when its books are complete",
    )
    return RedirectResponse(f"{page.base}/periods#settlement", status_code=303)


# ---------------------------------------------------------------------------------------
# Quarterly returns


def _return_pool(session: Session, year: str, area: str, viewer: Principal) -> forms.PoolPage:
    """The pool for its returns: the area's signatories may read these, not the books."""
    check_year(year)
    pool = returns.pool_of(session, year, area, viewer)
    geo = year_geography(session, year)
    return forms.PoolPage(geo, geo.area(area), pool)


def _return_page(
    request: Request,
    session: Session,
    page: forms.PoolPage,
    quarter: Quarter,
    viewer: Principal,
    errors: PageErrors | None = None,
    posted: dict[str, str] | None = None,
) -> Response:
    shown = returns.view(session, page.pool, quarter, actuals=_actuals(request))
    area = page.area.code
    content = shown.content
    context = {
        "shown": shown,
        "content": content,
        "quarter": quarter,
        "groups": _groups(list(content.expenditure)),
        "income_totals": content.income_totals,
        "timeline": returns.timeline_of(shown.events),
        "action_label": lambda action: ReturnAction(action).label,
        "may_narrate": shown.status in EDITABLE and viewer.has_area(Role.POOL_FINANCE, area),
        "may_submit": may(shown.status, ReturnAction.SUBMIT, viewer, area),
        "may_sign": may(shown.status, ReturnAction.SIGN_OFF, viewer, area),
        "quarter_ended": quarter.period.end < _today(),
        "errors": errors or PageErrors(),
        "posted": posted or {},
    }
    status = errors.status if errors else 200
    return _show(request, "pool_return.html", page, viewer, context, status)


def _actuals(request: Request) -> returns.ActualsReader:
    """The application's reader of stored metric values, for the return's actuals."""
    reader: returns.ActualsReader = request.app.state.metric_actuals
    return reader


def _shown_return(
    request: Request, session: Session, year: str, area: str, quarter: str, viewer: Principal
) -> returns.ReturnView:
    page = _return_pool(session, year, area, viewer)
    chosen = returns.quarter_of(page.pool, quarter)
    return returns.view(session, page.pool, chosen, actuals=_actuals(request))


@router.get("/pools/{year}/{area}/returns/{quarter}.xlsx")
def return_workbook(
    request: Request,
    year: str,
    area: str,
    quarter: str,
    session: DbSession,
    viewer: SignedInViewer,
) -> Response:
    shown = _shown_return(request, session, year, area, quarter, viewer)
    buffer = io.BytesIO()
    returns.write_workbook(shown, buffer)
    name = f"carepool-return-{area}-{shown.quarter.slug}.xlsx"
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/pools/{year}/{area}/returns/{quarter}.json")
def return_json(
    request: Request,
    year: str,
    area: str,
    quarter: str,
    session: DbSession,
    viewer: SignedInViewer,
) -> Response:
    shown = _shown_return(request, session, year, area, quarter, viewer)
    name = f"carepool-return-{area}-{shown.quarter.slug}.json"
    return Response(
        json.dumps(ReturnReport.of(shown).model_dump(mode="json"), indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/pools/{year}/{area}/returns/{quarter}", response_class=HTMLResponse)
def quarterly_return(
    request: Request,
    year: str,
    area: str,
    quarter: str,
    session: DbSession,
    viewer: SignedInViewer,
) -> Response:
    page = _return_pool(session, year, area, viewer)
    return _return_page(request, session, page, returns.quarter_of(page.pool, quarter), viewer)


@router.post("/pools/{year}/{area}/returns/{quarter}/narrative", response_class=HTMLResponse)
def save_narrative(
    request: Request,
    year: str,
    area: str,
    quarter: str,
    session: DbSession,
    viewer: FinanceOfficer,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    page = _return_pool(session, year, area, viewer)
    chosen = returns.quarter_of(page.pool, quarter)
    narrative = forms.text(form, "narrative", returns.MAX_NARRATIVE + 1)
    errors = PageErrors()
    pool, lock = page.pool, forms.lock_of(form)

    def step() -> object:
        return returns.save_narrative(session, pool, chosen, narrative, viewer, lock)

    saved = attempt(session, errors, step, "narrative", subject="return")
    if saved is not None:
        flash(request, "The narrative has been saved")
        return RedirectResponse(f"{page.base}/returns/{chosen.slug}#narrative", 303)
    return _return_page(request, session, page, chosen, viewer, errors, {"narrative": narrative})


def _step(
    request: Request,
    session: Session,
    page: forms.PoolPage,
    quarter: Quarter,
    action: ReturnAction,
    viewer: Principal,
    form: FormData,
) -> Response:
    """One sign-off step; a refusal is shown on the return page with the reason."""
    comment = forms.text(form, "comment")
    errors = PageErrors()
    if action is ReturnAction.SEND_BACK and not comment:
        errors.add("Say why the return is being sent back", "comment")
    else:
        pool, lock, actuals = page.pool, forms.lock_of(form), _actuals(request)

        def step() -> ReturnRow:
            return returns.act(
                session, pool, quarter, action, viewer, comment, lock, actuals=actuals
            )

        field_id = "submit" if action is ReturnAction.SUBMIT else "comment"
        done = attempt(session, errors, step, field_id, subject="return")
        if done is not None:
            flash(request, f"{action.label}: the return is now {done.status.lower()}")
            return RedirectResponse(f"{page.base}/returns/{quarter.slug}", 303)
    return _return_page(request, session, page, quarter, viewer, errors, {"comment": comment})


@router.post("/pools/{year}/{area}/returns/{quarter}/submit", response_class=HTMLResponse)
def submit_return(
    request: Request,
    year: str,
    area: str,
    quarter: str,
    session: DbSession,
    viewer: FinanceOfficer,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    page = _return_pool(session, year, area, viewer)
    chosen = returns.quarter_of(page.pool, quarter)
    return _step(request, session, page, chosen, ReturnAction.SUBMIT, viewer, form)


@router.post("/pools/{year}/{area}/returns/{quarter}/decision", response_class=HTMLResponse)
def decide_return(
    request: Request,
    year: str,
    area: str,
    quarter: str,
    session: DbSession,
    viewer: Signatory,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """The board's signatory signs the return off, or sends it back with a reason."""
    page = _return_pool(session, year, area, viewer)
    chosen = returns.quarter_of(page.pool, quarter)
    decision = forms.text(form, "decision", 20)
    action = ReturnAction.SEND_BACK if decision == "send_back" else ReturnAction.SIGN_OFF
    return _step(request, session, page, chosen, action, viewer, form)
