"""Synthetic personal budgets and their transactions, for the demo, tests and benchmarks.

Seeded, so the same arguments always give the same files. The mix follows the national
personal health budget collection (NHS England, 2023-24 Q2): of NHS parts, about 75% are
notional, 18% direct payments and 6% held by a third party; personalised wheelchair budgets
are the largest eligibility group and NHS Continuing Healthcare the next. The other shares
(section 117, children's continuing care, council-only budgets, the councils' direct-payment
share of about 28%, the amounts) are illustrative parameters, not published figures.

NHS numbers are drawn from the reserved test range (first three digits 999), which is never
issued to a person.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from carepool.domain.periods import financial_year_end, financial_year_start

ELIGIBILITY_MIX = (
    ("wheelchair", 0.44),
    ("continuing_healthcare", 0.26),
    ("council_eligible_needs", 0.16),
    ("section_117_aftercare", 0.08),
    ("childrens_continuing_care", 0.06),
)
NHS_HOLDING_MIX = (("notional", 0.76), ("direct_payment", 0.18), ("third_party", 0.06))
COUNCIL_DIRECT_PAYMENT_SHARE = 0.28
JOINT_CHC_SHARE = 0.2
"""Continuing Healthcare budgets that also carry a council part (joint packages)."""

# Whole budgets in pounds for the budget's span, by eligibility (illustrative).
AMOUNT_RANGES = {
    "wheelchair": (400, 6_000),
    "continuing_healthcare": (15_000, 90_000),
    "council_eligible_needs": (3_000, 30_000),
    "section_117_aftercare": (8_000, 60_000),
    "childrens_continuing_care": (10_000, 70_000),
}

BUDGET_HEADER = (
    "reference",
    "area",
    "nhs_number",
    "eligibility",
    "starts",
    "ends",
    "review_due",
    "total",
    "nhs_amount",
    "nhs_holding",
    "council_amount",
    "council_holding",
    "support_plan",
)
TRANSACTION_HEADER = ("budget", "date", "kind", "part", "amount", "reference")


@dataclass(frozen=True, slots=True)
class SyntheticBudget:
    reference: str
    area: str
    nhs_number: str
    eligibility: str
    starts: dt.date
    ends: dt.date
    review_due: dt.date
    nhs_pence: int
    council_pence: int
    nhs_holding: str
    council_holding: str

    @property
    def total_pence(self) -> int:
        return self.nhs_pence + self.council_pence

    def row(self) -> list[str]:
        plan = _plan(self)
        return [
            self.reference,
            self.area,
            self.nhs_number,
            self.eligibility,
            self.starts.isoformat(),
            self.ends.isoformat(),
            self.review_due.isoformat(),
            pounds(self.total_pence),
            pounds(self.nhs_pence) if self.nhs_pence else "",
            self.nhs_holding,
            pounds(self.council_pence) if self.council_pence else "",
            self.council_holding,
            "; ".join(f"{what}: {pounds(cost)}" for what, cost in plan),
        ]


def pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def test_nhs_number(index: int) -> str:
    """A valid number of the reserved test range, different for each ``index`` below 500,000.

    Even bodies are taken in turn; one whose check digit would be 10 (never issued) is
    replaced by the next, odd, body, whose check digit is then valid.
    """
    body = TEST_RANGE_START + 2 * index
    check = _check_digit(body)
    if check == 10:
        body += 1
        check = _check_digit(body)
    return f"{body:09d}{check}"


TEST_RANGE_START = 999_000_000
"""The first nine digits of the reserved test range's first number."""


def _check_digit(body: int) -> int:
    digits = f"{body:09d}"
    weighted = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
    return (11 - weighted % 11) % 11


def _pick(rng: random.Random, mix: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in mix], [weight for _, weight in mix])[0]


