"""Setting personal budgets up, listing them and changing their status.

A budget belongs to one area's pool: its dates must lie within the pool's year, and setting
it up posts its allocation to the pool's personal-budget accounts
(:class:`~carepool.domain.personal_budget.BudgetAccounts`) in the same unit of work, so the
pool's books hold every budget from the day it is stored. Budgets set up together (an import)
post one allocation entry per budget, all in a few bulk statements.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.budgets import repository as repo
from carepool.budgets.files.budgets import read_budgets
from carepool.budgets.repository import BudgetRow, NewBudget
from carepool.domain.errors import Conflict, Forbidden, ImportRejected, NotFound, Problem
from carepool.domain.ledger import Accounts, Entry, EntryKind, Posting
from carepool.domain.money import Pence
from carepool.domain.personal_budget import (
    BudgetAccounts,
    BudgetError,
    BudgetStatus,
    BudgetTerms,
    Part,
    budget_problems,
)
from carepool.domain.pseudonym import check_key, is_valid_nhs_number, normalise_nhs_number
from carepool.domain.roles import Grant, Principal, Role
from carepool.io.tabular import file_sha256
from carepool.pools.service import ledger
from carepool.pools.service.ledger import PoolRow

COORDINATOR_ROLE = "budget_coordinator"
"""The role value of an area's personal budget coordinator, where the roles define one."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------------------------
# Who may do what


def _coordinator(actor: Principal, area_code: str) -> bool:
    return any(g.role.value == COORDINATOR_ROLE and g.area_code == area_code for g in actor.grants)


def may_manage(actor: Principal, area_code: str) -> bool:
    """The area's personal budget coordinators and pool finance officers, and national
    administrators, set budgets up and import their spend."""
    return (
        _coordinator(actor, area_code)
        or actor.has_area(Role.POOL_FINANCE, area_code)
        or actor.has(Role.NATIONAL_ADMIN)
    )


def may_read(viewer: Principal, area_code: str) -> bool:
    """Those who manage an area's budgets, and the national team, see them."""
    return may_manage(viewer, area_code) or viewer.is_national


def require_manage(actor: Principal, area_code: str) -> None:
    if not may_manage(actor, area_code):
        raise Forbidden(f"only {area_code}'s personal budget coordinators can change its budgets")


def require_read(viewer: Principal, area_code: str) -> None:
    if not may_read(viewer, area_code):
        raise Forbidden(f"only {area_code}'s personal budget coordinators can see its budgets")


def sub_ledger_poster(actor: Principal, area_codes: Sequence[str]) -> Principal:
    """Who posts the budgets' sub-ledger entries: the same person, acting for the pool.

    The Section 75 agreement puts the personal-budget scheme in the pool, so setting a budget
    up or importing its spend moves those accounts; the pool's posting rules (balanced
    entries, closed and settled periods) still apply to every entry.
    """
    grants = frozenset(Grant(Role.POOL_FINANCE, code) for code in sorted(set(area_codes)))
    return Principal(actor.username, actor.display_name, grants)


# --------------------------------------------------------------------------------------------
# Setting budgets up


@dataclass(frozen=True, slots=True)
class BudgetRequest:
    """A budget as the coordinator enters it: the NHS number is pseudonymised on entry."""

    nhs_number: str
    terms: BudgetTerms  # its ``person`` is ignored and replaced by the pseudonym


def pseudonymiser(key: bytes) -> Callable[[str], str]:
    """The keyed pseudonym of a checked 10-digit NHS number, as :func:`pseudonym` makes it
    (HMAC-SHA256 in hex), without checking the number again for each of many budgets."""
    checked = check_key(key)

    def one(digits: str) -> str:
        return hmac.new(checked, digits.encode("ascii"), hashlib.sha256).hexdigest()

    return one


def create_budget(
    session: Session, request: BudgetRequest, actor: Principal, *, key: bytes
) -> BudgetRow:
    """Set one budget up and post its allocation; refused whole with every problem."""
    if not is_valid_nhs_number(request.nhs_number):
        raise BudgetError(
            "budget refused",
            [
                Problem(
                    "this is not a valid NHS number (10 digits with a correct check digit)",
                    column="nhs_number",
                )
            ],
        )
    person = pseudonymiser(key)(normalise_nhs_number(request.nhs_number))
    terms = _with_person(request.terms, person)
    problems = budget_problems(terms)
    if problems:
        raise BudgetError(f"budget {terms.reference!r} refused", problems)
    [budget_id] = set_up(session, [(terms, "entered by " + actor.username)], actor, where=None)
    return _budget(session, budget_id)


