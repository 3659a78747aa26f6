"""``carepool payments``: payment for performance, quarter by quarter.

``run`` drafts a quarter's run from the stored plans and metric values; ``check``, ``approve``
and ``pay`` take it through the national team's steps (``pay`` posts it into every pool);
``status`` shows where each area's payments stand and ``explain`` why an amount is what it is.
The command line acts as the ``system`` national administrator, so one person can take every
step on their own machine; on the web each step needs a second person.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from carepool.accounts import service as accounts
from carepool.cli.common import JsonFlag, YearOption, emit, err, out, work
from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.money import format_money, parse_money
from carepool.domain.payment import RevisionAction, RunAction
from carepool.domain.roles import SYSTEM
from carepool.payments.schemas import (
    ExplanationOut,
    RevisionOut,
    RunDrafted,
    RunOut,
    RunPaid,
    StatusOut,
    WhatIfOut,
)
from carepool.payments.service import ambitions
from carepool.payments.service import explain as explanations
from carepool.payments.service import runs as payments
from carepool.payments.service import status as standing

payments_app = typer.Typer(
    help="Payment for performance: run, check, approve, pay and explain each quarter.",
    no_args_is_help=True,
)


class QuarterName(StrEnum):
    Q1 = "Q1"
    Q2 = "Q2"
    Q3 = "Q3"
    Q4 = "Q4"

    @property
    def number(self) -> int:
        return int(self.value[1])


QuarterOption = Annotated[QuarterName, typer.Option("--quarter", "-q", help="Q1 to Q4.")]


@payments_app.command("run")
def run(
    quarter: QuarterOption,
    year: YearOption = "2015-16",
    data_vintage: Annotated[
        str | None,
        typer.Option(help="Metric data vintage to pay on (default: the latest computed)."),
    ] = None,
    final: Annotated[
        bool, typer.Option("--final", help="The data vintage is final, not provisional.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Draft the quarter's payment run for every area with a pool."""
    with work() as session:
        outcome = payments.draft(
            session, year, quarter.number, SYSTEM, data_vintage=data_vintage, final=final
        )
        report = RunDrafted.of(outcome)
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    _print_run(report.run)
    if not report.created:
        err.print("The same inputs give this run again; nothing changed")
    if report.missing:
        err.print(f"No measured value, so no payment line, for: {', '.join(report.missing)}")
    for change in report.true_ups:
        err.print(
            f"  true-up {change.area_code}: released "
            f"{format_money(change.released_before_pence)} → "
            f"{format_money(change.released_after_pence)}"
        )


def _move(year: str, quarter: QuarterName, action: RunAction, comment: str, as_json: bool) -> None:
    with work() as session:
        run_row = payments.run_in_play(session, year, quarter.number)
        payments.move(session, run_row, action, SYSTEM, comment)
        report = RunOut.of(run_row)
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    _print_run(report)


@payments_app.command("check")
def check(quarter: QuarterOption, year: YearOption = "2015-16", as_json: JsonFlag = False) -> None:
    """Record that the quarter's drafted run has been checked."""
    _move(year, quarter, RunAction.CHECK, "", as_json)


@payments_app.command("approve")
def approve(
    quarter: QuarterOption, year: YearOption = "2015-16", as_json: JsonFlag = False
) -> None:
    """Approve the quarter's checked run for payment."""
    _move(year, quarter, RunAction.APPROVE, "", as_json)


@payments_app.command("send-back")
def send_back(
    quarter: QuarterOption,
    reason: Annotated[str, typer.Option(help="Why the run goes back to draft.")],
    year: YearOption = "2015-16",
    as_json: JsonFlag = False,
) -> None:
    """Send the quarter's checked or approved run back to draft, saying why."""
    _move(year, quarter, RunAction.SEND_BACK, reason, as_json)


@payments_app.command("pay")
def pay(quarter: QuarterOption, year: YearOption = "2015-16", as_json: JsonFlag = False) -> None:
    """Pay the quarter's approved run: post every line into its area's pool, all or nothing."""
    with work() as session:
        outcome = payments.pay(session, payments.run_in_play(session, year, quarter.number), SYSTEM)
        report = RunPaid.of(outcome)
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    _print_run(report.run)
    if report.already:
        err.print("This run was already paid; nothing was posted again")
    else:
        entries = sum(len(ids) for ids in report.entries.values())
        err.print(f"Posted {entries:,} entries into {len(report.entries)} pools")
    if report.trued_up:
        err.print(f"Trued up {report.trued_up}")