def synthetic_budgets(
    areas: Sequence[str], count: int, year: str = "2015-16", seed: int = 2014
) -> list[SyntheticBudget]:
    """``count`` budgets spread over the areas, each within the financial year ``year``."""
    rng = random.Random(seed)
    first, last = financial_year_start(year), financial_year_end(year)
    days = (last - first).days
    found = []
    for index in range(count):
        eligibility = _pick(rng, ELIGIBILITY_MIX)
        starts = first + dt.timedelta(days=rng.randrange(0, days * 3 // 4))
        ends = (
            last
            if rng.random() < 0.8
            else min(starts + dt.timedelta(days=rng.randrange(30, (last - starts).days + 1)), last)
        )
        low, high = AMOUNT_RANGES[eligibility]
        whole = rng.randrange(low * 100, high * 100)
        nhs, council = _parts(rng, eligibility, whole)
        found.append(
            SyntheticBudget(
                reference=f"PB-{index + 1:07d}",
                area=areas[index % len(areas)],
                nhs_number=test_nhs_number(index),
                eligibility=eligibility,
                starts=starts,
                ends=ends,
                review_due=min(starts + dt.timedelta(days=182), ends),
                nhs_pence=nhs,
                council_pence=council,
                nhs_holding=_pick(rng, NHS_HOLDING_MIX) if nhs else "",
                council_holding=(
                    (
                        "direct_payment"
                        if rng.random() < COUNCIL_DIRECT_PAYMENT_SHARE
                        else "council_managed"
                    )
                    if council
                    else ""
                ),
            )
        )
    return found


def _parts(rng: random.Random, eligibility: str, whole: int) -> tuple[int, int]:
    if eligibility == "council_eligible_needs":
        return 0, whole
    if eligibility == "section_117_aftercare" or (
        eligibility == "continuing_healthcare" and rng.random() < JOINT_CHC_SHARE
    ):
        nhs = whole * rng.randrange(30, 71) // 100
        return nhs, whole - nhs
    return whole, 0


def _plan(budget: SyntheticBudget) -> list[tuple[str, int]]:
    """A costed support plan whose lines add up to the whole budget."""
    what = {
        "wheelchair": ("Wheelchair", "Maintenance"),
        "continuing_healthcare": ("Nursing care", "Personal assistant"),
        "council_eligible_needs": ("Home care", "Day opportunities"),
        "section_117_aftercare": ("Supported living", "Community support"),
        "childrens_continuing_care": ("Specialist care", "Short breaks"),
    }[budget.eligibility]
    first = budget.total_pence * 4 // 5
    return [(what[0], first), (what[1], budget.total_pence - first)]


def write_budgets(path: Path, budgets: Sequence[SyntheticBudget]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(BUDGET_HEADER)
        writer.writerows(budget.row() for budget in budgets)
    return path


def synthetic_transactions(
    budgets: Sequence[SyntheticBudget], per_budget: int, seed: int = 2015
) -> Iterator[tuple[str, str, str, str, str, str]]:
    """About ``per_budget`` lines per budget, dated within it, spending about its whole.

    Notional, third-party and council-managed money is spent through provider invoices;
    direct payments through returns and card statements, and a fifth of direct payments
    have unspent money recovered at the end. Some budgets overspend a little.
    """
    rng = random.Random(seed)
    for budget in budgets:
        span = (budget.ends - budget.starts).days + 1
        parts = [
            (p, pence, holding)
            for p, pence, holding in (
                ("nhs", budget.nhs_pence, budget.nhs_holding),
                ("council", budget.council_pence, budget.council_holding),
            )
            if pence
        ]
        lines = max(1, round(per_budget * rng.uniform(0.5, 1.5)))
        for number in range(lines):
            part, pence, holding = parts[number % len(parts)]
            share = max(1, pence * rng.randrange(85, 108) // 100 // max(1, lines // len(parts)))
            kind = (
                rng.choice(("direct_payment_return", "card_statement"))
                if holding == "direct_payment"
                else "provider_invoice"
            )
            day = budget.starts + dt.timedelta(days=rng.randrange(span))
            yield budget.reference, day.isoformat(), kind, part, pounds(share), f"T{number}"
        for part, pence, holding in parts:
            if holding == "direct_payment" and rng.random() < 0.2:
                recovered = max(1, pence // 20)
                yield (
                    budget.reference,
                    budget.ends.isoformat(),
                    "recovery",
                    part,
                    pounds(recovered),
                    "REC",
                )


def write_transactions(
    path: Path, budgets: Sequence[SyntheticBudget], per_budget: int, seed: int = 2015
) -> int:
    """Write the transactions file; returns how many lines it has."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRANSACTION_HEADER)
        for row in synthetic_transactions(budgets, per_budget, seed):
            writer.writerow(row)
            count += 1
    return count
