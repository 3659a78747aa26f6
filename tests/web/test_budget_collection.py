"""The quarterly collection as shown: exact for those allowed, otherwise published so that no
small count, and no spend of too few people, can be read or worked out."""

from __future__ import annotations

import datetime as dt

from carepool.budgets.published import Counts, publish
from carepool.budgets.routes.reading import largely_unspent
from carepool.domain.disclosure import Mark
from carepool.domain.periods import quarter

Q4 = quarter("2015-16", 4)


def _counts(**changes: object) -> Counts:
    values: dict[str, object] = {
        "place": "Brindshire",
        "area_code": "E06000001",
        "quarter": Q4,
        "live_by_type": {"notional": 42, "third_party": 3, "direct_payment": 11},
        "live_by_group": {"wheelchair": 20, "continuing_healthcare": 33, "section_117": 3},
        "active_by_group": {"wheelchair": 61, "continuing_healthcare": 40, "section_117": 4},
        "spend_pence": 123_456_78,
        "direct_payment_spend_pence": 9_999_00,
        "council_direct_payments": 5,
        "council_people": 30,
    }  # fmt: skip
    values.update(changes)
    return Counts(**values)  # type: ignore[arg-type]


def test_exact_figures_are_shown_as_counted() -> None:
    shown = publish(_counts(), exact=True)
    assert [line.live.value for line in shown.by_type] == [42, 3, 11]
    assert shown.live_total.value == 56 and shown.active_total.value == 105
    assert shown.spend_pence == 123_456_78
    assert shown.council_share_tenths == 167  # 5 of 30 is 16.7%


def test_published_figures_hide_small_counts_and_what_would_give_them_away() -> None:
    shown = publish(_counts(), exact=False)
    by_type = {line.code: line.live for line in shown.by_type}
    assert by_type["third_party"].value is None and by_type["third_party"].mark is Mark.SUPPRESSED
    withheld = [cell for cell in by_type.values() if cell.value is None]
    assert len(withheld) >= 2, "one withheld cell beside its total could be worked out"
    assert all(c.value % 5 == 0 for c in by_type.values() if c.value is not None)
    assert shown.live_total.value == 55  # 56 rounded to the nearest 5
    assert shown.council_share_tenths is None, "5 people taking direct payments is too few"
    assert shown.spend_pence == 123_456_78, "105 people's spend is not disclosive"


def test_the_spend_of_a_handful_of_people_is_withheld_from_the_public() -> None:
    few = _counts(
        live_by_type={"notional": 2, "third_party": 0, "direct_payment": 1},
        live_by_group={"wheelchair": 3},
        active_by_group={"wheelchair": 4},
    )
    assert publish(few, exact=False).spend_pence is None
    assert publish(few, exact=False).direct_payment_spend_pence is None
    assert publish(few, exact=True).spend_pence == 123_456_78


def test_a_budget_is_largely_unspent_below_half_of_its_share_so_far() -> None:
    starts, ends = dt.date(2015, 4, 1), dt.date(2016, 3, 31)
    whole = 36_600_00  # £100 a day for 366 days
    assert largely_unspent(whole, 40_00_00, starts, ends, ends)  # £4,000 of £36,600
    assert not largely_unspent(whole, 20_000_00, starts, ends, ends)
    half_year = dt.date(2015, 9, 30)  # 183 days: £18,300 due, so £9,150 is half
    assert largely_unspent(whole, 9_149_00, starts, ends, half_year)
    assert not largely_unspent(whole, 9_150_00, starts, ends, half_year)
    assert not largely_unspent(whole, 0, starts, ends, starts), "not on its first day"
