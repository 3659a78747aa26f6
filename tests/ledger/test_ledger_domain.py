"""The ledger's rules, as pure functions: accounts, entries, periods, instalments, balances."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.domain.errors import CarepoolError
from carepool.domain.ledger import (
    Accounts,
    Entry,
    EntryKind,
    LedgerError,
    Light,
    Posting,
    account,
    balances,
    entry_problems,
    outturn_variance,
    require_postable,
    reversal,
    run_rate,
    split_entry,
    traffic_light,
)
from carepool.domain.money import Pence
from carepool.domain.periods import (
    Period,
    instalment_dates,
    months,
    months_elapsed,
    period_named,
    quarters,
    year_period,
)

DAY = dt.date(2015, 5, 1)


def entry(*legs: tuple[str, int], day: dt.date = DAY, correlation: str = "c1") -> Entry:
    return Entry(
        day,
        EntryKind.ADJUSTMENT,
        "test",
        tuple(Posting(a, Pence(n)) for a, n in legs),
        correlation,
    )


def test_account_names_are_made_safe_for_beancount() -> None:
    assert account("Expenses", "Scheme", "S1") == "Expenses:Scheme:S1"
    assert (
        Accounts.receivable("E38000001", "ccg_minimum") == "Assets:Receivable:E38000001:Ccg-minimum"
    )
    assert Accounts.scheme("dfg 2015/16") == "Expenses:Scheme:Dfg-2015-16"
    with pytest.raises(LedgerError, match="is not an account"):
        account("Cash", "Bank")


def test_a_balanced_entry_is_postable() -> None:
    good = entry((Accounts.BANK, 1000), (Accounts.contribution("A", "s"), -1000))
    assert entry_problems(good) == []
    require_postable(good)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (entry((Accounts.BANK, 1000), (Accounts.scheme("S1"), -999)), "sum to £0.01"),
        (
            entry(
                (Accounts.BANK, 0),
            ),
            "at least two postings",
        ),
        (entry(("Cash:Bank", 10), (Accounts.BANK, -10)), "is not an account"),
        (entry((Accounts.BANK, 10), (Accounts.scheme("S1"), -10), correlation=" "), "correlation"),
    ],
)
def test_entries_that_break_a_rule_are_refused_with_the_reason(bad: Entry, message: str) -> None:
    problems = entry_problems(bad)
    assert any(message in p.message for p in problems), problems
    with pytest.raises(LedgerError, match="refused"):
        require_postable(bad)


def test_amounts_must_be_whole_pence_not_floats() -> None:
    bad = Entry(
        DAY,
        EntryKind.ADJUSTMENT,
        "x",
        (Posting(Accounts.BANK, 10.5), Posting(Accounts.scheme("S1"), -10.5)),
        "c",
    )  # type: ignore[arg-type]
    assert any("whole pence" in p.message for p in entry_problems(bad))


def test_nothing_may_be_dated_in_a_closed_period() -> None:
    q1 = quarters("2015-16")[0]
    good = entry((Accounts.BANK, 5), (Accounts.scheme("S1"), -5))
    [problem] = entry_problems(good, [q1])
    assert problem.message == "2015-05-01 falls in 2015-16 Q1, which is closed"
    assert entry_problems(good, [quarters("2015-16")[1]]) == []


def test_a_reversal_cancels_the_original_and_points_back() -> None:
    original = entry((Accounts.scheme("S1"), 700), (Accounts.BANK, -700))
    undo = reversal(original, 12, dt.date(2015, 8, 1), "posted twice")
    assert undo.kind is EntryKind.REVERSAL and undo.reverses == 12
    assert undo.correlation == original.correlation
    assert undo.narration == "Reversal of entry 12: posted twice"
    assert balances([original, undo]) == {}


def test_quarters_months_and_the_year() -> None:
    q = quarters("2015-16")
    assert [(p.label, p.start, p.end) for p in (q[0], q[3])] == [
        ("2015-16 Q1", dt.date(2015, 4, 1), dt.date(2015, 6, 30)),
        ("2015-16 Q4", dt.date(2016, 1, 1), dt.date(2016, 3, 31)),
    ]
    assert [m.label for m in months("2015-16")][::11] == ["2015-04", "2016-03"]
    assert year_period("2015-16") == Period("2015-16", dt.date(2015, 4, 1), dt.date(2016, 3, 31))
    assert period_named("2015-16 Q2") == q[1]
    assert period_named("2016-02").end == dt.date(2016, 2, 29)  # a leap year
    assert period_named("2015-16") == year_period("2015-16")
    with pytest.raises(CarepoolError, match="is not a period"):
        period_named("Q2 2015")


def test_instalments_fall_on_the_first_day_of_each_period() -> None:
    assert instalment_dates("2015-16", 4) == [
        dt.date(2015, 4, 1),
        dt.date(2015, 7, 1),
        dt.date(2015, 10, 1),
        dt.date(2016, 1, 1),
    ]
    assert len(instalment_dates("2015-16", 12)) == 12
    with pytest.raises(CarepoolError, match="1, 2, 4 or 12"):
        instalment_dates("2015-16", 3)


def test_balances_on_a_date_and_the_outturn_variance() -> None:
    due = entry((Accounts.receivable("A", "s"), 10_000), (Accounts.contribution("A", "s"), -10_000))
    spend = entry(
        (Accounts.scheme("S1"), 10_300), (Accounts.BANK, -10_300), day=dt.date(2015, 9, 1)
    )
    assert balances([due, spend], until=dt.date(2015, 8, 31)) == {
        "Assets:Receivable:A:S": 10_000,
        "Income:Contribution:A:S": -10_000,
    }
    assert outturn_variance(balances([due, spend])) == 300  # a £3.00 overspend


def test_split_entry_balances_several_debits_with_one_credit() -> None:
    made = split_entry(
        DAY,
        EntryKind.SPEND,
        "x",
        [("Expenses:Scheme:S1", 5), ("Expenses:Scheme:S2", 0), ("Expenses:Scheme:S3", 7)],
        Accounts.BANK,
        "c",
        {},
    )
    assert [p.amount for p in made.postings] == [5, 7, -12]


@pytest.mark.parametrize(
    ("budget", "forecast", "light"),
    [
        (100_000, 102_000, Light.GREEN),  # exactly 2% over
        (100_000, 98_000, Light.GREEN),
        (100_000, 102_001, Light.AMBER),
        (100_000, 95_000, Light.AMBER),  # exactly 5% under
        (100_000, 105_001, Light.RED),
        (0, 0, Light.GREEN),
        (0, 1, Light.RED),
    ],
)
def test_traffic_lights_follow_the_two_and_five_percent_bands(
    budget: int, forecast: int, light: Light
) -> None:
    assert traffic_light(budget, forecast) is light


def test_run_rate_projects_spend_so_far_over_twelve_months() -> None:
    assert months_elapsed("2015-16", dt.date(2015, 6, 30)) == 3
    assert months_elapsed("2015-16", dt.date(2015, 6, 15)) == 2 + Fraction(15, 30)
    assert months_elapsed("2015-16", dt.date(2014, 1, 1)) == 0
    assert months_elapsed("2015-16", dt.date(2020, 1, 1)) == 12
    assert run_rate(300_000, Fraction(3)) == 1_200_000
    assert run_rate(100, Fraction(7)) == 171  # 171.43 rounds down
    assert run_rate(101, Fraction(8)) == 152  # 151.5 rounds half up


@given(
    st.lists(
        st.tuples(st.sampled_from(["S1", "S2", "S3"]), st.integers(-(10**9), 10**9)),
        min_size=1,
        max_size=8,
    )
)
def test_split_entries_always_balance(debits: list[tuple[str, int]]) -> None:
    made = split_entry(
        DAY,
        EntryKind.SPEND,
        "x",
        [(Accounts.scheme(r), a) for r, a in debits],
        Accounts.BANK,
        "c",
        {},
    )
    assert made.total() == 0
    assert sum(balances([made]).values()) == 0
