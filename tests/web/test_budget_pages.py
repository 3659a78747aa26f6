"""Personal budget pages: a person's budget is seen only by the area's coordinator and pool
finance officer; everyone else sees the quarterly collection's aggregates, published under
disclosure control; and no page ever shows an NHS number.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from carepool.budgets import service
from carepool.domain.pseudonym import is_valid_nhs_number
from carepool.domain.roles import SYSTEM
from carepool.pools.service import ledger, settlement
from carepool.store.db import unit_of_work

ClientFor = Callable[..., Any]
CsrfOf = Callable[[str], str]

NHS_NUMBER = "943 476 5919"
"""A valid NHS number (the NHS's own example), typed into the set-up form."""
KEY = "test-pseudonym-key-for-carepool-budget-pages-0123456789"
QUARTER = "2015-16-Q4"
_TEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}(?![0-9])")


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREPOOL_PSEUDONYM_KEY", KEY)


def no_nhs_numbers(html: str) -> None:
    """No valid NHS number, in any spelling, anywhere in the page."""
    found = [m for m in _TEN_DIGITS.findall(html) if is_valid_nhs_number(m)]
    assert not found, f"NHS numbers in the page: {found[:3]}"


def _budgets(engine: Engine, area: str) -> list[service.BudgetRow]:
    with unit_of_work(engine) as session:
        rows = service.list_budgets(session, area, SYSTEM)
        session.expunge_all()
        return rows


# ---------------------------------------------------------------------------------------
# Who sees what


