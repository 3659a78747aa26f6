"""The quarterly return: every figure is the ledger's, and its sign-off follows the rules.

The return is built, never typed: its spend is what is posted to the schemes' accounts, its
income what fell due and what was received, its budget the plan's. Submitting freezes the
figures; only the Health and Wellbeing Board's signatory signs off or sends back; the workbook
download holds the same figures to the penny.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from decimal import Decimal

import openpyxl
import pytest
from ledger_helpers import YEAR, Area, WriteSpend, finance, spend_rows, the_pool
from pydantic import ValidationError

from carepool.domain.direction import Direction, meets
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, StateTransitionError
from carepool.domain.framework import MetricUse
from carepool.domain.ledger import Accounts, EntryKind, Light
from carepool.domain.metric import Measure, round_half_even
from carepool.domain.metric_catalogue import definition
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.periods import parse_quarter
from carepool.domain.plan import Ambition, PlanContent
from carepool.domain.quarterly_return import (
    NO_DATA,
    WITHHELD,
    Instalment,
    InstalmentStatus,
    MetricActual,
    QuarterlyReturn,
    ReturnAction,
    ReturnStatus,
    check_move,
    metric_lines,
)
from carepool.domain.roles import SYSTEM, Principal, principal
from carepool.metrics.service.actuals import quarter_actuals
from carepool.metrics.service.results import save_results
from carepool.pools.files.return_workbook import MONEY_FORMAT, SHEETS
from carepool.pools.repository import ledger as repo
from carepool.pools.schemas import ReturnReport
from carepool.pools.service import ledger, returns
from carepool.store.db import unit_of_work


def chair(area: str) -> Principal:
    return principal("chair", "Chair of the board", [f"area_signatory:{area}:HWB"])


# --------------------------------------------------------------------------------------------
# Quarters, instalments and the workflow table (pure)


def test_a_quarter_is_read_from_its_label_or_its_web_form() -> None:
    q2 = parse_quarter("2015-16 Q2")
    assert parse_quarter("2015-16-Q2") == parse_quarter("2015-16-q2") == q2
    assert (q2.period.start, q2.period.end) == (dt.date(2015, 7, 1), dt.date(2015, 9, 30))
    assert (q2.label, q2.slug, q2.index) == ("2015-16 Q2", "2015-16-Q2", 1)
    for wrong in ("2015-17 Q2", "2015-16 Q5", "Q2", "2015-16"):
        with pytest.raises(CarepoolError):
            parse_quarter(wrong)


DUE = dt.date(2015, 7, 1)


@pytest.mark.parametrize(
    ("payments", "as_at", "status"),
    [
        ((), dt.date(2015, 6, 30), InstalmentStatus.NOT_DUE),
        ((), dt.date(2015, 7, 20), InstalmentStatus.AWAITING),
        ((), dt.date(2015, 8, 20), InstalmentStatus.OVERDUE),
        (((dt.date(2015, 7, 10), 1000),), dt.date(2015, 9, 30), InstalmentStatus.PAID),
        (((dt.date(2015, 8, 10), 1000),), dt.date(2015, 9, 30), InstalmentStatus.PAID_LATE),
        (((dt.date(2015, 7, 10), 900),), dt.date(2015, 7, 20), InstalmentStatus.AWAITING),
        (((dt.date(2015, 7, 10), 900),), dt.date(2015, 9, 30), InstalmentStatus.SHORT),
        (((dt.date(2015, 10, 5), 1000),), dt.date(2015, 9, 30), InstalmentStatus.OVERDUE),
        (
            ((dt.date(2015, 7, 5), 1000), (dt.date(2015, 7, 9), -1000)),
            dt.date(2015, 9, 30),
            InstalmentStatus.OVERDUE,
        ),
    ],
)
def test_an_instalment_is_paid_late_short_or_overdue_after_30_days(
    payments: tuple[tuple[dt.date, int], ...], as_at: dt.date, status: InstalmentStatus
) -> None:
    instalment = Instalment("P", "Partner", "ccg_minimum", YEAR, 2, 4, DUE, 1000, payments)
    assert instalment.status(as_at) is status
    assert status.flagged == (status in {"Paid late", "Paid short", "Overdue"})


S = ReturnStatus
A = ReturnAction


@pytest.mark.parametrize(
    ("status", "action", "who", "outcome"),
    [
        (S.DRAFT, A.SUBMIT, "finance", S.SUBMITTED),
        (S.SENT_BACK, A.SUBMIT, "finance", S.SUBMITTED),
        (S.SUBMITTED, A.SIGN_OFF, "chair", S.SIGNED_OFF),
        (S.SUBMITTED, A.SEND_BACK, "chair", S.SENT_BACK),
        (S.SUBMITTED, A.SUBMIT, "finance", StateTransitionError),
        (S.SIGNED_OFF, A.SEND_BACK, "chair", StateTransitionError),
        (S.DRAFT, A.SIGN_OFF, "chair", StateTransitionError),
        (S.SUBMITTED, A.SIGN_OFF, "finance", Forbidden),
        (S.SUBMITTED, A.SIGN_OFF, "partner", Forbidden),
        (S.SUBMITTED, A.SIGN_OFF, "other chair", Forbidden),
        (S.DRAFT, A.SUBMIT, "national", Forbidden),
        (S.DRAFT, A.START, "finance", StateTransitionError),
    ],
)
def test_the_sign_off_table(
    status: ReturnStatus, action: ReturnAction, who: str, outcome: object
) -> None:
    people = {
        "finance": finance("E1"),
        "chair": chair("E1"),
        "partner": principal("p", "P", ["area_signatory:E1:E38000001"]),
        "other chair": chair("E2"),
        "national": principal("n", "N", ["national_admin"]),
    }
    if isinstance(outcome, ReturnStatus):
        assert check_move(status, action, people[who], "E1").target is outcome
    else:
        with pytest.raises(outcome):  # type: ignore[call-overload]
            check_move(status, action, people[who], "E1")


# --------------------------------------------------------------------------------------------
# The figures are the ledger's


def _year_of_books(pool_area: Area, write_spend: WriteSpend) -> None:
    """Spend through the year, and the first two instalments paid (one a month late)."""
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        schemes = [s.ref for s in ledger.plan_content(session, pool).schemes]
        ledger.import_spend(
            session,
            pool,
            write_spend("year.csv", spend_rows(120, schemes)),
            finance(pool.area_code),
        )
        dues = repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE)
        for stored in dues:
            if stored.entry.date <= dt.date(2015, 7, 1):
                late = stored.entry.date == dt.date(2015, 7, 1)
                paid = stored.entry.date + dt.timedelta(days=45 if late else 5)
                partner, stream = stored.entry.source["partner"], stored.entry.source["stream"]
                ledger.record_receipt(
                    session, pool, str(partner), str(stream), stored.entry.postings[0].amount,
                    paid, f"BACS-{stored.id}", finance(pool.area_code),
                )  # fmt: skip


def test_the_returns_figures_are_the_ledgers(pool_area: Area, write_spend: WriteSpend) -> None:
    _year_of_books(pool_area, write_spend)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        q2 = returns.quarter_of(pool, "2015-16 Q2")
        content = returns.build(session, pool, q2, actuals=quarter_actuals)
        in_quarter = repo.posting_totals(
            session, pool.id, since=q2.period.start, until=q2.period.end
        )
        to_date = repo.posting_totals(session, pool.id, until=q2.period.end)
        plan = ledger.plan_content(session, pool)

    schemes = content.lines("scheme")
    assert [line.key for line in schemes] == [s.ref for s in plan.schemes]
    for line, scheme in zip(schemes, plan.schemes, strict=True):
        account = Accounts.scheme(scheme.ref)
        assert line.annual_budget == scheme.planned_spend
        assert line.actual_quarter == in_quarter.get(account, 0)
        assert line.actual_to_date == to_date.get(account, 0)
    spent = sum(v for k, v in to_date.items() if k.startswith("Expenses:Scheme:"))
    assert content.total.actual_to_date == spent
    assert content.total.annual_budget == sum(s.planned_spend for s in plan.schemes)
    for group in ("area_of_spend", "funding_stream"):
        assert sum(x.actual_to_date for x in content.lines(group)) == spent

    income = content.income_totals
    contributions = -sum(v for k, v in to_date.items() if k.startswith("Income:Contribution:"))
    assert income["due_to_date"] == contributions
    owed = sum(v for k, v in to_date.items() if k.startswith("Assets:Receivable:"))
    assert income["received_to_date"] == contributions - owed
    assert income["annual"] == plan.pooled()
    assert sum(line.flagged_instalments for line in content.income) == len(content.income)
    assert all(m.actual is None and m.actual_note == "no data" for m in content.metrics), (
        "no metric values are stored, so every actual says so"
    )
    assert all(m.met is None and m.data_vintage is None for m in content.metrics)
    assert content.arrangements.in_place and content.arrangements.pool_manager == "A. Patel"
    assert QuarterlyReturn.model_validate(content.as_dict()) == content


def test_a_return_whose_lines_do_not_add_up_cannot_exist(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    _year_of_books(pool_area, write_spend)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        content = returns.build(
            session, pool, returns.quarter_of(pool, "2015-16 Q3"), actuals=quarter_actuals
        )
    shape = content.as_dict()
    first = next(x for x in shape["expenditure"] if x["group"] == "scheme")
    first["actual_to_date"] += 1
    with pytest.raises(ValidationError, match="do not add up"):
        QuarterlyReturn.model_validate(shape)
    floating = content.as_dict()
    floating["expenditure"][0]["forecast"] = 1.5
    with pytest.raises(ValidationError, match="valid integer"):
        QuarterlyReturn.model_validate(floating)


# --------------------------------------------------------------------------------------------
# The metrics are the stored values


NEA, DTOC, CARE_HOMES, REABLEMENT = (
    "non_elective_admissions",
    "delayed_transfers_of_care",
    "care_home_admissions_65_plus",
    "reablement_91_days",
)


def _use(metric: str, direction: Direction) -> MetricUse:
    return MetricUse(
        metric=metric, label=metric.upper(), name=metric, direction=direction, measure="count"
    )


def test_an_ambition_is_met_in_the_metrics_better_direction() -> None:
    """Lower is better for admissions and higher for reablement, so 95 meets an ambition of
    100 in one and misses it in the other; the same value on the ambition meets it either
    way. A metric with no ambition is not judged; no stored value is "no data" and a
    withheld one says so."""
    ambitions = tuple(
        Ambition(metric=m, baseline=Decimal(110), quarters=(Decimal(100),) * 4)
        for m in ("lower", "higher", "on_lower", "on_higher", "withheld", "missing")
    )
    plan = PlanContent(ambitions=ambitions)
    uses = [
        _use("lower", Direction.LOWER_IS_BETTER),
        _use("higher", Direction.HIGHER_IS_BETTER),
        _use("on_lower", Direction.LOWER_IS_BETTER),
        _use("on_higher", Direction.HIGHER_IS_BETTER),
        _use("unplanned", Direction.LOWER_IS_BETTER),
        _use("withheld", Direction.LOWER_IS_BETTER),
        _use("missing", Direction.LOWER_IS_BETTER),
    ]

    def actual(metric: str, value: str | None) -> MetricActual:
        return MetricActual(metric, None if value is None else Decimal(value), 3, "extract-1")

    stored = {
        "lower": actual("lower", "95"),
        "higher": actual("higher", "95"),
        "on_lower": actual("on_lower", "100"),
        "on_higher": actual("on_higher", "100.0"),
        "unplanned": actual("unplanned", "95"),
        "withheld": actual("withheld", None),
    }
    lines = {m.metric: m for m in metric_lines(uses, plan, parse_quarter("2015-16 Q3"), stored)}
    verdicts = {metric: (line.met, line.verdict) for metric, line in lines.items()}
    assert verdicts == {
        "lower": (True, "Met"),
        "higher": (False, "Not met"),
        "on_lower": (True, "Met"),
        "on_higher": (True, "Met"),
        "unplanned": (None, "No ambition set"),
        "withheld": (None, WITHHELD),
        "missing": (None, NO_DATA),
    }
    assert (lines["lower"].actual, lines["lower"].planned) == (Decimal(95), Decimal(100))
    assert (lines["lower"].definition_version, lines["lower"].data_vintage) == (3, "extract-1")
    assert (lines["withheld"].actual, lines["withheld"].data_vintage) == (None, "extract-1")
    assert (lines["missing"].definition_version, lines["missing"].data_vintage) == (None, None)


@pytest.mark.parametrize(
    ("direction", "value", "met"),
    [
        (Direction.LOWER_IS_BETTER, "99.9", True),
        (Direction.LOWER_IS_BETTER, "100.1", False),
        (Direction.HIGHER_IS_BETTER, "100.1", True),
        (Direction.HIGHER_IS_BETTER, "99.9", False),
        (Direction.NEITHER, "99.9", None),
    ],
)
def test_meeting_a_target_follows_the_direction(
    direction: Direction, value: str, met: bool | None
) -> None:
    assert meets(direction, Decimal(value), Decimal(100)) is met
    assert meets(direction.value, Decimal(value), Decimal(100)) is met


def _stored(metric: str, area: str, period: str, numerator: int, denominator: int) -> MetricValue:
    """A quarter's value as an engine computes it (a count's value is its numerator)."""
    found = definition(metric)
    if found.measure is Measure.COUNT:
        value = Decimal(numerator)
    else:
        scale = 100 if found.measure is Measure.PERCENTAGE else 100_000
        value = round_half_even(numerator * scale, denominator, found.decimal_places)
    return MetricValue(
        metric, found.version, area, period, Grain.QUARTER, numerator, denominator, value
    )


def test_the_returns_actuals_are_the_stored_values_for_its_area_and_quarter(
    pool_area: Area,
) -> None:
    """Q2's actuals are the values stored for the area's Q2, from the latest data vintage,
    published as a board's papers are: admissions under the ambition meet it (the count
    rounded to 5), reablement under its ambition misses it, a rate counting 5 admissions is
    withheld, and a metric with a value only for Q1 or only for another area, or one
    carepool does not compute, has "no data"."""
    area = pool_area.code
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        q2 = returns.quarter_of(pool, "2015-16 Q2")
        planned = {a.metric: a.quarters[1] for a in ledger.plan_content(session, pool).ambitions}
        below = int(planned[NEA] or 0) // 5 * 5 - 8  # published as the multiple of 5 under it
        values = [
            _stored(NEA, area, "2015-16 Q2", below, 250_000),
            _stored(REABLEMENT, area, "2015-16 Q2", 60, 100),  # 60.0%, under ~82%
            _stored(CARE_HOMES, area, "2015-16 Q2", 5, 40_000),
            _stored(DTOC, area, "2015-16 Q1", 900, 200_000),
            _stored(DTOC, "E99999998", "2015-16 Q2", 900, 200_000),
        ]
        save_results(session, values, SYSTEM, engine="reference", data_vintage="extract-2015-q2")
        content = returns.build(session, pool, q2, actuals=quarter_actuals)
    lines = {m.metric: m for m in content.metrics}
    assert (lines[NEA].actual, lines[NEA].met) == (Decimal(below - 2), True)
    assert (lines[NEA].planned, lines[NEA].data_vintage) == (planned[NEA], "extract-2015-q2")
    assert lines[NEA].definition_version == definition(NEA).version
    assert (lines[REABLEMENT].actual, lines[REABLEMENT].met) == (Decimal("60.0"), False)
    assert (lines[CARE_HOMES].actual, lines[CARE_HOMES].actual_note) == (None, WITHHELD)
    for metric in (DTOC, "patient_experience", "local_metric"):
        assert (lines[metric].actual, lines[metric].actual_note) == (None, NO_DATA), metric
    assert QuarterlyReturn.model_validate(content.as_dict()) == content
    shape = content.as_dict()["metrics"][0]
    assert (shape["actual"], shape["met"], shape["data_vintage"]) == (
        str(below - 2),
        True,
        "extract-2015-q2",
    )


def test_a_quarter_the_data_cover_only_in_part_has_no_actual(pool_area: Area) -> None:
    """An extract ending in August gives a Q2 of July and August only: not the quarter's."""
    area = pool_area.code
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        part = replace(_stored(NEA, area, "2015-16 Q2", 3_000, 250_000), complete=False)
        save_results(session, [part], SYSTEM, engine="reference", data_vintage="to-2015-08")
        content = returns.build(
            session, pool, returns.quarter_of(pool, "2015-16 Q2"), actuals=quarter_actuals
        )
    line = next(m for m in content.metrics if m.metric == NEA)
    assert (line.actual, line.actual_note, line.met) == (None, NO_DATA, None)


