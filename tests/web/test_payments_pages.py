"""The payment pages: who sees which payments and which buttons, what the public may read, the
download that matches the table, and the national team's steps taken from the page.

The world (``payment_fixtures``): 2015-16 Q1 paid, Q2 drafted by ``national`` and waiting to
be checked; the demo users' own area partly met its Q1 plan, one area measured only 5
admissions.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal
from html import unescape
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine
from test_pages_html import check_page

from carepool.accounts import service as accounts
from carepool.domain.disclosure import round_to_base
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.money import format_money
from carepool.domain.payment import RevisionAction, RunStatus, variation
from carepool.domain.roles import SYSTEM
from carepool.metrics.service.results import save_results
from carepool.payments.service import ambitions
from carepool.payments.service import runs as payments
from carepool.payments.service import status as standing
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work

if TYPE_CHECKING:
    from payment_fixtures import PaymentWorld

pytest_plugins = ("payment_fixtures",)  # payment_world, payment_engine, fresh_payment_engine

YEAR = "2015-16"
ClientFor = Callable[..., Any]
CsrfOf = Callable[[str], str]

NATIONAL = ("national", "national2", "analyst", "health", "assurer", "localgov")
LOCAL = ("area", "finance", "signatory", "chair")
BUTTON_WORDS = (
    "Record that the run is checked",
    "Approve the run for payment",
    "Pay the run into the pools",
    "Send back to draft",
    "Draft the",
    "Draft a revised",
)


def _buttons(html: str) -> set[str]:
    """The words on every submit button of the page's forms except signing out."""
    found = re.findall(r'<button type="submit" class="govuk-button[^"]*"[^>]*>\s*(.*?)\s*<', html)
    return {unescape(text) for text in found}


def _rows(html: str, table_id: str = "payments-table") -> list[list[str]]:
    """Each body row of a table as the text of its cells."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody", 1)[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows


def _quarter(cell: str) -> str:
    """``Q1`` from a table's quarter cell (its link also says, hidden, what it explains)."""
    return cell.split(":")[0].strip()


def _own_q1(engine: Engine, area: str) -> Any:
    with unit_of_work(engine) as session:
        return next(r.line for r in standing.status(session, YEAR, 1) if r.line.area_code == area)


# --------------------------------------------------------------------------------------------
# Every page parses, for everyone who may see it


def _pages(world: PaymentWorld, username: str | None) -> list[str]:
    pages = [
        f"/payments/{YEAR}",
        "/payments/2017-19",
        f"/payments/{YEAR}/{world.own}",
        f"/payments/{YEAR}/{world.own}/Q1",
        f"/payments/{YEAR}/{world.small}/Q1",
        f"/payments/{YEAR}/{world.not_met}",
        f"/payments/{YEAR}/{world.no_pool}",
    ]
    if username in (*NATIONAL, *LOCAL):
        pages.append(f"/payments/{YEAR}/{world.own}/Q2")  # drafted, not paid
        pages.append(f"/payments/{YEAR}/{world.own}/what-if?quarter=Q2&ambition=10")
    return pages


@pytest.mark.parametrize("username", [None, "national", "analyst", "finance", "signatory"])
def test_every_payment_page_is_valid_html(
    username: str | None,
    payment_engine: Engine,
    payment_world: PaymentWorld,
    client_for: ClientFor,
) -> None:
    client = client_for(payment_engine, username)
    for path in _pages(payment_world, username):
        response = client.get(path)
        assert response.status_code == 200, f"{path} as {username}: {response.status_code}"
        check_page(response.text, f"{path} as {username or 'public'}")


def test_the_pages_are_reached_from_the_menu_the_home_page_and_the_national_dashboard(
    payment_engine: Engine, client_for: ClientFor
) -> None:
    link = f'href="/payments/{YEAR}"'
    for username in (None, "finance", "national"):
        client = client_for(payment_engine, username)
        assert link in client.get("/").text.split('id="main-content"')[0], username  # the menu
        assert link in client.get("/").text.split('id="main-content"')[1], username
    assert link in client_for(payment_engine, "analyst").get("/national").text


