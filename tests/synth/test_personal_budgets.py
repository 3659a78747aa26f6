"""The synthetic personal budgets: the national mix, valid test-range NHS numbers, parts and
plans that add up, and transactions that fit their budgets; the same seed, the same data."""

from __future__ import annotations

from collections import Counter

from carepool.domain.pseudonym import is_valid_nhs_number
from carepool.synth.personal_budgets import synthetic_budgets, synthetic_transactions

AREAS = ["E06000001", "E06000002", "E06000003"]


def test_the_mix_follows_the_national_collection() -> None:
    budgets = synthetic_budgets(AREAS, 4000, seed=5)
    groups = Counter(b.eligibility for b in budgets).most_common()
    assert [name for name, _ in groups[:2]] == ["wheelchair", "continuing_healthcare"]
    nhs = [b for b in budgets if b.nhs_pence]
    held = Counter(b.nhs_holding for b in nhs)
    assert abs(held["notional"] / len(nhs) - 0.75) < 0.03
    assert abs(held["direct_payment"] / len(nhs) - 0.18) < 0.03
    assert abs(held["third_party"] / len(nhs) - 0.06) < 0.02


def test_budgets_are_valid_and_repeatable() -> None:
    budgets = synthetic_budgets(AREAS, 500, seed=9)
    assert budgets == synthetic_budgets(AREAS, 500, seed=9)
    assert len({b.nhs_number for b in budgets}) == 500
    for budget in budgets:
        assert is_valid_nhs_number(budget.nhs_number) and budget.nhs_number.startswith("999")
        assert budget.nhs_pence + budget.council_pence == budget.total_pence > 0
        assert budget.starts <= budget.review_due <= budget.ends
        row = budget.row()
        costs = [part.rsplit(": ", 1)[1] for part in row[-1].split("; ")]
        pence = sum(int(c.replace(".", "")) for c in costs)
        assert pence == budget.total_pence


def test_transactions_fall_within_their_budgets() -> None:
    budgets = {b.reference: b for b in synthetic_budgets(AREAS, 200, seed=3)}
    lines = list(synthetic_transactions(list(budgets.values()), 10, seed=3))
    assert 1000 <= len(lines) <= 3000
    for reference, day, kind, part, amount, _ in lines:
        budget = budgets[reference]
        assert budget.starts.isoformat() <= day <= budget.ends.isoformat()
        assert (budget.nhs_pence if part == "nhs" else budget.council_pence) > 0
        holding = budget.nhs_holding if part == "nhs" else budget.council_holding
        if kind == "recovery" or kind in ("direct_payment_return", "card_statement"):
            assert holding == "direct_payment"
        assert not amount.startswith("-") and amount != "0.00"
