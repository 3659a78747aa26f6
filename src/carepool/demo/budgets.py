"""The demo's personal budgets: a year of budgets and their spend in every pool.

Each pool gets budgets in proportion to its area's population (about one for every 14,000
residents, some 4,000 across England: the real national count scaled to the demo), with the
national collection's mixes: wheelchair budgets the largest group, then NHS Continuing
Healthcare; three in four NHS parts notional, about one in five direct payments, the rest held
by a third party; council-eligible budgets and many section 117 ones blended with a council
part. Wheelchair budgets last weeks; the rest run to the year's end, some suspended or ended
early. Spend comes the way it does in life, as a file of direct payment returns, provider
invoices and card statements imported through the same service a coordinator uses: most
budgets spend close to plan, a few overspend and some leave money unspent, which is then
recovered from direct payments. Everything is synthetic and deterministic for the pool.

Budgets are set up before the pool's quarters are closed (:mod:`carepool.demo.ledger` calls
:func:`demo_budgets` while running the pool's year), so their allocations and spend are in
the books the year settles.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from carepool.budgets import service
from carepool.budgets.service.budgets import set_up
from carepool.domain.money import Pence, split_by_weights
from carepool.domain.periods import add_months
from carepool.domain.personal_budget import (
    BudgetStatus,
    BudgetTerms,
    CouncilHolding,
    Eligibility,
    NhsHolding,
    SupportPlanLine,
)
from carepool.domain.roles import SYSTEM
from carepool.geography.service import YearGeography
from carepool.pools.repository.ledger import PoolRow
from carepool.synth import personal_budgets as synth

RESIDENTS_PER_BUDGET = 14_000
"""One demo budget per this many residents: the national count (131,556 in Q2 2023-24,
over 56 million people) at about a third of its size, so the demo stays quick to build."""

ELIGIBILITY_MIX = {Eligibility(name): weight for name, weight in synth.ELIGIBILITY_MIX}
NHS_HOLDING_MIX = {NhsHolding(name): weight for name, weight in synth.NHS_HOLDING_MIX}
"""The mixes of the synthetic generator (:mod:`carepool.synth.personal_budgets`), which
follow the national collection: wheelchair budgets the largest group, then Continuing
Healthcare; three in four NHS parts notional, 18% direct payments."""

PLAN_LINES = {
    Eligibility.WHEELCHAIR: ("Powered wheelchair and seating", "Maintenance and repairs"),
    Eligibility.CONTINUING_HEALTHCARE: (
        "Personal assistants", "Nursing care at home", "Respite breaks", "Equipment",
    ),
    Eligibility.COUNCIL_ELIGIBLE: ("Home care", "Day opportunities", "Carer breaks"),
    Eligibility.SECTION_117: ("Supported living", "Community activities", "Peer support"),
    Eligibility.CHILDRENS_CONTINUING_CARE: (
        "Specialist carers", "Short breaks", "Therapy sessions",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoBudget:
    terms: BudgetTerms
    spend_percent: int  # spent, as a percentage of the budget: under 50 largely unspent


def budget_count(population: int) -> int:
    return max(6, population // RESIDENTS_PER_BUDGET)


def demo_budgets(
    session: Session, pools: Sequence[PoolRow], geo: YearGeography, folder: Path
) -> int:
    """Set up every pool's budgets, import their spend in one file and change a few
    statuses: all pools at once, as a national import would."""
    made: list[DemoBudget] = []
    rng = random.Random("personal budgets")
    for pool in pools:
        population = geo.bands.get(pool.area_code, {}).get("all", 0)
        local = random.Random(f"personal budgets {pool.area_code} {pool.year}")
        made += [_budget(local, pool, index) for index in range(budget_count(population))]
    if not made:
        return 0
    set_up(session, [(b.terms, "demo") for b in made], SYSTEM, where=None)
    path = folder / "budget-transactions.csv"
    _write_transactions(path, made, rng)
    service.import_transactions(session, path, SYSTEM)
    _change_statuses(session, made, rng)
    return len(made)


K = TypeVar("K")


def _pick(rng: random.Random, mix: Mapping[K, float]) -> K:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _budget(rng: random.Random, pool: PoolRow, index: int) -> DemoBudget:
    group = _pick(rng, ELIGIBILITY_MIX)
    starts, ends = _dates(rng, pool, group)
    low, high = synth.AMOUNT_RANGES[group.value]
    months = max(1, (ends.year - starts.year) * 12 + ends.month - starts.month + 1)
    whole = Pence(rng.randint(low, high) * 100 * min(12, months) // 12 // 100 * 100)
    nhs, council = _shares(rng, group, whole)
    terms = BudgetTerms(
        reference=f"PB-{pool.area_code}-{index + 1:04d}",
        area_code=pool.area_code,
        person=hashlib.sha256(f"demo person {pool.area_code} {index}".encode()).hexdigest(),
        eligibility=group,
        starts=starts,
        ends=ends,
        review_due=min(ends, starts + dt.timedelta(days=90)),
        total_pence=whole,
        nhs_pence=nhs,
        council_pence=council,
        nhs_holding=_pick(rng, NHS_HOLDING_MIX) if nhs else None,
        council_holding=_council_holding(rng) if council else None,
        support_plan=_plan(rng, group, whole),
    )
    return DemoBudget(terms, _spend_percent(rng))


def _dates(rng: random.Random, pool: PoolRow, group: Eligibility) -> tuple[dt.date, dt.date]:
    """Most budgets started before the year and run through it (so start on its first day);
    some start during it; wheelchair budgets last one to three months."""
    year_end = min(pool.ends, add_months(pool.starts, 12) - dt.timedelta(days=1))
    if group is not Eligibility.WHEELCHAIR and rng.random() < 0.6:
        return pool.starts, year_end
    starts = add_months(pool.starts, rng.randrange(11))
    if group is Eligibility.WHEELCHAIR:
        return starts, min(year_end, add_months(starts, rng.randint(1, 3)) - dt.timedelta(days=1))
    return starts, year_end


def _shares(rng: random.Random, group: Eligibility, whole: Pence) -> tuple[Pence, Pence]:
    """The NHS and council parts: council-eligible needs are mostly council money, section 117
    after-care is often jointly funded, some CHC budgets carry a council top-up."""
    blended = {
        Eligibility.COUNCIL_ELIGIBLE: 1.0,
        Eligibility.SECTION_117: 0.5,
        Eligibility.CONTINUING_HEALTHCARE: 0.1,
    }.get(group, 0.0)
    if rng.random() >= blended:
        return whole, Pence(0)
    if group is Eligibility.COUNCIL_ELIGIBLE and rng.random() < 0.7:
        return Pence(0), whole
    nhs = Pence(whole * rng.randint(2, 8) // 10 // 100 * 100)
    return nhs, Pence(whole - nhs)


def _council_holding(rng: random.Random) -> CouncilHolding:
    if rng.random() < synth.COUNCIL_DIRECT_PAYMENT_SHARE:
        return CouncilHolding.DIRECT_PAYMENT
    return CouncilHolding.COUNCIL_MANAGED


def _plan(rng: random.Random, group: Eligibility, whole: Pence) -> tuple[SupportPlanLine, ...]:
    names = PLAN_LINES[group][: rng.randint(1, len(PLAN_LINES[group]))]
    costs = split_by_weights(whole, {name: rng.randint(1, 6) for name in names})
    return tuple(SupportPlanLine(name, cost) for name, cost in costs.items() if cost > 0)


def _spend_percent(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.05:
        return rng.randint(108, 130)  # overspent
    if roll < 0.15:
        return rng.randint(20, 45)  # largely unspent
    return rng.randint(85, 100)


# ---------------------------------------------------------------------------------------
# Spend


_KIND = {
    "direct_payment": "direct_payment_return",
    "notional": "provider_invoice",
    "third_party": "provider_invoice",
    "council_managed": "provider_invoice",
}


def _write_transactions(path: Path, made: Sequence[DemoBudget], rng: random.Random) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["budget", "date", "kind", "part", "amount", "reference"])
        for budget in made:
            for row in _rows(budget, rng):
                writer.writerow(row)


def _rows(budget: DemoBudget, rng: random.Random) -> list[list[str]]:
    terms, rows = budget.terms, []
    days = _month_ends(terms.starts, terms.ends)
    for part, amount, holding in (
        ("nhs", terms.nhs_pence, terms.nhs_holding),
        ("council", terms.council_pence, terms.council_holding),
    ):
        if not amount or holding is None:
            continue
        spent = amount * budget.spend_percent // 100
        kind = _KIND[holding.value]
        if kind == "direct_payment_return" and rng.random() < 0.2:
            kind = "card_statement"
        monthly = split_by_weights(spent, {day: 1 for day in days})
        for number, (day, pence) in enumerate(monthly.items(), start=1):
            if pence > 0:
                rows.append([terms.reference, day.isoformat(), kind, part, _pounds(pence),
                             f"{terms.reference}-{part}-{number}"])  # fmt: skip
        if holding.value == "direct_payment" and budget.spend_percent < 50:
            recovered = (amount - spent) // 2
            rows.append([terms.reference, terms.ends.isoformat(), "recovery", part,
                         _pounds(recovered), f"{terms.reference}-{part}-recovery"])  # fmt: skip
    return rows


def _month_ends(starts: dt.date, ends: dt.date) -> list[dt.date]:
    days, first = [], dt.date(starts.year, starts.month, 1)
    while first <= ends:
        days.append(min(ends, add_months(first, 1) - dt.timedelta(days=1)))
        first = add_months(first, 1)
    return days


def _pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def _change_statuses(session: Session, made: Sequence[DemoBudget], rng: random.Random) -> None:
    """A few budgets suspended (a hospital stay) or ended early (the person moved away)."""
    for budget in made:
        terms = budget.terms
        if terms.eligibility is Eligibility.WHEELCHAIR or rng.random() >= 0.02:
            continue
        since = terms.starts + dt.timedelta(days=rng.randint(30, 200))
        if since >= terms.ends:
            continue
        if rng.random() < 0.5:
            service.change_status(session, terms.reference, BudgetStatus.SUSPENDED, since,
                                  "In hospital; support paused", SYSTEM)  # fmt: skip
        else:
            service.change_status(session, terms.reference, BudgetStatus.ENDED, since,
                                  "Moved out of the area", SYSTEM)  # fmt: skip