def _with_person(terms: BudgetTerms, person: str) -> BudgetTerms:
    from dataclasses import replace

    return replace(terms, person=person)


def set_up(
    session: Session,
    budgets: Sequence[tuple[BudgetTerms, str]],
    actor: Principal,
    *,
    where: Callable[[int], Problem] | None,
) -> list[int]:
    """Store checked budgets and post their allocations, all or none; their ids in order.

    ``where`` locates budget ``i`` in its file, so a refusal names the row; without it a
    refusal is a :class:`BudgetError`.
    """
    for code in sorted({terms.area_code for terms, _ in budgets}):
        require_manage(actor, code)
    pools = _pools_for(session, [terms for terms, _ in budgets], where)
    existing = repo.ids_of(session, [terms.reference for terms, _ in budgets])
    if existing:
        problems = [
            _locate(where, i, "reference", f"budget {terms.reference!r} is already set up")
            for i, (terms, _) in enumerate(budgets)
            if terms.reference in existing
        ]
        _refuse(where, problems)
    new = [NewBudget(terms, pools[i].id, source) for i, (terms, source) in enumerate(budgets)]
    ids = repo.add_budgets(session, new, actor.username, _now())
    _post_allocations(session, budgets, pools, actor)
    return ids


def _budget(session: Session, budget_id: int) -> BudgetRow:
    found = session.get(BudgetRow, budget_id)
    assert found is not None
    return found


def _locate(
    where: Callable[[int], Problem] | None, index: int, column: str, message: str
) -> Problem:
    if where is None:
        return Problem(message, column=column)
    found = where(index)
    return Problem(message, found.file, found.row, column)


def _refuse(where: Callable[[int], Problem] | None, problems: list[Problem]) -> None:
    if not problems:
        return
    if where is None:
        raise BudgetError("budget refused", problems)
    raise ImportRejected.from_problems(problems[0].file or "the file", problems)


def _pools_for(
    session: Session, budgets: Sequence[BudgetTerms], where: Callable[[int], Problem] | None
) -> list[PoolRow]:
    """Each budget's pool: the area's pool whose year holds the budget's dates."""
    by_area: dict[str, list[PoolRow]] = defaultdict(list)
    for each in ledger.pools(session):
        by_area[each.area_code].append(each)
    found: list[PoolRow] = []
    problems: list[Problem] = []
    for index, terms in enumerate(budgets):
        pool: PoolRow | None = next(
            (
                p
                for p in by_area.get(terms.area_code, [])
                if p.starts <= terms.starts and terms.ends <= p.ends
            ),
            None,
        )
        if pool is None:
            problems.append(
                _locate(
                    where,
                    index,
                    "starts",
                    f"{terms.area_code} has no pooled budget open for the whole of "
                    f"{terms.starts.isoformat()} to {terms.ends.isoformat()}: a personal budget "
                    "runs within one year of its area's pool (open the pool from the approved "
                    "plan, and set up a new budget for the next year)",
                )
            )
        else:
            found.append(pool)
    _refuse(where, problems)
    return found


def _post_allocations(
    session: Session,
    budgets: Sequence[tuple[BudgetTerms, str]],
    pools: Sequence[PoolRow],
    actor: Principal,
) -> None:
    """One entry per budget: its parts from the pool's bank to the allocated accounts."""
    batches: dict[int, tuple[PoolRow, list[Entry]]] = {}
    for (terms, _), pool in zip(budgets, pools, strict=True):
        batches.setdefault(pool.id, (pool, []))[1].append(allocation_entry(terms))
    poster = sub_ledger_poster(actor, [pool.area_code for pool in pools])
    ledger.post_across(session, list(batches.values()), poster)
    ledger.record_for_pools(
        session,
        [
            (
                pool,
                {
                    "budgets": len(entries),
                    "allocated_pence": sum(e.postings[-1].amount for e in entries) * -1,
                },
            )
            for pool, entries in batches.values()
        ],
        actor=actor.username,
        action="set_up_personal_budgets",
    )


