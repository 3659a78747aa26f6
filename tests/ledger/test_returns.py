"""The quarterly return: every figure is the ledger's, and its sign-off follows the rules.

The return is built, never typed: its spend is what is posted to the schemes' accounts, its
income what fell due and what was received, its budget the plan's. Submitting freezes the
figures; only the Health and Wellbeing Board's signatory signs off or sends back; the workbook
download holds the same figures to the penny.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from ledger_helpers import YEAR, Area, WriteSpend, finance, spend_rows, the_pool
from pydantic import ValidationError

from carepool.domain.errors import CarepoolError, Conflict, Forbidden, StateTransitionError
from carepool.domain.ledger import Accounts, EntryKind, Light
from carepool.domain.periods import parse_quarter
from carepool.domain.quarterly_return import (
    Instalment,
    InstalmentStatus,
    QuarterlyReturn,
    ReturnAction,
    ReturnStatus,
    check_move,
)
from carepool.domain.roles import Principal, principal
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
        content = returns.build(session, pool, q2)
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
    assert all(m.actual is None and m.actual_note == "not yet available" for m in content.metrics)
    assert content.arrangements.in_place and content.arrangements.pool_manager == "A. Patel"
    assert QuarterlyReturn.model_validate(content.as_dict()) == content


def test_a_return_whose_lines_do_not_add_up_cannot_exist(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    _year_of_books(pool_area, write_spend)
    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, pool_area.code)
        content = returns.build(session, pool, returns.quarter_of(pool, "2015-16 Q3"))
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
            returns.act(session, pool, q2, A.SUBMIT, officer)
        with pytest.raises(Forbidden):
            returns.save_narrative(session, pool, q2, "By the chair", board)
        returns.save_narrative(session, pool, q2, "Spend on track; one CCG paid late.", officer)
        with pytest.raises(StateTransitionError):
            returns.act(session, pool, q2, A.SIGN_OFF, board)
        row = returns.act(session, pool, q2, A.SUBMIT, officer)
        assert row.status == S.SUBMITTED and row.content_sha256
        submitted = returns.view(session, pool, q2)

    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        with pytest.raises(Conflict, match="can no longer change"):
            returns.save_narrative(session, pool, q2, "Changed my mind", officer)
        with pytest.raises(Forbidden):
            returns.act(session, pool, q2, A.SIGN_OFF, officer)
        with pytest.raises(CarepoolError, match="comment is required"):
            returns.act(session, pool, q2, A.SEND_BACK, board, "  ")
        stale = submitted.lock_version
        returns.act(session, pool, q2, A.SEND_BACK, board, "Explain the late payment", stale)
        with pytest.raises(Conflict, match="changed since you opened it"):
            returns.act(session, pool, q2, A.SUBMIT, officer, expected_lock=stale)
        returns.save_narrative(session, pool, q2, "The CCG has since paid in full.", officer)
        returns.act(session, pool, q2, A.SUBMIT, officer)
        returns.act(session, pool, q2, A.SIGN_OFF, board, "Agreed")
        with pytest.raises(StateTransitionError):
            returns.act(session, pool, q2, A.SUBMIT, officer)

    with unit_of_work(pool_area.engine) as session:
        pool = the_pool(session, area)
        shown = returns.view(session, pool, q2)
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
        after = returns.view(session, pool, q2)
        assert after.moved_since, "the page must say the books moved after submission"
        assert after.content.total.actual_quarter == frozen_total
        assert returns.build(session, pool, q2).total.actual_quarter == frozen_total + 100_000
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
        shown = returns.view(session, pool, returns.quarter_of(pool, "2015-16 Q2"))
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