# --------------------------------------------------------------------------------------------
# Who sees which buttons


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        # national drafted Q2, so it may only draft it again; someone else checks. Nothing is
        # measured for Q3 and Q4 yet, so there is nothing to draft them from.
        ("national", {"Draft the 2015-16 Q2 run again from the latest data",
                      "Draft a revised 2015-16 Q1 run from the latest data"}),
        ("national2", {"Record that the run is checked",
                       "Draft the 2015-16 Q2 run again from the latest data",
                       "Draft a revised 2015-16 Q1 run from the latest data"}),
        ("analyst", {"Record that the run is checked"}),
        ("health", set()),  # approves a checked run; Q2 is only drafted
        ("assurer", set()),
        ("localgov", set()),
    ],
)  # fmt: skip
def test_each_national_role_sees_exactly_the_steps_it_may_take_now(
    username: str, expected: set[str], payment_engine: Engine, client_for: ClientFor
) -> None:
    page = client_for(payment_engine, username).get(f"/payments/{YEAR}")

    assert page.status_code == 200
    shown = {b for b in _buttons(page.text) if b.startswith(BUTTON_WORDS)}
    assert shown == expected
    assert "Payments by area and quarter" in page.text
    if username == "national":
        assert "National drafted this run, so someone else must check it." in page.text


@pytest.mark.parametrize("username", [None, *LOCAL])
def test_local_users_and_the_public_see_the_published_page_without_any_step(
    username: str | None,
    payment_engine: Engine,
    payment_world: PaymentWorld,
    client_for: ClientFor,
) -> None:
    page = client_for(payment_engine, username).get(f"/payments/{YEAR}")

    assert page.status_code == 200
    assert "Payments made, by area and quarter" in page.text
    assert not {b for b in _buttons(page.text) if b.startswith(BUTTON_WORDS)}
    assert "<form" not in page.text.split('id="main-content"', 1)[1]
    own_link = f'href="/payments/{YEAR}/{payment_world.own}">Your area'
    assert (own_link in page.text) == (username is not None)


# --------------------------------------------------------------------------------------------
# What the public may read


def test_the_public_sees_only_paid_payments_with_small_counts_withheld(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    public = client_for(payment_engine).get(f"/payments/{YEAR}").text
    national = client_for(payment_engine, "national").get(f"/payments/{YEAR}").text

    rows = _rows(public)
    assert rows and {_quarter(row[1]) for row in rows} == {"Q1"}
    assert {_quarter(row[1]) for row in _rows(national)} == {"Q1", "Q2"}
    small = next(r for r in rows if f"/{payment_world.small}/" in _row_html(public, r))
    assert small[5] == "[c]"
    assert next(r for r in _rows(national) if r[0] == small[0] and r[1].startswith("Q1"))[5] == "5"
    own = _own_q1(payment_engine, payment_world.own)
    shown = next(r for r in rows if r[0] == payment_world.own_name)
    assert shown[5] == f"{round_to_base(int(own.actual)):,}"
    assert shown[7] == format_money(own.released_pence)  # money exactly as paid
    assert "Counts of admissions come from person-level hospital records" in public


def test_the_year_totals_split_what_is_paid_from_what_is_not_and_the_public_sees_the_paid(
    payment_engine: Engine, client_for: ClientFor
) -> None:
    national = client_for(payment_engine, "national").get(f"/payments/{YEAR}").text
    public = client_for(payment_engine).get(f"/payments/{YEAR}").text
    with unit_of_work(payment_engine) as session:
        rows = standing.status(session, YEAR)

    for paid, prefix in ((True, "totals"), (False, "unpaid")):
        shown = [r.line for r in rows if (r.run_status == RunStatus.PAID) == paid]
        for key in ("pot", "released", "retained"):
            amount = format_money(sum(getattr(line, f"{key}_pence") for line in shown))
            assert f'id="{prefix}-{key}">{amount}<' in national, (prefix, key)
            if paid and key != "pot":
                assert f'id="{prefix}-{key}">{amount}<' in public, key


def _row_html(html: str, row: list[str]) -> str:
    """The HTML of the table row whose first cell is ``row``'s (for its links)."""
    for found in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S):
        if row[0] in unescape(found) and "Q1" in found:
            return str(found)
    return ""