def allocation_entry(terms: BudgetTerms) -> Entry:
    """The budget's NHS and council parts moved from the pool's bank to the budgets."""
    postings = [
        Posting(BudgetAccounts.allocated(part), Pence(terms.part_pence(part)))
        for part in Part
        if terms.part_pence(part)
    ]
    postings.append(Posting(Accounts.BANK, Pence(-terms.total_pence)))
    return Entry(
        date=terms.starts,
        kind=EntryKind.ADJUSTMENT,
        narration=f"Personal budget {terms.reference} set up ({terms.eligibility.label})",
        postings=tuple(postings),
        correlation=f"pb:{terms.reference}",
        source={"personal_budget": terms.reference},
    )


@dataclass(frozen=True, slots=True)
class BudgetImport:
    """What a budgets import did."""

    file_name: str
    sha256: str
    budgets: int
    total_pence: int


def import_budgets(session: Session, path: Path, actor: Principal, *, key: bytes) -> BudgetImport:
    """Set up every budget in a budgets file, or none, with every problem named."""
    found = read_budgets(path, pseudonymiser(key))
    found.log.raise_if_any()
    if not found.lines:
        raise ImportRejected.from_problems(
            found.source, [Problem("the file has no budgets", found.source)]
        )
    lines = found.lines

    def where(index: int) -> Problem:
        return Problem("", found.source, lines[index].row)

    set_up(
        session,
        [(line.terms, f"{found.source} row {line.row}") for line in lines],
        actor,
        where=where,
    )
    return BudgetImport(
        found.source, file_sha256(path), len(lines), sum(line.terms.total_pence for line in lines)
    )


# --------------------------------------------------------------------------------------------
# Reading and changing budgets


def list_budgets(
    session: Session, area_code: str, viewer: Principal, *, live_on: dt.date | None = None
) -> list[BudgetRow]:
    """The area's budgets (those covering ``live_on``, if given), by start and reference."""
    require_read(viewer, area_code)
    return repo.area_budgets(session, area_code, live_on)


def get_budget(session: Session, reference: str, viewer: Principal) -> BudgetRow:
    budget = repo.find(session, reference)
    if budget is None or not may_read(viewer, budget.area_code):
        raise NotFound(f"there is no budget {reference!r}")
    return budget


@dataclass(frozen=True, slots=True)
class BudgetDetail:
    """One budget with its support plan, status history and spend by part and kind."""

    budget: BudgetRow
    support_plan: list[tuple[str, int]]
    history: list[tuple[dt.date, str, str]]
    spend: dict[tuple[str, str], int]

    @property
    def spent_pence(self) -> int:
        return sum(v for (_, kind), v in self.spend.items() if kind != "recovery")

    @property
    def overspent(self) -> bool:
        return self.budget.spent_pence > self.budget.total_pence


def budget_detail(session: Session, reference: str, viewer: Principal) -> BudgetDetail:
    budget = get_budget(session, reference, viewer)
    return BudgetDetail(
        budget,
        repo.plan_lines(session, budget.id),
        [(row.since, row.status, row.reason) for row in repo.history(session, budget.id)],
        repo.budget_spend(session, budget.id),
    )


def change_status(
    session: Session,
    reference: str,
    status: BudgetStatus,
    since: dt.date,
    reason: str,
    actor: Principal,
) -> BudgetRow:
    """Suspend, resume or end a budget from a date; the change is kept in its history."""
    budget = get_budget(session, reference, actor)
    require_manage(actor, budget.area_code)
    if not reason.strip():
        raise BudgetError("say why the budget's status changes (a reason is required)")
    if not budget.starts <= since <= budget.ends:
        raise Conflict(f"{since.isoformat()} is outside budget {reference!r}'s dates")
    if budget.status == BudgetStatus.ENDED.value:
        raise Conflict(f"budget {reference!r} has ended; set up a new one")
    before = budget.status
    repo.add_status(session, budget, status, since, reason.strip(), actor.username, _now())
    pool = next(p for p in ledger.pools(session) if p.id == budget.pool_id)
    ledger.record_for_pool(
        session,
        pool,
        actor=actor.username,
        action="personal_budget_status",
        before={"budget": reference, "status": before},
        after={"budget": reference, "status": status.value, "since": since.isoformat()},
    )
    return budget


def overspent(
    session: Session, viewer: Principal, area_code: str | None = None
) -> list[tuple[str, int, int]]:
    """Budgets spending more than their whole: reference, budget and spend in pence."""
    if area_code is not None:
        require_read(viewer, area_code)
    elif not viewer.is_national:
        raise Forbidden("only the national team sees every area's budgets")
    return repo.overspent(session, area_code)