@payments_app.command("status")
def status(
    year: YearOption = "2015-16",
    quarter: Annotated[
        QuarterName | None, typer.Option("--quarter", "-q", help="Q1 to Q4 (default: all).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Where each area's payments stand, quarter by quarter, with the national totals."""
    with work() as session:
        rows = standing.status(session, year, quarter.number if quarter else None)
        report = StatusOut.of(year, rows)
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    table = Table(title=f"Payment for performance, {year}")
    for name in ("Area", "Quarter", "Baseline", "Plan", "Actual", "Pot", "Released", "Retained"):
        table.add_column(name, justify="left" if name in ("Area", "Quarter") else "right")
    table.add_column("Status")
    for p in report.payments:
        table.add_row(
            p.area_code,
            p.quarter,
            p.baseline,
            p.plan,
            p.actual or "—",
            format_money(p.pot_pence),
            format_money(p.released_pence),
            format_money(p.retained_pence),
            p.status.replace("_", " ") + ("" if p.final else " (provisional)"),
        )
    out.print(table)
    totals = report.totals
    err.print(
        f"Pot {format_money(totals.pot_pence)}: released {format_money(totals.released_pence)}, "
        f"retained {format_money(totals.retained_pence)}"
    )


@payments_app.command("explain")
def explain(
    area: str,
    quarter: QuarterName,
    year: YearOption = "2015-16",
    as_json: JsonFlag = False,
) -> None:
    """Why an area's payment for a quarter is what it is, from framework to ledger."""
    with work() as session:
        report = ExplanationOut.of(explanations.explain(session, year, area, quarter.number))
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    p = report.payment
    out.print(f"{area}, {report.quarter} ({report.run}, {report.run_status})")
    out.print(
        f"  framework {report.framework_sha256[:12]} ({report.design_kind}): "
        f"{', '.join(f'{k} {v}' for k, v in report.parameters.items())}"
    )
    out.print(f"  plan version {report.plan_version}: baseline {p.baseline}, plan {p.plan}")
    for step in report.plan_steps:
        out.print(f"    {step.at[:10]} {step.action} by {step.actor} ({step.detail})")
    out.print(
        f"  {report.metric} v{report.metric_definition_version}, data vintage "
        f"{report.data_vintage[:12]}: {report.numerator} admissions"
    )
    out.print(f"  {report.working}")
    for entry in report.ledger_entries:
        out.print(f"  entry {entry.id} {entry.date} {entry.narration}")
    out.print(
        "  recomputed from the stored inputs: "
        + ("the same pence" if report.reproduced else "DIFFERENT pence — investigate")
    )


@payments_app.command("what-if")
def what_if(
    area: str,
    quarter: QuarterName,
    year: YearOption = "2015-16",
    ambition: Annotated[
        str | None, typer.Option(help="Try this ambition (admissions in the quarter).")
    ] = None,
    unit_cost: Annotated[
        str | None, typer.Option(help="Try this cost of an admission, e.g. £1,600.")
    ] = None,
    expected: Annotated[
        str | None,
        typer.Option(help="Admissions expected in the quarter (default: the ambition met)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The pot an ambition gives, and the earnings the area's own variation makes likely."""
    with work() as session:
        found = ambitions.what_if(
            session,
            year,
            area,
            quarter.number,
            SYSTEM,
            ambition=_quantity(ambition, "--ambition"),
            unit_cost_pence=None if unit_cost is None else parse_money(unit_cost),
            expected=_quantity(expected, "--expected"),
        )
        report = WhatIfOut.of(found)
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    o = report
    out.print(
        f"{area} {o.quarter}: baseline {o.baseline}, ambition {o.ambition} (in force "
        f"{o.ambition_in_force}) at {format_money(o.unit_cost_pence)} an admission"
    )
    out.print(f"  pot {format_money(o.pot_pence)}")
    out.print(
        f"  likely earnings: P10 {format_money(o.p10_pence)}, P50 {format_money(o.p50_pence)}, "
        f"P90 {format_money(o.p90_pence)}; chance of earning anything {o.chance_of_any}"
    )
    out.print(
        "  credible: the ambition is within the area's natural variation"
        if o.credible
        else f"  NOT credible: below the area's lower process limit ({o.lower_limit})"
    )


def _quantity(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        found = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise CarepoolError(f"{option}: {text!r} is not a number of admissions") from None
    if not found.is_finite() or found < 0:
        raise CarepoolError(f"{option}: {text!r} is not a number of admissions")
    return found


@payments_app.command("revise")
def revise(
    area: str,
    quarters: Annotated[
        str, typer.Option(help="The four revised quarterly ambitions, e.g. 1000,990,985,980.")
    ],
    reason: Annotated[str, typer.Option(help="Why the ambition is revised.")],
    year: YearOption = "2015-16",
    baseline: Annotated[
        str | None, typer.Option(help="A revised quarterly baseline, if it changes.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose a revised ambition; it takes effect once both national approvers approve."""
    figures = tuple(_quantity(q, "--quarters") for q in quarters.split(","))
    values = tuple(q for q in figures if q is not None)
    with work() as session:
        found = ambitions.propose(
            session, year, area, values, reason, SYSTEM, _quantity(baseline, "--baseline")
        )
        report = RevisionOut.of(found)
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    err.print(
        f"Revision {report.id} of {area}'s ambition proposed: {', '.join(report.quarters)}; "
        "it takes effect once both national approvers have approved it"
    )


@payments_app.command("decide")
def decide(
    revision: int,
    decision: Annotated[RevisionAction, typer.Argument(help="approve or reject")],
    username: Annotated[
        str, typer.Option("--as", help="The national approver deciding (a local account).")
    ],
    comment: Annotated[str, typer.Option(help="Why (required to reject).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """A national approver approves or rejects a proposed revision of an ambition."""
    with work() as session:
        actor = accounts.find_user(session, username)
        if actor is None:
            raise NotFound(f"there is no account {username!r}")
        found = ambitions.decide(
            session, ambitions.find_revision(session, revision), decision, actor, comment
        )
        report = RevisionOut.of(found)
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    approvers = ", ".join(report.approvals) or "no one yet"
    err.print(f"Revision {report.id}: {report.status} (approved by {approvers})")


def _print_run(run: RunOut) -> None:
    totals = run.totals
    err.print(
        f"{run.label}: {run.status}, {run.areas} areas, data vintage {run.data_vintage[:12]}"
        f"{'' if run.final else ' (provisional)'}; pot {format_money(totals.pot_pence)}, "
        f"released {format_money(totals.released_pence)}, "
        f"retained {format_money(totals.retained_pence)}"
    )
