"""Setting budgets up and importing their spend, end to end through the service: the
budgets, the pools' sub-ledgers and the quarterly collection agree to the penny."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from budget_files import NHS_NUMBERS, TRANSACTION_HEADER, WriteFile, budgets_csv
from sqlalchemy import Engine

from carepool.budgets import service
from carepool.budgets.service.budgets import BudgetRequest
from carepool.domain.errors import CarepoolError, ImportRejected
from carepool.domain.ledger import Accounts
from carepool.domain.money import Pence
from carepool.domain.personal_budget import (
    BudgetAccounts,
    BudgetStatus,
    BudgetTerms,
    Eligibility,
    NhsHolding,
    Part,
    SupportPlanLine,
)
from carepool.domain.roles import SYSTEM, principal
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work

KEY = b"a test pseudonym key of at least thirty-two bytes"


def _import(engine: Engine, path: Path) -> None:
    with unit_of_work(engine) as session:
        service.import_budgets(session, path, SYSTEM, key=KEY)


def _pool_balance(engine: Engine, area: str) -> dict[str, int]:
    with unit_of_work(engine) as session:
        pool = ledger.pool_for(session, "2015-16", area, SYSTEM)
        return dict(ledger.balances(session, pool))


def test_budgets_file_sets_budgets_up_and_posts_their_allocations(
    areas: list[str], engine: Engine, write_file: WriteFile
) -> None:
    area, other = areas
    before = _pool_balance(engine, area)
    _import(engine, write_file("budgets.csv", budgets_csv(area, other)))
    with unit_of_work(engine) as session:
        listed = service.list_budgets(session, area, SYSTEM)
        detail = service.budget_detail(session, "PB-2", SYSTEM)
    assert [b.reference for b in listed] == ["PB-1", "PB-2", "PB-3"]
    assert all(len(b.person) == 64 and NHS_NUMBERS[0] not in b.person for b in listed)
    assert detail.support_plan == [("Personal assistant", 500000), ("Respite", 100000)]
    assert [h[1] for h in detail.history] == ["active"]
    after = _pool_balance(engine, area)
    assert after[BudgetAccounts.allocated(Part.NHS)] == 1200000 + 400000 + 150050
    assert after[BudgetAccounts.allocated(Part.COUNCIL)] == 200000
    assert after[Accounts.BANK] - before.get(Accounts.BANK, 0) == -(1200000 + 600000 + 150050)


def test_transactions_post_to_the_sub_ledger_and_the_report_agrees(
    areas: list[str], engine: Engine, write_file: WriteFile
) -> None:
    area, other = areas
    _import(engine, write_file("budgets.csv", budgets_csv(area, other)))
    lines = "\n".join(
        [
            TRANSACTION_HEADER,
            "PB-1,2015-04-30,provider_invoice,nhs,800.00,INV-1",
            "PB-1,2015-05-31,provider_invoice,nhs,833.33,INV-2",
            "PB-2,2015-05-20,direct_payment_return,nhs,300.10,DP-1",
            "PB-2,2015-07-20,direct_payment_return,council,150,DP-2",
            "PB-2,2015-08-01,recovery,nhs,99.99,REC-1",
            "PB-3,2015-06-15,card_statement,nhs,1600.00,CARD-1",
            "PB-4,2015-06-30,provider_invoice,council,500.00,INV-9",
        ]
    )
    with unit_of_work(engine) as session:
        outcome = service.import_transactions(session, write_file("t.csv", lines), SYSTEM)
    assert outcome.rows == 7
    assert outcome.spend_pence == 80000 + 83333 + 30010 + 15000 + 160000 + 50000
    assert outcome.recovered_pence == 9999
    balance = _pool_balance(engine, area)
    assert balance[BudgetAccounts.spend(Part.NHS)] == 80000 + 83333 + 30010 + 160000
    assert balance[BudgetAccounts.spend(Part.COUNCIL)] == 15000
    with unit_of_work(engine) as session:
        q1 = service.quarter_report(session, "2015-16", 1, SYSTEM, area)
        q2 = service.quarter_report(session, "2015-16", 2, SYSTEM)
        overspent = service.overspent(session, SYSTEM, area)
    assert q1.ledger_agrees and q2.ledger_agrees
    assert q1.collection.spend_pence == 80000 + 83333 + 30010 + 160000
    assert q1.collection.live_at_quarter_end == 3
    assert q1.collection.by_type == {"notional": 1, "third_party": 1, "direct_payment": 1}
    assert q2.collection.spend_pence == 15000
    assert q2.collection.council_people == 2 and q2.collection.council_direct_payments == 1
    assert overspent == [("PB-3", 150050, 160000)]


def test_a_budget_ended_early_is_active_in_the_year_but_not_live(
    areas: list[str], engine: Engine, write_file: WriteFile
) -> None:
    area, other = areas
    _import(engine, write_file("budgets.csv", budgets_csv(area, other)))
    with unit_of_work(engine) as session:
        service.change_status(
            session, "PB-1", BudgetStatus.ENDED, dt.date(2015, 8, 31), "moved away", SYSTEM
        )
    with unit_of_work(engine) as session:
        q2 = service.quarter_report(session, "2015-16", 2, SYSTEM, area).collection
        q3 = service.quarter_report(session, "2015-16", 3, SYSTEM, area).collection
        q4 = service.quarter_report(session, "2015-16", 4, SYSTEM, area).collection
    assert (q2.live_at_quarter_end, q2.active_in_year) == (2, 3)  # PB-1 ended in Q2
    assert (q3.live_at_quarter_end, q3.active_in_year) == (2, 3)  # PB-2 runs to 31 December
    assert (q4.live_at_quarter_end, q4.active_in_year) == (1, 3)
    assert q4.by_eligibility["continuing_healthcare"] == 0
    assert q4.active_in_year_by_eligibility["continuing_healthcare"] == 1


def test_one_budget_set_up_by_hand_is_pseudonymised_and_checked(
    areas: list[str], engine: Engine
) -> None:
    area, _ = areas
    terms = BudgetTerms(
        reference="PB-H",
        area_code=area,
        person="",
        eligibility=Eligibility.CHILDRENS_CONTINUING_CARE,
        starts=dt.date(2015, 4, 1),
        ends=dt.date(2016, 3, 31),
        review_due=dt.date(2015, 10, 1),
        total_pence=1000,
        nhs_pence=900,
        council_pence=0,
        nhs_holding=NhsHolding.NOTIONAL,
        council_holding=None,
        support_plan=(SupportPlanLine("Care", Pence(1000)),),
    )
    coordinator = principal("pbc", "Coordinator", [f"pool_finance:{area}"])
    with pytest.raises(CarepoolError) as refused, unit_of_work(engine) as session:
        service.create_budget(session, BudgetRequest(NHS_NUMBERS[4], terms), coordinator, key=KEY)
    assert "add up to £9.00, not the whole budget £10.00" in str(refused.value)
    with unit_of_work(engine) as session:
        fixed = BudgetTerms(**{**_fields(terms), "nhs_pence": 1000})
        row = service.create_budget(
            session, BudgetRequest(NHS_NUMBERS[4], fixed), coordinator, key=KEY
        )
        assert row.person != NHS_NUMBERS[4] and len(row.person) == 64
    outsider = principal("x", "X", [f"pool_finance:{_}"])
    with pytest.raises(CarepoolError), unit_of_work(engine) as session:
        service.list_budgets(session, area, outsider)


def _fields(terms: BudgetTerms) -> dict[str, object]:
    return {name: getattr(terms, name) for name in terms.__dataclass_fields__}


def test_a_transactions_file_is_imported_once(
    areas: list[str], engine: Engine, write_file: WriteFile
) -> None:
    area, other = areas
    _import(engine, write_file("budgets.csv", budgets_csv(area, other)))
    path = write_file("t.csv", f"{TRANSACTION_HEADER}\nPB-1,2015-04-30,provider_invoice,nhs,1,A")
    with unit_of_work(engine) as session:
        service.import_transactions(session, path, SYSTEM)
    with pytest.raises(ImportRejected, match="already imported"), unit_of_work(engine) as session:
        service.import_transactions(session, path, SYSTEM)