def test_an_unpaid_payment_is_not_found_for_the_public_and_explained_to_its_area(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    path = f"/payments/{YEAR}/{payment_world.own}/Q2"
    public = client_for(payment_engine).get(path)
    other = client_for(payment_engine, payment_world.other_finance).get(path)
    own = client_for(payment_engine, "finance").get(path)

    for refused in (public, other):
        assert refused.status_code == 404
        assert "has been published: a payment is published once it has been paid" in refused.text
    assert own.status_code == 200
    assert "Nothing has been posted yet: the run is draft" in own.text


def test_the_public_explanation_keeps_the_formula_and_leaves_out_ids_hashes_and_names(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    path = f"/payments/{YEAR}/{payment_world.own}/Q1"
    public = client_for(payment_engine).get(path)
    full = client_for(payment_engine, "finance").get(path)
    own = _own_q1(payment_engine, payment_world.own)

    assert public.status_code == full.status_code == 200
    for page in (public.text, full.text):
        assert "Recomputed from the stored inputs: reproduces the posted pence." in page
        assert format_money(own.released_pence) in page
    rounded = f"{round_to_base(int(own.actual))}"
    assert f"max(0, {own.baseline} − {rounded})" in public.text
    assert f"max(0, {own.baseline} − {own.actual})" in full.text
    for hidden in ("ledger-entries", "audit-events", "national #", "pool/2015-16/", ">analyst</"):
        assert hidden in full.text, hidden
        assert hidden not in public.text, hidden
    assert "Assets:Pool:PerformanceHeld" in full.text


def test_a_withheld_count_is_withheld_in_the_public_explanation_too(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    public = client_for(payment_engine).get(f"/payments/{YEAR}/{payment_world.small}/Q1").text

    actual = public.split('id="actual">', 1)[1].split("<", 1)[0]
    assert actual.strip() == "[c] (as published)"
    assert "− [c])" in public
    assert "− 5)" not in public


# --------------------------------------------------------------------------------------------
# One area


def test_an_areas_people_see_every_status_and_others_only_what_is_paid(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    path = f"/payments/{YEAR}/{payment_world.own}"
    own = client_for(payment_engine, "signatory").get(path).text
    finance = client_for(payment_engine, "finance").get(path).text
    other = client_for(payment_engine, payment_world.other_finance).get(path).text

    assert [r[0] for r in _rows(own, "area-payments")] == [f"{YEAR} Q1", f"{YEAR} Q2"]
    assert [r[0] for r in _rows(other, "area-payments")] == [f"{YEAR} Q1"]
    assert 'id="area-history"' in own and 'id="area-history"' not in other
    assert 'id="pool-link"' in finance and 'id="pool-link"' not in own  # the books: finance


def test_an_area_without_a_pool_is_told_so(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    page = client_for(payment_engine).get(f"/payments/{YEAR}/{payment_world.no_pool}")
    assert page.status_code == 200 and 'id="no-pool"' in page.text


# --------------------------------------------------------------------------------------------
# The download


@pytest.mark.parametrize("username", [None, "national"])
def test_the_csv_has_the_rows_of_the_table(
    username: str | None, payment_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(payment_engine, username)
    table = _rows(client.get(f"/payments/{YEAR}").text)
    download = client.get(f"/payments/{YEAR}.csv")

    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    scope = "" if username else "-paid"
    assert (
        f'filename="carepool-payments-{YEAR}{scope}-synthetic.csv"'
        in (download.headers["content-disposition"])
    )
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == len(table)
    for row, cells in zip(rows, table, strict=True):
        assert row["area_name"] == cells[0]
        assert row["quarter"].endswith(_quarter(cells[1]))
        assert (row["actual"] or "–") == cells[5].replace(",", "")
        assert format_money(int(row["released"].replace(".", ""))) == cells[7]
        assert row["run"] in cells[9] and row["run_status"] in cells[9]
    if username is None:
        assert {row["run_status"] for row in rows} == {RunStatus.PAID.value}


# --------------------------------------------------------------------------------------------
# Addresses that do not exist


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/payments/1999-00", "there is no programme year &#39;1999-00&#39;"),
        ("/payments/1999-00.csv", "there is no programme year"),
        (f"/payments/{YEAR}/E99999999", "no HWB area &#39;E99999999&#39; in 2015-16"),
        (f"/payments/{YEAR}/E99999999/Q1", "no HWB area"),
        (f"/payments/{YEAR}/{{own}}/Q5", "&#39;Q5&#39; is not a quarter: use Q1, Q2, Q3 or Q4"),
        (f"/payments/{YEAR}/{{own}}/Q3", "no payment to"),
    ],
)
def test_a_bad_year_area_or_quarter_is_not_found_with_a_clear_message(
    path: str,
    message: str,
    payment_engine: Engine,
    payment_world: PaymentWorld,
    client_for: ClientFor,
) -> None:
    response = client_for(payment_engine).get(path.format(own=payment_world.own))
    assert response.status_code == 404
    assert message.lower() in response.text.lower()
    check_page(response.text, path)


# --------------------------------------------------------------------------------------------
# The steps, from the page


def _form_token(client: Any, csrf_of: CsrfOf) -> str:
    """The session's CSRF token, from a page with a form (every page once signed in)."""
    return csrf_of(client.get("/sign-in").text)


def test_a_step_without_the_csrf_token_is_refused(
    fresh_payment_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(fresh_payment_engine, "analyst")
    response = client.post(f"/payments/{YEAR}/runs/Q2/check", data={"version": "1"})
    assert response.status_code == 403
    with unit_of_work(fresh_payment_engine) as session:
        assert payments.run_in_play(session, YEAR, 2).status == RunStatus.DRAFT


def test_local_users_and_the_public_cannot_take_a_step(
    fresh_payment_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    for username in ("finance", "area"):
        client = client_for(fresh_payment_engine, username)
        token = _form_token(client, csrf_of)
        refused = client.post(
            f"/payments/{YEAR}/runs/Q2/check", data={"csrf_token": token, "version": "1"}
        )
        assert refused.status_code == 403, username
    public = client_for(fresh_payment_engine)
    token = _form_token(public, csrf_of)
    sent = public.post(
        f"/payments/{YEAR}/runs/Q3/draft", data={"csrf_token": token}, follow_redirects=False
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/sign-in")


def test_the_national_team_checks_approves_and_pays_a_quarter_from_the_page(
    fresh_payment_engine: Engine,
    payment_world: PaymentWorld,
    client_for: ClientFor,
    csrf_of: CsrfOf,
) -> None:
    for username, action, done in (
        ("analyst", "check", "2015-16 Q2 v1 checked"),
        ("health", "approve", "2015-16 Q2 v1 approved for payment"),
        ("national", "pay", "2015-16 Q2 v1 paid into"),
    ):
        client = client_for(fresh_payment_engine, username)
        token = _form_token(client, csrf_of)
        page = client.post(
            f"/payments/{YEAR}/runs/Q2/{action}", data={"csrf_token": token, "version": "1"}
        )
        assert page.status_code == 200, page.text
        assert done in page.text
    public = client_for(fresh_payment_engine).get(f"/payments/{YEAR}/{payment_world.own}").text
    assert [r[0] for r in _rows(public, "area-payments")] == [f"{YEAR} Q1", f"{YEAR} Q2"]


def test_four_eyes_a_missing_reason_and_a_stale_page_are_refused_on_the_page(
    fresh_payment_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    national = client_for(fresh_payment_engine, "national")
    token = _form_token(national, csrf_of)
    own_draft = national.post(
        f"/payments/{YEAR}/runs/Q2/check", data={"csrf_token": token, "version": "1"}
    )
    assert own_draft.status_code == 409
    assert "National drafted this run, so someone else must check it" in own_draft.text
    analyst = client_for(fresh_payment_engine, "analyst")
    token = _form_token(analyst, csrf_of)
    stale = analyst.post(
        f"/payments/{YEAR}/runs/Q2/check", data={"csrf_token": token, "version": "7"}
    )
    assert stale.status_code == 409
    assert "You acted on version 7" in stale.text
    check_page(stale.text, "stale version")
    analyst.post(f"/payments/{YEAR}/runs/Q2/check", data={"csrf_token": token, "version": "1"})
    admin = client_for(fresh_payment_engine, "national2")
    token = _form_token(admin, csrf_of)
    no_reason = admin.post(
        f"/payments/{YEAR}/runs/Q2/send-back", data={"csrf_token": token, "version": "1"}
    )
    assert no_reason.status_code == 409
    assert 'href="#reason-Q2"' in no_reason.text and "Say why the run goes back" in no_reason.text
    check_page(no_reason.text, "send back without a reason")
    sent_back = admin.post(
        f"/payments/{YEAR}/runs/Q2/send-back",
        data={"csrf_token": token, "version": "1", "reason": "Q2 data for two areas is late"},
    )
    assert "2015-16 Q2 v1 sent back to draft" in sent_back.text
    assert "Q2 data for two areas is late" in sent_back.text  # in the run's timeline


def test_an_administrator_drafts_a_quarter_and_drafting_again_changes_nothing(
    fresh_payment_engine: Engine, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(fresh_payment_engine, "national")
    token = _form_token(client, csrf_of)
    first = client.post(f"/payments/{YEAR}/runs/Q3/draft", data={"csrf_token": token})
    again = client.post(f"/payments/{YEAR}/runs/Q2/draft", data={"csrf_token": token})

    assert first.status_code == 404
    assert "No area can be paid for 2015-16 Q3" in first.text  # nothing measured for Q3
    check_page(first.text, "draft refused")
    assert "The stored inputs give 2015-16 Q2 v1 again, so nothing changed" in again.text


# --------------------------------------------------------------------------------------------
# The money in the pool


def test_a_finance_officer_finds_the_payment_in_the_pools_books(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    client = client_for(payment_engine, "finance")
    pool = client.get(f"/pools/{YEAR}/{payment_world.own}").text
    assert f'href="/payments/{YEAR}/{payment_world.own}"' in pool
    retained = _own_q1(payment_engine, payment_world.own).retained_pence
    assert retained > 0  # the area partly met its Q1 plan
    shortfall = pool.split('id="performance-shortfall"', 1)[1].split("</div>", 1)[0]
    assert format_money(retained) in shortfall and "Section 75" in shortfall
    explained = client.get(f"/payments/{YEAR}/{payment_world.own}/Q1").text
    ids = re.findall(rf"/pools/{YEAR}/{payment_world.own}/entries/(\d+)", explained)
    assert len(ids) == 2
    accounts: set[str] = set()
    for entry_id in ids:
        entry = client.get(f"/pools/{YEAR}/{payment_world.own}/entries/{entry_id}")
        assert entry.status_code == 200
        assert "Performance" in entry.text
        assert f'href="/payments/{YEAR}/{payment_world.own}/Q1"' in entry.text
        accounts |= set(
            re.findall(r"(Assets:Pool:PerformanceHeld|Income:PerformanceRetained:\w+)", entry.text)
        )
    assert "Assets:Pool:PerformanceHeld" in accounts
    assert any(a.startswith("Income:PerformanceRetained:") for a in accounts)
    ledger = _ledger_page_with(client, payment_world.own, ids[0])
    assert "Performance" in ledger and "Income:PerformanceRetained:" in ledger


def _ledger_page_with(client: Any, area: str, entry_id: str) -> str:
    """The page of the pool's ledger that lists the entry (newest first, 50 a page)."""
    first = client.get(f"/pools/{YEAR}/{area}/ledger").text
    pages = int(re.search(r"page 1 of (\d+)", first).group(1))  # type: ignore[union-attr]
    for number in range(1, pages + 1):
        page = client.get(f"/pools/{YEAR}/{area}/ledger?page={number}").text
        if f'/entries/{entry_id}"' in page:
            return str(page)
    pytest.fail(f"entry {entry_id} is on no page of the ledger")


def test_a_revised_ambition_is_explained_with_its_proposal_and_approvals(
    fresh_payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    """The national team revises the own area's ambition and both national approvers agree;
    the area's Q2 payment, drafted again, is worked out from the revision."""
    area = payment_world.own
    with unit_of_work(fresh_payment_engine) as session:
        national, health, localgov = (
            accounts.find_user(session, name) for name in ("national", "health", "localgov")
        )
        assert national and health and localgov
        in_force = ambitions.in_force(session, ledger.pool_for(session, YEAR, area, SYSTEM))
        assert in_force is not None
        lower = tuple(q - 10 for q in in_force.quarters)
        revision = ambitions.propose(
            session, YEAR, area, lower, "a new community service opened", national
        )
        for approver in (health, localgov):
            ambitions.decide(session, revision, RevisionAction.APPROVE, approver)
        payments.draft(session, YEAR, 2, national)

    full = client_for(fresh_payment_engine, "finance").get(f"/payments/{YEAR}/{area}/Q2")
    assert full.status_code == 200
    check_page(full.text, "explanation of a revised ambition")
    assert f"(revision {revision.id})" in full.text
    assert "Propose revision" in full.text and "a new community service opened" in full.text
    assert f"{lower[1]}" in full.text


# --------------------------------------------------------------------------------------------
# What if?


def test_what_if_shows_the_pot_and_flags_an_ambition_beyond_the_areas_variation(
    fresh_payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    """The area's monthly admissions vary by a few a month around a third of its baseline: an
    ambition of none at all is far beyond that, a fall of one is not."""
    engine = fresh_payment_engine
    path = f"/payments/{YEAR}/{payment_world.own}/what-if"
    client = client_for(engine, "assurer")
    with unit_of_work(engine) as session:
        pool = ledger.pool_for(session, YEAR, payment_world.own, SYSTEM)
        found = ambitions.in_force(session, pool)
        assert found is not None
        monthly = [
            MetricValue(
                "non_elective_admissions",
                1,
                payment_world.own,
                f"2015-{month:02d}",
                Grain.MONTH,
                int(found.baselines[0] / 3) + wobble,
                250_000,
                Decimal(int(found.baselines[0] / 3) + wobble),
            )
            for month, wobble in zip(range(4, 10), (3, -2, 4, -1, 0, 2), strict=True)
        ]
        save_results(session, monthly, SYSTEM, engine="duckdb", data_vintage="monthly")
    modest = found.baselines[0] - 1

    kept = client.get(path, params={"quarter": "Q1", "ambition": str(modest)})
    steep = client.get(path, params={"quarter": "Q1", "ambition": "0"})
    dearer = client.get(
        path, params={"quarter": "Q1", "ambition": str(modest), "unit_cost": "£2,000"}
    )

    assert kept.status_code == 200 and 'id="not-credible"' not in kept.text
    assert format_money(149_000) in kept.text  # one admission's fall at the framework's cost
    assert steep.status_code == 200 and 'id="not-credible"' in steep.text
    assert format_money(200_000) in dearer.text


def test_what_if_refuses_what_is_not_a_number_and_is_not_for_the_public(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    path = f"/payments/{YEAR}/{payment_world.own}/what-if"
    bad = client_for(payment_engine, "area").get(
        path, params={"ambition": "lots", "unit_cost": "-5"}
    )
    public = client_for(payment_engine).get(path)
    other = client_for(payment_engine, payment_world.other_finance).get(path)

    assert bad.status_code == 400
    assert "Enter the ambition as a number of admissions" in bad.text
    assert "Enter the cost of an admission" in bad.text
    assert public.status_code == 404 and other.status_code == 404


def test_what_if_refuses_digits_other_than_0_to_9(
    payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    path = f"/payments/{YEAR}/{payment_world.own}/what-if"
    bad = client_for(payment_engine, "area").get(
        path, params={"ambition": "３００", "unit_cost": "１４９０"}
    )

    assert bad.status_code == 400
    assert "Enter the ambition as a number of admissions" in bad.text
    assert "only the digits 0-9 are accepted" in bad.text


def test_assurers_see_the_ambitions_beyond_an_areas_own_variation(
    fresh_payment_engine: Engine, payment_world: PaymentWorld, client_for: ClientFor
) -> None:
    """The area's months run steadily 50 admissions above a third of its baseline, so its
    lower process limit for a quarter is well above the baseline: each ambition below that
    limit is flagged, with a link to try it."""
    engine = fresh_payment_engine
    with unit_of_work(engine) as session:
        pool = ledger.pool_for(session, YEAR, payment_world.own, SYSTEM)
        found = ambitions.in_force(session, pool)
        assert found is not None
        level = int(found.baselines[0] / 3) + 50
        monthly = [
            MetricValue(
                "non_elective_admissions",
                1,
                payment_world.own,
                f"2015-{month:02d}",
                Grain.MONTH,
                level + wobble,
                250_000,
                Decimal(level + wobble),
            )
            for month, wobble in zip(range(4, 10), (1, -1, 2, 0, -2, 1), strict=True)
        ]
        save_results(session, monthly, SYSTEM, engine="duckdb", data_vintage="monthly")

    page = client_for(engine, "assurer").get(f"/payments/{YEAR}").text

    table = page.split('id="not-credible-table"', 1)[1].split("</table>", 1)[0]
    flagged = [row for row in _rows(page, "not-credible-table") if row[0] == payment_world.own]
    limit = variation([v.numerator for v in monthly]).lower_limit
    assert limit is not None and limit > found.baselines[0]
    below = [f"{YEAR} Q{n}" for n, q in enumerate(found.quarters, start=1) if q < limit]
    assert below and [row[1] for row in flagged] == below
    assert f"/payments/{YEAR}/{payment_world.own}/what-if?quarter=Q1" in table


# --------------------------------------------------------------------------------------------
# Revised ambitions


def test_a_revision_is_proposed_and_approved_by_both_national_approvers_on_the_page(
    fresh_payment_engine: Engine,
    payment_world: PaymentWorld,
    client_for: ClientFor,
    csrf_of: CsrfOf,
) -> None:
    engine, area = fresh_payment_engine, payment_world.own
    path = f"/payments/{YEAR}/{area}"
    national = client_for(engine, "national")
    token = _form_token(national, csrf_of)
    bad = national.post(
        f"{path}/revisions", data={"csrf_token": token, "q1": "900", "q2": "lots", "reason": "x"}
    )
    assert bad.status_code == 400
    assert "Enter the ambition as a number of admissions" in bad.text
    figures = {"q1": "900", "q2": "890", "q3": "880", "q4": "870"}
    proposed = national.post(
        f"{path}/revisions", data={"csrf_token": token, **figures, "reason": "rebased"}
    )
    assert proposed.status_code == 200 and "takes effect once both" in proposed.text
    with unit_of_work(engine) as session:
        [revision] = ambitions.revisions(session, YEAR, area)
    decide = f"{path}/revisions/{revision.id}"

    for username in ("health", "localgov"):
        client = client_for(engine, username)
        page = client.post(f"{decide}/approve", data={"csrf_token": _form_token(client, csrf_of)})
        assert page.status_code == 200, page.text
    health = client_for(engine, "health")
    again = health.post(f"{decide}/approve", data={"csrf_token": _form_token(health, csrf_of)})
    public = client_for(engine).post(f"{decide}/approve", data={"csrf_token": token})

    assert again.status_code == 409
    assert "that is Approved cannot be approved" in unescape(again.text)
    assert public.status_code in (403, 404)  # not an approver: refused, nothing stored
    with unit_of_work(engine) as session:
        [stored] = ambitions.revisions(session, YEAR, area)
        found = ambitions.in_force(session, ledger.pool_for(session, YEAR, area, SYSTEM))
    assert stored.status == "Approved" and sorted(stored.approvals) == [
        "health_approver",
        "lg_approver",
    ]
    assert found is not None and found.revision_id == stored.id
    assert [str(q) for q in found.quarters] == ["900", "890", "880", "870"]
    assert "revisions-table" in national.get(path).text
