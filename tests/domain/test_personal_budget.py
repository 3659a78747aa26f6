"""The quarterly collection's counts, from budgets' dates and status histories."""

from __future__ import annotations

import datetime as dt

from carepool.domain.periods import quarter
from carepool.domain.personal_budget import (
    BudgetFacts,
    BudgetStatus,
    CouncilHolding,
    Eligibility,
    NhsHolding,
    quarter_collection,
    status_on,
)

D = dt.date
ACTIVE, SUSPENDED, ENDED = BudgetStatus.ACTIVE, BudgetStatus.SUSPENDED, BudgetStatus.ENDED


def facts(
    starts: dt.date,
    ends: dt.date,
    *changes: tuple[dt.date, BudgetStatus],
    eligibility: Eligibility = Eligibility.CONTINUING_HEALTHCARE,
    nhs: NhsHolding | None = NhsHolding.NOTIONAL,
    council: CouncilHolding | None = None,
) -> BudgetFacts:
    return BudgetFacts(
        eligibility,
        starts,
        ends,
        100 if nhs else 0,
        100 if council else 0,
        nhs,
        council,
        ((starts, ACTIVE), *changes),
    )


def test_status_on_a_day_is_the_latest_change_by_then() -> None:
    history = [(D(2015, 4, 1), ACTIVE), (D(2015, 6, 1), SUSPENDED), (D(2015, 7, 1), ACTIVE)]
    assert status_on(history, D(2015, 3, 31)) is None
    assert status_on(history, D(2015, 6, 30)) is SUSPENDED
    assert status_on(history, D(2015, 7, 1)) is ACTIVE


def test_live_at_quarter_end_is_kept_apart_from_active_in_the_year() -> None:
    q2 = quarter("2015-16", 2)  # July to September 2015
    budgets = [
        facts(D(2015, 4, 1), D(2016, 3, 31)),  # live
        facts(D(2015, 4, 1), D(2015, 6, 30), eligibility=Eligibility.WHEELCHAIR),  # ended in Q1
        facts(D(2015, 4, 1), D(2016, 3, 31), (D(2015, 9, 1), SUSPENDED)),  # suspended at the end
        facts(D(2015, 10, 1), D(2016, 3, 31)),  # not yet started
        facts(D(2014, 4, 1), D(2015, 3, 31)),  # last year's
        facts(D(2015, 5, 1), D(2016, 3, 31), nhs=NhsHolding.DIRECT_PAYMENT),  # live
        facts(D(2015, 4, 1), D(2016, 3, 31), (D(2015, 4, 1), SUSPENDED)),  # never active
    ]
    found = quarter_collection(q2, budgets, 1, 2, 3)
    assert found.live_at_quarter_end == 2
    assert found.active_in_year == 4
    assert found.by_type == {"notional": 1, "third_party": 0, "direct_payment": 1}
    assert found.by_eligibility["continuing_healthcare"] == 2
    assert found.active_in_year_by_eligibility["wheelchair"] == 1
    assert (found.spend_pence, found.spend_year_to_date_pence) == (1, 2)


def test_the_council_measure_counts_council_shares_active_in_the_year() -> None:
    q1 = quarter("2015-16", 1)
    budgets = [
        facts(D(2015, 4, 1), D(2016, 3, 31), nhs=None, council=CouncilHolding.DIRECT_PAYMENT),
        facts(D(2015, 4, 1), D(2016, 3, 31), nhs=None, council=CouncilHolding.COUNCIL_MANAGED),
        facts(D(2015, 4, 1), D(2016, 3, 31), council=CouncilHolding.COUNCIL_MANAGED),
    ]
    found = quarter_collection(q1, budgets, 0, 0, 0)
    assert (found.council_direct_payments, found.council_people) == (1, 3)
    assert found.live_at_quarter_end == 1  # only one has a personal health budget