def test_the_public_sees_englands_collection_rounded_and_no_people(
    demo_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    page = client_for(demo_engine).get(f"/budgets?quarter={QUARTER}")
    assert page.status_code == 200
    assert "Counts from 1 to 7 are withheld" in page.text
    live = re.search(r'id="live-total">([^<]+)<', page.text)
    assert live and int(live.group(1).replace(",", "")) % 5 == 0
    assert "/people" not in page.text, "the public gets no link to people's budgets"
    assert f"/budgets/{own}?quarter={QUARTER}" in page.text
    no_nhs_numbers(page.text)


def test_national_roles_see_exact_counts_but_no_people(
    demo_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    client = client_for(demo_engine, "analyst")
    page = client.get(f"/budgets?quarter={QUARTER}")
    assert page.status_code == 200
    assert "Counts from 1 to 7 are withheld" not in page.text
    with unit_of_work(demo_engine) as session:
        exact = service.quarter_report(session, "2015-16", 4, SYSTEM).collection
    assert f'id="live-total">{exact.live_at_quarter_end:,}<' in page.text
    assert f'id="active-total">{exact.active_in_year:,}<' in page.text
    for path in (f"/budgets/{own}/people", f"/budgets/{own}/transactions"):
        assert client.get(path).status_code == 403, path


def test_the_coordinator_sees_their_areas_budgets_and_no_other(
    demo_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, other = area_codes
    mine, theirs = _budgets(demo_engine, own), _budgets(demo_engine, other)
    assert mine and theirs, "the demo gives every area budgets"
    client = client_for(demo_engine, "coordinator")

    listed = client.get(f"/budgets/{own}/people")
    assert listed.status_code == 200
    assert mine[0].reference in listed.text
    no_nhs_numbers(listed.text)

    refused = client.get(f"/budgets/{other}/people")
    assert refused.status_code == 403
    assert theirs[0].reference not in refused.text
    assert client.get(f"/budgets/{other}/people/{theirs[0].reference}").status_code == 403
    assert client.get(f"/budgets/{other}/transactions").status_code == 403

    # Another area's budget asked for under one's own area reads as missing.
    hidden = client.get(f"/budgets/{own}/people/{theirs[0].reference}")
    missing = client.get(f"/budgets/{own}/people/NO-SUCH-BUDGET")
    assert hidden.status_code == missing.status_code == 404
    same = _main(hidden.text).replace(theirs[0].reference, "X")
    assert same == _main(missing.text).replace("NO-SUCH-BUDGET", "X"), "nothing tells them apart"


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def test_the_budget_page_shows_parts_plan_history_and_spend(
    demo_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    budget = _budgets(demo_engine, own)[0]
    page = client_for(demo_engine, "finance").get(f"/budgets/{own}/people/{budget.reference}")
    assert page.status_code == 200
    for section in ('id="parts-table"', 'id="plan-table"', 'id="history-table"', 'id="spend"'):
        assert section in page.text
    assert budget.person not in page.text, "the whole pseudonym is not shown either"
    no_nhs_numbers(page.text)


def test_an_areas_collection_is_exact_for_its_coordinator_only(
    demo_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, other = area_codes
    client = client_for(demo_engine, "coordinator")
    mine = client.get(f"/budgets/{own}?quarter={QUARTER}").text
    theirs = client.get(f"/budgets/{other}?quarter={QUARTER}").text
    assert "Counts from 1 to 7 are withheld" not in mine
    assert f"/budgets/{own}/people" in mine
    assert "Counts from 1 to 7 are withheld" in theirs
    assert f"/budgets/{other}/people" not in theirs


def test_the_api_publishes_rounded_counts_to_the_public(
    demo_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    body = client_for(demo_engine).get(f"/api/v1/budgets/collection/{QUARTER}/{own}").json()
    assert body["exact"] is False and body["area_code"] == own
    counts = [body["live_at_quarter_end"], body["active_in_year"], *body["by_type"].values()]
    assert all(c is None or c % 5 == 0 for c in counts)
    england = client_for(demo_engine).get(f"/api/v1/budgets/collection/{QUARTER}").json()
    assert england["area_code"] is None and england["live_at_quarter_end"] > 0
    assert client_for(demo_engine).get("/api/v1/budgets/collection/Q9").status_code == 422
    assert client_for(demo_engine).get("/api/v1/budgets/collection/2015-17-Q1").status_code == 404


# ---------------------------------------------------------------------------------------
# Setting a budget up and uploading its spend


def _set_up_form(**changes: str) -> dict[str, str]:
    form = {
        "reference": "PB-TEST-0001",
        "nhs-number": NHS_NUMBER,
        "eligibility": "continuing_healthcare",
        "starts-day": "1", "starts-month": "1", "starts-year": "2016",
        "ends-day": "31", "ends-month": "3", "ends-year": "2016",
        "review-day": "1", "review-month": "3", "review-year": "2016",
        "nhs-amount": "12,000.00", "nhs-holding": "direct_payment",
        "council-amount": "3,000", "council-holding": "council_managed",
        "plan-1-description": "Personal assistant, 10 hours a week", "plan-1-cost": "13,500",
        "plan-2-description": "Day opportunities", "plan-2-cost": "1,500.00",
    }  # fmt: skip
    form.update(changes)
    return form


def test_a_refused_set_up_names_each_field_and_never_echoes_the_nhs_number(
    fresh_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    client = client_for(fresh_engine, "coordinator")
    token = csrf_of(client.get(f"/budgets/{own}/people/new").text)
    bad = _set_up_form(**{"nhs-amount": "12,000.005", "plan-2-cost": "1,400", "ends-day": "32"})
    page = client.post(f"/budgets/{own}/people/new", data={"csrf_token": token, **bad})
    assert page.status_code == 400
    assert "There is a problem" in page.text
    assert 'href="#nhs-amount"' in page.text and 'href="#ends-day"' in page.text
    assert NHS_NUMBER not in page.text and NHS_NUMBER.replace(" ", "") not in page.text
    assert 'value="Day opportunities"' in page.text, "what was typed is kept"

    wrong_sum = client.post(
        f"/budgets/{own}/people/new",
        data={"csrf_token": token, **_set_up_form(**{"plan-2-cost": "1,400"})},
    )
    assert wrong_sum.status_code in (400, 422)
    assert 'href="#plan-1-description"' in wrong_sum.text
    assert "PB-TEST-0001" not in [b.reference for b in _budgets(fresh_engine, own)]


def _reopen(engine: Engine, area: str) -> None:
    """The demo settled 2015-16 and closed its first three quarters: reopen the year, as the
    national team would, so that budgets can start in its last quarter."""
    with unit_of_work(engine) as session:
        pool = next(p for p in ledger.pools(session, "2015-16") if p.area_code == area)
        settlement.reopen(session, pool, SYSTEM, "to set up budgets from January", "2015-16")


def test_a_budget_in_a_settled_year_is_refused_with_the_way_to_reopen_it(
    fresh_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    client = client_for(fresh_engine, "coordinator")
    token = csrf_of(client.get(f"/budgets/{own}/people/new").text)
    page = client.post(f"/budgets/{own}/people/new", data={"csrf_token": token, **_set_up_form()})
    assert page.status_code == 409
    assert "There is a problem" in page.text and "settled" in page.text
    assert "PB-TEST-0001" not in [b.reference for b in _budgets(fresh_engine, own)]


def test_the_coordinator_sets_up_a_blended_budget_and_uploads_its_spend(
    fresh_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    _reopen(fresh_engine, own)
    client = client_for(fresh_engine, "coordinator")
    token = csrf_of(client.get(f"/budgets/{own}/people/new").text)
    made = client.post(
        f"/budgets/{own}/people/new",
        data={"csrf_token": token, **_set_up_form()},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"])
    assert "Budget PB-TEST-0001" in page.text and "£15,000.00" in page.text
    assert "Personal assistant, 10 hours a week" in page.text
    no_nhs_numbers(page.text)

    bad = (
        "budget,date,kind,part,amount,reference\n"
        "PB-TEST-0001,2016-02-01,provider_invoice,nhs,-5,x\n"
    )
    refused = _upload(client, csrf_of, own, "bad.csv", bad)
    assert refused.status_code in (400, 422)
    assert "bad.csv" in refused.text and "row 2" in refused.text.lower()
    assert "amount" in refused.text

    good = (
        "budget,date,kind,part,amount,reference\n"
        "PB-TEST-0001,2016-02-01,direct_payment_return,nhs,1000.00,DP-1\n"
        "PB-TEST-0001,2016-03-01,provider_invoice,council,250.50,INV-9\n"
    )
    posted = _upload(client, csrf_of, own, "spend.csv", good)
    assert posted.status_code == 200 and "2 transactions posted" in posted.text
    page = client.get(f"/budgets/{own}/people/PB-TEST-0001")
    assert 'id="budget-spent">£1,250.50<' in page.text


def _upload(client: Any, csrf_of: CsrfOf, area: str, name: str, text: str) -> Any:
    token = csrf_of(client.get(f"/budgets/{area}/transactions").text)
    files = {"transactions_file": (name, io.BytesIO(text.encode()), "text/csv")}
    return client.post(f"/budgets/{area}/transactions", data={"csrf_token": token}, files=files)


def test_only_the_coordinator_sets_budgets_up(
    demo_engine: Engine, client_for: ClientFor, area_codes: tuple[str, str]
) -> None:
    own, _ = area_codes
    assert client_for(demo_engine, "finance").get(f"/budgets/{own}/people/new").status_code == 403
    assert client_for(demo_engine, "national").get(f"/budgets/{own}/people/new").status_code == 403
    public = client_for(demo_engine).get(f"/budgets/{own}/people/new", follow_redirects=False)
    assert public.status_code == 303 and public.headers["location"].startswith("/sign-in")


def test_a_coordinator_cannot_post_spend_to_another_areas_budget(
    fresh_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf, area_codes: tuple[str, str]
) -> None:
    own, other = area_codes
    theirs = _budgets(fresh_engine, other)[0]
    client = client_for(fresh_engine, "coordinator")
    day = theirs.ends.isoformat()
    text = f"budget,date,kind,part,amount,reference\n{theirs.reference},{day},provider_invoice,"
    part = "nhs" if theirs.nhs_pence else "council"
    refused = _upload(client, csrf_of, own, "theirs.csv", f"{text}{part},10.00,X\n")
    assert refused.status_code == 403, refused.text
    assert "There is a problem" in refused.text
    after = next(b for b in _budgets(fresh_engine, other) if b.reference == theirs.reference)
    assert after.spent_pence == theirs.spent_pence, "nothing was posted"