def test_a_new_data_vintage_moves_a_submitted_returns_figures(pool_area: Area) -> None:
    """The board signs the actuals as submitted; a later vintage changes the live figures,
    so the page says the figures moved, and shows the submitted ones."""
    area = pool_area.code
    officer = finance(area)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        q1 = returns.quarter_of(pool, "2015-16 Q1")
        first = [_stored(NEA, area, "2015-16 Q1", 5_000, 250_000)]
        save_results(session, first, SYSTEM, engine="reference", data_vintage="extract-1")
        returns.save_narrative(session, pool, q1, "Admissions above plan.", officer)
        returns.act(session, pool, q1, A.SUBMIT, officer, actuals=quarter_actuals)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        later = [_stored(NEA, area, "2015-16 Q1", 4_990, 250_000)]
        save_results(session, later, SYSTEM, engine="reference", data_vintage="extract-2")
        shown = returns.view(session, pool, q1, actuals=quarter_actuals)
    submitted = next(m for m in shown.content.metrics if m.metric == NEA)
    assert shown.moved_since
    assert (submitted.actual, submitted.data_vintage) == (Decimal(5_000), "extract-1")


# --------------------------------------------------------------------------------------------
# Sign-off


def test_a_return_moves_through_sign_off_and_keeps_what_was_submitted(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    _year_of_books(pool_area, write_spend)
    area = pool_area.code
    officer, board = finance(area), chair(area)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        q2 = returns.quarter_of(pool, "2015-16-Q2")
        with pytest.raises(CarepoolError, match="write the narrative"):
            returns.act(session, pool, q2, A.SUBMIT, officer, actuals=quarter_actuals)
        with pytest.raises(Forbidden):
            returns.save_narrative(session, pool, q2, "By the chair", board)
        returns.save_narrative(session, pool, q2, "Spend on track; one CCG paid late.", officer)
        with pytest.raises(StateTransitionError):
            returns.act(session, pool, q2, A.SIGN_OFF, board, actuals=quarter_actuals)
        row = returns.act(session, pool, q2, A.SUBMIT, officer, actuals=quarter_actuals)
        assert row.status == S.SUBMITTED and row.content_sha256
        submitted = returns.view(session, pool, q2, actuals=quarter_actuals)

    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        with pytest.raises(Conflict, match="can no longer change"):
            returns.save_narrative(session, pool, q2, "Changed my mind", officer)
        with pytest.raises(Forbidden):
            returns.act(session, pool, q2, A.SIGN_OFF, officer, actuals=quarter_actuals)
        with pytest.raises(CarepoolError, match="comment is required"):
            returns.act(session, pool, q2, A.SEND_BACK, board, "  ", actuals=quarter_actuals)
        stale = submitted.lock_version
        returns.act(
            session,
            pool,
            q2,
            A.SEND_BACK,
            board,
            "Explain the late payment",
            stale,
            actuals=quarter_actuals,
        )
        with pytest.raises(Conflict, match="changed since you opened it"):
            returns.act(
                session, pool, q2, A.SUBMIT, officer, expected_lock=stale, actuals=quarter_actuals
            )
        returns.save_narrative(session, pool, q2, "The CCG has since paid in full.", officer)
        returns.act(session, pool, q2, A.SUBMIT, officer, actuals=quarter_actuals)
        returns.act(session, pool, q2, A.SIGN_OFF, board, "Agreed", actuals=quarter_actuals)
        with pytest.raises(StateTransitionError):
            returns.act(session, pool, q2, A.SUBMIT, officer, actuals=quarter_actuals)

    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        shown = returns.view(session, pool, q2, actuals=quarter_actuals)
        assert shown.status is S.SIGNED_OFF and shown.frozen and not shown.moved_since
        steps = [(e.action, e.to_status, e.actor) for e in shown.events]
        assert steps == [
            ("start", "Draft", "finance"),
            ("submit", "Submitted", "finance"),
            ("send_back", "Sent back", "chair"),
            ("submit", "Submitted", "finance"),
            ("sign_off", "Signed off", "chair"),
        ]
        assert shown.events[-1].content_sha256 == shown.events[-2].content_sha256
        assert shown.events[-1].content_sha256 == returns.digest(shown.content)
        assert shown.content.narrative == "The CCG has since paid in full."
        frozen_total = shown.content.total.actual_quarter
        ledger.import_spend(
            session, pool,
            write_spend("late.csv", [("2015-09-30", "S1", "Late Ltd", "1000.00", "LATE-1")]),
            officer,
        )  # fmt: skip

    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        after = returns.view(session, pool, q2, actuals=quarter_actuals)
        assert after.moved_since, "the page must say the books moved after submission"
        assert after.content.total.actual_quarter == frozen_total
        assert (
            returns.build(session, pool, q2, actuals=quarter_actuals).total.actual_quarter
            == frozen_total + 100_000
        )
        report = ReturnReport.of(after).model_dump(mode="json")
        assert report["ledger_moved_since_submission"] and report["status"] == "Signed off"


def test_only_the_pools_people_and_its_board_read_its_returns(pool_area: Area) -> None:
    area = pool_area.code
    with unit_of_work(pool_area.engine) as session:
        assert returns.pool_of(session, YEAR, area, chair(area)).area_code == area
        assert returns.pool_of(session, YEAR, area, finance(area)).area_code == area
        for stranger in (chair("E99999999"), finance("E99999999"), principal("e", "E", [])):
            with pytest.raises(Forbidden):
                returns.pool_of(session, YEAR, area, stranger)


# --------------------------------------------------------------------------------------------
# The workbook


def test_the_workbook_opens_with_the_familiar_sheets_and_totals_to_the_penny(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    _year_of_books(pool_area, write_spend)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        returns.save_narrative(
            session, pool, parse_quarter("2015-16 Q2"), "=SUM(A1) is text", finance(pool.area_code)
        )
        shown = returns.view(
            session, pool, returns.quarter_of(pool, "2015-16 Q2"), actuals=quarter_actuals
        )
        buffer = io.BytesIO()
        returns.write_workbook(shown, buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == list(SHEETS)
    sheet = book["Income and expenditure"]
    rows = list(sheet.iter_rows())
    content = shown.content

    def row_of(label: str) -> list[object]:
        found = next(r for r in rows if r[0].value == label)
        assert all(c.number_format == MONEY_FORMAT for c in found[1:9] if c.value is not None)
        return [c.value for c in found]

    spend = row_of("Total expenditure")
    expected = [content.total.annual_budget, content.total.budget_quarter,
                content.total.actual_quarter]  # fmt: skip
    assert [Decimal(str(v)) for v in spend[1:4]] == [Decimal(p) / 100 for p in expected]
    assert spend[10] == content.total.light.value.capitalize()
    assert spend[10] in {x.value.capitalize() for x in Light}
    income = row_of("Total income")
    assert Decimal(str(income[6])) == Decimal(content.income_totals["due_to_date"]) / 100
    narrative = book["Narrative"]["A4"]
    assert narrative.value == "=SUM(A1) is text" and narrative.data_type == "s"
    assert book["Cover"]["B10"].value == "Draft"
