"""The plan pages: valid HTML everywhere, edits saved safely, problems shown where they are.

Every page is parsed strictly (with the checks of ``test_pages_html``: one heading, labels,
captions, unique ids). Then the behaviours that matter to someone writing a plan: a save on
top of someone else's is refused without losing what was typed; money that is not money is
shown beside its field and nothing is stored; check your answers will not send a plan with
errors; a bad workbook is refused whole with every problem at its sheet and cell; and a
workbook downloaded and uploaded unchanged stores exactly the same plan.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from test_pages_html import check_page, parse

from carepool.accounts import service as accounts
from carepool.audit import repository as audit
from carepool.domain.money import format_money
from carepool.domain.plan_workflow import Action, PlanStatus
from carepool.domain.roles import Role
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.store.db import unit_of_work

YEAR = "2015-16"
ClientFor = Callable[..., Any]
Csrf = Callable[[str], str]


def _plan_state(engine: Engine, area: str) -> tuple[str, int, dict[str, Any]]:
    with unit_of_work(engine) as session:
        plan = plans.find(session, YEAR, area)
        assert plan is not None
        return plan.status, plan.lock_version, plans.current_version(plan).content


def _area_in(engine: Engine, status: PlanStatus) -> str:
    return next(r["area_code"] for r in _national(engine) if r["status"] == status)


def _national(engine: Engine) -> list[dict[str, Any]]:
    with unit_of_work(engine) as session:
        return list(plans.national_status(session, YEAR)["plans"])


def _error_items(html: str) -> list[str]:
    tree = parse(html)
    summary = tree.find(".//div[@class='govuk-error-summary']")
    assert summary is not None, "no error summary"
    return ["".join(li.itertext()).strip() for li in summary.iter("li")]


# ---------------------------------------------------------------------------------------
# Every page parses


def test_every_plan_page_is_valid_html(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    own, approved = plan_world.own, plan_world.other_approved
    escalated = _area_in(plan_engine, PlanStatus.ESCALATED)
    national_decision = _area_in(plan_engine, PlanStatus.NATIONAL)
    sign_off = _area_in(plan_engine, PlanStatus.SIGN_OFF)
    pages = {
        None: [f"/plans/{YEAR}", f"/plans/{YEAR}/{approved}", f"/plans/{YEAR}/{approved}/versions"],
        "area": [
            f"/plans/{YEAR}",
            f"/plans/{YEAR}/{own}",
            *(
                f"/plans/{YEAR}/{own}/edit/{s}"
                for s in (
                    "contributions",
                    "schemes",
                    "metrics",
                    "conditions",
                    "section75",
                    "narrative",
                )
            ),
            f"/plans/{YEAR}/{own}/edit/schemes/1",
            f"/plans/{YEAR}/{own}/check",
            f"/plans/{YEAR}/{own}/versions",
            f"/plans/{YEAR}/upload",
            f"/plans/2017-19/{own}",
        ],
        "national": [
            f"/plans/{YEAR}",
            "/plans/2017-19",
            f"/plans/{YEAR}/{plan_world.other_draft}",
            f"/plans/{YEAR}/{escalated}",
            f"/plans/{YEAR}/{sign_off}",
        ],
        "health": [f"/plans/{YEAR}/{national_decision}", f"/plans/{YEAR}/{escalated}"],
        "assurer": [f"/plans/{YEAR}/{approved}", f"/plans/{YEAR}/{sign_off}"],
        "signatory": [f"/plans/{YEAR}/{own}"],
    }
    for username, paths in pages.items():
        client = client_for(plan_engine, username)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (username, path, response.status_code)
            check_page(response.text, f"{path} as {username or 'public'}")


def test_the_forms_each_role_is_offered(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    escalated = _area_in(plan_engine, PlanStatus.ESCALATED)
    national_decision = _area_in(plan_engine, PlanStatus.NATIONAL)
    health = client_for(plan_engine, "health").get(f"/plans/{YEAR}/{national_decision}").text
    assert "/actions/approve" in health and "/actions/not_approve" in health
    assert "/actions/escalate" in health and "/actions/resolve_escalation" not in health
    admin = client_for(plan_engine, "national").get(f"/plans/{YEAR}/{escalated}").text
    assert "/actions/resolve_escalation" in admin and '/actions/approve"' not in admin
    area = client_for(plan_engine, "area").get(f"/plans/{YEAR}/{plan_world.own}").text
    assert f"/plans/{YEAR}/{plan_world.own}/check" in area
    assert "/actions/" not in area, "the editor sends for sign-off only via check your answers"
    for status in ("Completed",):
        assert area.count(status) == 6, "every section of the demo draft is complete"


def test_a_plan_not_started_can_be_started_by_its_editor(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    path = f"/plans/2017-19/{plan_world.own}"
    with unit_of_work(fresh_plan_engine) as session:  # the demo writes one: start again
        written = plans.find(session, "2017-19", plan_world.own)
        if written is not None:
            session.delete(written)
            audit.record(
                session,
                actor="test",
                action="delete",
                entity="plan",
                entity_id=f"2017-19/{plan_world.own}",
            )
    assert client_for(fresh_plan_engine).get(path).status_code == 404
    analyst = client_for(fresh_plan_engine, "analyst").get(path)
    assert "Not started" in analyst.text and "Start the plan" not in analyst.text
    client = client_for(fresh_plan_engine, "area")
    page = client.get(path)
    assert "Start the plan" in page.text
    started = client.post(f"{path}/start", data={"csrf_token": csrf_of(page.text)})
    assert started.status_code == 200
    check_page(started.text, "a plan just started")
    assert "Cannot start yet" in started.text or "Incomplete" in started.text
    assert "minimum contributions filled in" in started.text


# ---------------------------------------------------------------------------------------
# Saving safely


def test_a_stale_save_is_refused_and_keeps_what_was_typed(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    own = plan_world.own
    client = client_for(fresh_plan_engine, "area")
    form = client.get(f"/plans/{YEAR}/{own}/edit/narrative")
    lock = int(re.search(r'name="lock_version" value="(\d+)"', form.text).group(1))  # type: ignore[union-attr]

    theirs = "Someone else's narrative, saved while the page was open. " * 3
    with unit_of_work(fresh_plan_engine) as session:
        plan = plans.find(session, YEAR, own)
        editor = accounts.find_user(session, "area")
        assert plan is not None and editor is not None
        content = plans.content_of(plans.current_version(plan))
        plans.save(session, plan, content.model_copy(update={"narrative": theirs}), lock, editor)

    mine = "My narrative, typed carefully over twenty minutes, which must not be lost. " * 2
    response = client.post(
        f"/plans/{YEAR}/{own}/edit/narrative",
        data={"csrf_token": csrf_of(form.text), "lock_version": lock, "narrative": mine},
    )
    assert response.status_code == 409
    check_page(response.text, "stale save")
    assert any(
        "someone else saved this plan" in item.lower() for item in _error_items(response.text)
    )
    assert mine.strip() in response.text, "what was typed is still on the page"
    assert f'name="lock_version" value="{lock}"' in response.text, "pressing again stays refused"
    assert _plan_state(fresh_plan_engine, own)[2]["narrative"] == theirs


def test_bad_money_is_a_field_error_and_nothing_is_stored(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    own = plan_world.own
    before = _plan_state(fresh_plan_engine, own)
    client = client_for(fresh_plan_engine, "area")
    page = client.get(f"/plans/{YEAR}/{own}/edit/contributions")
    fields = re.findall(r'name="(additional-\d+)"', page.text)
    assert len(fields) == len(before[2]["contributions"]) > 1
    data = {name: "0" for name in fields} | {fields[0]: "£1,000.50", fields[1]: "12.345"}
    response = client.post(
        f"/plans/{YEAR}/{own}/edit/contributions",
        data={"csrf_token": csrf_of(page.text), "lock_version": before[1], **data},
    )
    assert response.status_code == 400
    check_page(response.text, "bad money")
    tree = parse(response.text)
    link = tree.find(".//div[@class='govuk-error-summary']//a")
    assert link is not None and link.get("href") == f"#{fields[1]}"
    assert "like £1,234.56" in (link.text or "")
    assert tree.find(f".//p[@id='{fields[1]}-error']") is not None
    assert 'value="12.345"' in response.text and 'value="£1,000.50"' in response.text
    assert _plan_state(fresh_plan_engine, own) == before

    good = client.post(
        f"/plans/{YEAR}/{own}/edit/contributions",
        data={
            "csrf_token": csrf_of(page.text),
            "lock_version": before[1],
            **data,
            fields[1]: "2,000",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    stored = _plan_state(fresh_plan_engine, own)[2]["contributions"]
    assert [c["additional"] for c in stored[:2]] == [100_050, 200_000]
    shown = client.get(good.headers["location"])
    assert "Contributions saved" in shown.text
    assert "schemes for 2015-16 plan" in shown.text or "No problems found" in shown.text


def test_schemes_are_added_changed_and_removed(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    own = plan_world.own
    client = client_for(fresh_plan_engine, "area")
    page = client.get(f"/plans/{YEAR}/{own}/edit/schemes")
    token = csrf_of(page.text)
    count = len(_plan_state(fresh_plan_engine, own)[2]["schemes"])
    scheme = {
        "ref": "X1",
        "name": "Falls prevention",
        "scheme_type": "Prevention and early intervention",
        "commissioner": "Joint",
        "provider": "Community trust",
        "funding_source": "additional",
        "area_of_spend": "Community health",
        "new_or_existing": "New",
        f"planned_spend-{YEAR}": "£250,000",
    }
    missing = client.post(
        f"/plans/{YEAR}/{own}/edit/schemes",
        data={
            "csrf_token": token,
            "lock_version": _plan_state(fresh_plan_engine, own)[1],
            **scheme,
            "scheme_type": "Magic",
            "name": "",
        },
    )
    assert missing.status_code == 400
    assert _error_items(missing.text) == [
        "Enter the scheme's name",
        "Choose the scheme type from the list",
    ]
    added = client.post(
        f"/plans/{YEAR}/{own}/edit/schemes",
        data={
            "csrf_token": token,
            "lock_version": _plan_state(fresh_plan_engine, own)[1],
            **scheme,
        },
    )
    assert added.status_code == 200 and "Scheme added" in added.text
    assert "more than the" in added.text, "the new scheme is unfunded: the check says so"
    schemes = _plan_state(fresh_plan_engine, own)[2]["schemes"]
    assert len(schemes) == count + 1 and schemes[-1]["planned_spend"] == 25_000_000

    row = count + 1
    edit = client.get(f"/plans/{YEAR}/{own}/edit/schemes/{row}")
    check_page(edit.text, "change a scheme")
    assert 'value="250,000.00"' in edit.text
    changed = client.post(
        f"/plans/{YEAR}/{own}/edit/schemes/{row}",
        data={
            "csrf_token": token,
            "lock_version": _plan_state(fresh_plan_engine, own)[1],
            **scheme,
            "name": "Falls prevention service",
        },
    )
    assert changed.status_code == 200 and "Scheme X1 saved" in changed.text
    assert _plan_state(fresh_plan_engine, own)[2]["schemes"][-1]["name"] == (
        "Falls prevention service"
    )
    removed = client.post(
        f"/plans/{YEAR}/{own}/edit/schemes/{row}/remove",
        data={"csrf_token": token, "lock_version": _plan_state(fresh_plan_engine, own)[1]},
    )
    assert removed.status_code == 200 and "Scheme X1 (Falls prevention service) removed" in (
        removed.text
    )
    assert len(_plan_state(fresh_plan_engine, own)[2]["schemes"]) == count
    assert client.get(f"/plans/{YEAR}/{own}/edit/schemes/{row + 5}").status_code == 404


def test_metrics_conditions_section75_and_narrative_are_checked_field_by_field(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    own = plan_world.own
    client = client_for(fresh_plan_engine, "area")
    token = csrf_of(client.get("/account").text)

    def post(section: str, **data: str) -> Any:
        lock = _plan_state(fresh_plan_engine, own)[1]
        return client.post(
            f"/plans/{YEAR}/{own}/edit/{section}",
            data={"csrf_token": token, "lock_version": lock, **data},
        )

    before = _plan_state(fresh_plan_engine, own)
    metrics = post("metrics", **{"non_elective_admissions-baseline": "a lot"})
    assert metrics.status_code == 400
    assert _error_items(metrics.text) == ["NEA baseline must be a number, like 1234.5"]
    section75 = post(
        "section75",
        host_partner=own,
        instalments="4",
        **{"signed-day": "31", "signed-month": "2", "signed-year": "2015"},
    )
    assert section75.status_code == 400
    assert _error_items(section75.text) == [
        "The date the agreement was signed must be a real date, like 27 3 2015"
    ]
    partial = post("section75", host_partner=own, instalments="4", **{"signed-day": "3"})
    assert "must include a month and year" in _error_items(partial.text)[0]
    conditions = post("conditions", **{"protect_social_care-status": "Maybe"})
    assert "choose one of the answers" in _error_items(conditions.text)[0]
    assert _plan_state(fresh_plan_engine, own) == before

    short = post("narrative", narrative="Too short.")
    assert short.status_code == 200 and "Narrative saved" in short.text
    assert "write at least a paragraph" in short.text, "the section's findings after saving"
    overview = client.get(f"/plans/{YEAR}/{own}")
    assert "Incomplete" in overview.text and "1 problem to fix" in overview.text


def test_check_your_answers_will_not_send_a_plan_with_errors(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    own = plan_world.own
    client = client_for(fresh_plan_engine, "area")
    page = client.get(f"/plans/{YEAR}/{own}/edit/narrative")
    lock = _plan_state(fresh_plan_engine, own)[1]
    client.post(
        f"/plans/{YEAR}/{own}/edit/narrative",
        data={"csrf_token": csrf_of(page.text), "lock_version": lock, "narrative": "Short."},
    )
    check = client.get(f"/plans/{YEAR}/{own}/check")
    assert check.status_code == 200
    check_page(check.text, "check your answers with errors")
    assert any("Narrative" in item for item in _error_items(check.text))
    assert "Send for local sign-off</button>" not in check.text
    assert 'id="blocked"' in check.text

    forced = client.post(
        f"/plans/{YEAR}/{own}/check",
        data={
            "csrf_token": csrf_of(check.text),
            "lock_version": _plan_state(fresh_plan_engine, own)[1],
        },
    )
    assert forced.status_code == 400
    assert any("problems to fix before sign-off" in item for item in _error_items(forced.text))
    assert _plan_state(fresh_plan_engine, own)[0] == PlanStatus.DRAFT


def test_check_your_answers_sends_a_complete_plan(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    own = plan_world.own
    client = client_for(fresh_plan_engine, "area")
    check = client.get(f"/plans/{YEAR}/{own}/check")
    assert "Send for local sign-off</button>" in check.text
    for section in ("contributions", "schemes", "metrics", "conditions", "section75", "narrative"):
        assert f'href="/plans/{YEAR}/{own}/edit/{section}"' in check.text
    stale = client.post(
        f"/plans/{YEAR}/{own}/check",
        data={"csrf_token": csrf_of(check.text), "lock_version": "0"},
    )
    assert stale.status_code == 409 and "changed since you opened it" in stale.text
    sent = client.post(
        f"/plans/{YEAR}/{own}/check",
        data={
            "csrf_token": csrf_of(check.text),
            "lock_version": _plan_state(fresh_plan_engine, own)[1],
            "comment": "Please sign by Friday",
        },
    )
    assert sent.status_code == 200
    assert "Version 1 has been sent for local sign-off" in sent.text
    assert "Please sign by Friday" in sent.text, "the timeline shows the comment"
    assert _plan_state(fresh_plan_engine, own)[0] == PlanStatus.SIGN_OFF
    assert client.get(f"/plans/{YEAR}/{own}/edit/narrative").status_code == 409


def test_an_action_refused_by_the_workflow_is_shown_in_the_error_summary(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    sign_off = _area_in(fresh_plan_engine, PlanStatus.SIGN_OFF)
    client = client_for(fresh_plan_engine, "assurer")
    page = client.get(f"/plans/{YEAR}/{sign_off}")
    token = csrf_of(page.text)
    lock = _plan_state(fresh_plan_engine, sign_off)[1]
    early = client.post(
        f"/plans/{YEAR}/{sign_off}/actions/start_assurance",
        data={"csrf_token": token, "lock_version": lock},
    )
    assert early.status_code == 409
    check_page(early.text, "illegal step")
    assert "cannot be regional assurance started" in _error_items(early.text)[0]
    blank = client.post(
        f"/plans/{YEAR}/{sign_off}/actions/send_back",
        data={"csrf_token": token, "lock_version": lock, "key": "send_back", "comment": " "},
    )
    assert blank.status_code == 400
    assert _error_items(blank.text) == ["Say why the plan is being sent back"]
    assert parse(blank.text).find(".//p[@id='send_back-comment-error']") is not None
    assert _plan_state(fresh_plan_engine, sign_off)[1] == lock
    unknown = client.post(f"/plans/{YEAR}/{sign_off}/actions/fly", data={"csrf_token": token})
    assert unknown.status_code == 404


def test_versions_are_compared_field_by_field(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    own = plan_world.own
    with unit_of_work(fresh_plan_engine) as session:
        plan = plans.find(session, YEAR, own)
        editor = accounts.find_user(session, "area")
        assert plan is not None and editor is not None
        plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)
        signer = accounts.find_user(session, plan_world.signers[plan_world.demo_partner])
        assert signer is not None
        plans.act(
            session,
            plan,
            Action.SEND_BACK,
            signer,
            plans.Decision(comment="Add carers", partner=plan_world.demo_partner),
        )
        content = plans.content_of(plans.current_version(plan))
        first = content.contributions[0]
        bigger = first.model_copy(update={"additional": first.additional + 123_456})
        plans.save(
            session,
            plan,
            content.model_copy(update={"contributions": (bigger, *content.contributions[1:])}),
            plan.lock_version,
            editor,
        )
    page = client_for(fresh_plan_engine, "area").get(f"/plans/{YEAR}/{own}/versions")
    assert page.status_code == 200
    check_page(page.text, "versions")
    rows = parse(page.text).findall(".//table[@id='comparison']/tbody/tr")
    assert len(rows) == 1
    cells = ["".join(c.itertext()).strip() for c in rows[0]]
    assert cells[0] == "Contributions, row 1, additional"
    assert cells[2].startswith("£") and cells[1] != cells[2]
    missing = client_for(fresh_plan_engine, "area").get(f"/plans/{YEAR}/{own}/versions?from=9")
    assert missing.status_code == 404


# ---------------------------------------------------------------------------------------
# The Excel template


def _download(client: Any, area: str) -> bytes:
    response = client.get(f"/plans/{YEAR}/{area}.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return bytes(response.content)


def _upload(client: Any, csrf_of: Csrf, data: bytes, name: str = "plan.xlsx") -> Any:
    page = client.get(f"/plans/{YEAR}/upload")
    return client.post(
        f"/plans/{YEAR}/upload",
        data={"csrf_token": csrf_of(page.text)},
        files={"workbook": (name, data, "application/octet-stream")},
    )


def test_a_workbook_downloaded_and_uploaded_unchanged_stores_the_same_plan(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    own = plan_world.own
    client = client_for(fresh_plan_engine, "area")
    before = _plan_state(fresh_plan_engine, own)
    response = _upload(client, csrf_of, _download(client, own))
    assert response.status_code == 200, response.text
    assert "plan.xlsx uploaded: version 1 saved" in response.text
    after = _plan_state(fresh_plan_engine, own)
    assert after[2] == before[2], "the same plan, field for field"
    assert after[0] == PlanStatus.DRAFT and after[1] == before[1] + 1


def test_a_bad_workbook_lists_every_problem_at_its_cell_and_stores_nothing(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    own = plan_world.own
    client = client_for(fresh_plan_engine, "area")
    book = load_workbook(io.BytesIO(_download(client, own)))
    book["Contributions"]["G4"] = "lots"
    book["Schemes"]["B4"] = None
    book["Metrics"]["D4"] = "high"
    out = io.BytesIO()
    book.save(out)
    before = _plan_state(fresh_plan_engine, own)
    response = _upload(client, csrf_of, out.getvalue(), "filled.xlsx")
    assert response.status_code == 422
    check_page(response.text, "bad workbook")
    items = _error_items(response.text)
    assert items[0].startswith("filled.xlsx: 3 problems found, nothing was imported")
    assert [item.split(":")[0] for item in items[1:]] == [
        "Contributions!G4",
        "Schemes!B4",
        "Metrics!D4",
    ]
    assert _plan_state(fresh_plan_engine, own) == before


def test_uploads_that_are_not_plans_are_refused(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    client = client_for(fresh_plan_engine, "area")
    nothing = client.post(
        f"/plans/{YEAR}/upload",
        data={"csrf_token": csrf_of(client.get("/account").text)},
        files={"workbook": ("", b"", "application/octet-stream")},
    )
    assert nothing.status_code == 400
    assert _error_items(nothing.text) == ["Choose the plan workbook to upload"]
    text = _upload(client, csrf_of, b"area,amount\n", "plan.csv")
    assert text.status_code == 422 and "plan.csv" in text.text
    huge = _upload(client, csrf_of, b"x" * (5 * 1024 * 1024 + 100 * 1024), "huge.xlsx")
    assert huge.status_code == 413 and "larger than 5 MB" in huge.text
    other_book = _download(client_for(fresh_plan_engine, "national"), plan_world.other_draft)
    theirs = _upload(client, csrf_of, other_book, "theirs.xlsx")
    assert theirs.status_code == 403
    assert "Only the area&#39;s plan editors can change its plan" in theirs.text


@pytest.mark.parametrize("username", [None, "analyst"])
def test_the_csv_lists_what_the_page_lists(
    username: str | None, plan_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(plan_engine, username)
    rows = client.get(f"/plans/{YEAR}.csv").text.splitlines()
    assert rows[0].split(",")[:4] == ["area_code", "area_name", "region", "status"]
    approved = sum(1 for r in _national(plan_engine) if r["status"] == PlanStatus.APPROVED)
    expected = 151 if username else approved
    assert len(rows) - 1 == expected
    assert all(re.fullmatch(r"\d+\.\d\d", row.split(",")[5]) for row in rows[1:])


def test_the_national_view_counts_every_area_and_lists_what_to_chase(
    plan_engine: Engine, client_for: ClientFor
) -> None:
    rows = _national(plan_engine)
    approved = [r for r in rows if r["status"] == PlanStatus.APPROVED]
    page = client_for(plan_engine, "national").get(f"/plans/{YEAR}")
    tree = parse(page.text)
    headline = "".join(tree.find(".//p[@id='headline']").itertext())  # type: ignore[union-attr]
    assert headline.startswith(f"{len(approved)} of 151 approved, £")
    assert format_money(sum(r["pooled_pence"] for r in approved)) in page.text
    table = tree.find(".//table[@id='plan-statuses-table']")
    assert table is not None, "the status chart has its table beside it"
    counts = {
        "".join(tr[0].itertext()).strip(): int("".join(tr[1].itertext()).replace(",", ""))
        for tr in table.findall("./tbody/tr")
    }
    assert sum(counts.values()) == 151 and counts["Approved"] == len(approved)
    escalated = _area_in(plan_engine, PlanStatus.ESCALATED)
    chase = tree.find(".//table[@id='chase-escalated']")
    assert chase is not None and f"/plans/{YEAR}/{escalated}" in "".join(
        a.get("href", "") for a in chase.iter("a")
    )
    every = tree.findall(".//table[@id='area-table']/tbody/tr")
    assert len(every) == 151


def test_an_assurer_marks_a_condition_met_from_the_plan_page(
    fresh_plan_engine: Engine, client_for: ClientFor, csrf_of: Csrf
) -> None:
    before = {r["area_code"]: r["conditions_outstanding"] for r in _national(fresh_plan_engine)}
    area = next(code for code, outstanding in before.items() if outstanding)
    national = client_for(fresh_plan_engine, "analyst").get(f"/plans/{YEAR}/{area}")
    assert "Outstanding" in national.text and "Mark met" not in national.text
    client = client_for(fresh_plan_engine, "assurer")
    page = client.get(f"/plans/{YEAR}/{area}")
    condition = re.search(r'name="condition" value="(\d+)"', page.text)
    assert condition is not None
    response = client.post(
        f"/plans/{YEAR}/{area}/actions/mark_condition_met",
        data={
            "csrf_token": csrf_of(page.text),
            "lock_version": _plan_state(fresh_plan_engine, area)[1],
            "condition": condition.group(1),
        },
    )
    assert response.status_code == 200
    assert "Condition marked met" in response.text
    assert "Met – marked by assurer" in response.text
    after = {r["area_code"]: r["conditions_outstanding"] for r in _national(fresh_plan_engine)}
    assert after[area] == before[area] - 1


def test_public_pages_name_roles_and_organisations_never_accounts(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    """An approved plan's history says who acted by role and organisation: account names are
    internal (they carry area codes and staff names) and are for signed-in people only."""
    who = "|".join(re.escape(name) for name in [*(r.label for r in Role), "the national team"])
    approved = plan_world.other_approved
    public = client_for(plan_engine)
    for path in (f"/plans/{YEAR}/{approved}", f"/allocations/{YEAR}", f"/payments/{YEAR}"):
        page = public.get(path)
        assert page.status_code == 200, path
        for byline in _bylines(page.text):
            if byline.startswith("by "):
                assert re.match(rf"by ({who})(,| –)", byline), f"{path}: {byline!r}"
    plan_page = _bylines(public.get(f"/plans/{YEAR}/{approved}").text)
    assert any(b.startswith("by Area signatory, for ") for b in plan_page)
    national = client_for(plan_engine, "national").get(f"/plans/{YEAR}/{approved}").text
    actors = {b.split(",")[0].split(" –")[0][3:] for b in _bylines(national) if b.startswith("by ")}
    assert actors and not any(re.fullmatch(who, a) for a in actors)  # staff see who acted
    public_text = "".join(parse(public.get(f"/plans/{YEAR}/{approved}").text).itertext())
    assert not [a for a in actors if a in public_text]


def _bylines(html: str) -> list[str]:
    return [
        "".join(p.itertext()).strip()
        for p in parse(html).iter("p")
        if "app-timeline__byline" in (p.get("class") or "")
    ]


# ---------------------------------------------------------------------------------------
# Reading a plan whatever its status


def test_the_public_reads_an_approved_plans_whole_content(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    approved = plan_world.other_approved
    _, _, content = _plan_state(plan_engine, approved)
    page = client_for(plan_engine).get(f"/plans/{YEAR}/{approved}/read")
    assert page.status_code == 200
    check_page(page.text, "approved plan, read by the public")
    tree = parse(page.text)
    schemes = tree.find(".//table[@id='read-schemes']")
    assert schemes is not None
    refs = [
        "".join(th.itertext()).split(":")[0]
        for th in schemes.iter("th")
        if th.get("scope") == "row"
    ]
    assert refs == [s["ref"] for s in content["schemes"]]
    planned = sum(s["planned_spend"] for s in content["schemes"])
    assert format_money(planned) in "".join(schemes.find("caption").itertext())  # type: ignore[union-attr]
    contributions = tree.find(".//table[@id='read-contributions']")
    assert contributions is not None
    pooled = sum(c["minimum"] + c["additional"] for c in content["contributions"])
    assert format_money(pooled) in "".join(contributions.itertext())
    assert content["narrative"][:60] in page.text.replace("&#39;", "'")
    for section in ("ambitions", "national-conditions", "section-75", "plan-history"):
        assert tree.find(f".//*[@id='{section}']") is not None, section


def test_a_signatory_reads_the_frozen_version_they_are_asked_to_sign(
    plan_engine: Engine, client_for: ClientFor
) -> None:
    awaiting = _area_in(plan_engine, PlanStatus.SIGN_OFF)
    _, _, content = _plan_state(plan_engine, awaiting)
    with unit_of_work(plan_engine) as session:
        plan = plans.find(session, YEAR, awaiting)
        assert plan is not None
        number = plans.current_version(plan).number
    national = client_for(plan_engine, "national")
    overview = national.get(f"/plans/{YEAR}/{awaiting}").text
    assert f'href="/plans/{YEAR}/{awaiting}/read"' in overview
    page = national.get(f"/plans/{YEAR}/{awaiting}/read")
    assert page.status_code == 200
    assert f"{number} (the current version), frozen for sign-off" in page.text
    for scheme in content["schemes"]:
        assert scheme["name"].replace("'", "&#39;") in page.text
    assert client_for(plan_engine).get(f"/plans/{YEAR}/{awaiting}/read").status_code == 404


def test_an_earlier_version_is_read_by_its_number_and_a_missing_one_is_404(
    plan_engine: Engine, plan_world: Any, client_for: ClientFor
) -> None:
    approved = plan_world.other_approved
    with unit_of_work(plan_engine) as session:
        plan = plans.find(session, YEAR, approved)
        assert plan is not None
        latest = plans.current_version(plan).number
    public = client_for(plan_engine)
    first = public.get(f"/plans/{YEAR}/{approved}/read?version=1").text
    expected = (
        "1 (the current version)"
        if latest == 1
        else f"(an earlier version; the current is {latest})"
    )
    assert expected in first
    assert public.get(f"/plans/{YEAR}/{approved}/read?version=999").status_code == 404
    assert public.get(f"/plans/{YEAR}/{approved}/read?version=0").status_code in (400, 422)
    draft = plan_world.other_draft
    assert public.get(f"/plans/{YEAR}/{draft}/read").status_code == 404


TWO_YEARS = "2017-19"
SCHEME = {
    "ref": "X1",
    "name": "Falls prevention",
    "scheme_type": "Prevention and early intervention",
    "commissioner": "Joint",
    "provider": "Community trust",
    "funding_source": "additional",
    "area_of_spend": "Community health",
    "new_or_existing": "New",
}


def _stored_schemes(engine: Engine, year: str, area: str) -> tuple[int, list[dict[str, Any]]]:
    with unit_of_work(engine) as session:
        plan = plans.find(session, year, area)
        assert plan is not None
        return plan.lock_version, list(plans.current_version(plan).content["schemes"])


def test_a_scheme_running_both_years_is_entered_once(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    """A two-year plan's scheme form has an amount for each year: the scheme is stored a
    row a year, listed once with both years, and changed or removed as one."""
    own = plan_world.own
    with unit_of_work(fresh_plan_engine) as session:
        editor = accounts.find_user(session, "area")
        assert editor is not None
        plans.start(session, TWO_YEARS, own, editor)
    client = client_for(fresh_plan_engine, "area")
    base = f"/plans/{TWO_YEARS}/{own}/edit/schemes"
    page = client.get(base)
    check_page(page.text, "two-year schemes")
    assert 'id="planned_spend-2017-18"' in page.text and 'id="planned_spend-2018-19"' in page.text
    token = csrf_of(page.text)
    lock, before = _stored_schemes(fresh_plan_engine, TWO_YEARS, own)
    both = {"planned_spend-2017-18": "£100,000", "planned_spend-2018-19": "120000"}

    none = client.post(base, data={"csrf_token": token, "lock_version": lock, **SCHEME})
    assert none.status_code == 400
    assert _error_items(none.text) == ["Enter the planned spend in at least one year"]

    added = client.post(base, data={"csrf_token": token, "lock_version": lock, **SCHEME, **both})
    assert added.status_code == 200 and "Scheme added" in added.text
    lock, stored = _stored_schemes(fresh_plan_engine, TWO_YEARS, own)
    assert [(s["ref"], s["financial_year"], s["planned_spend"]) for s in stored[len(before) :]] == [
        ("X1", "2017-18", 10_000_000),
        ("X1", "2018-19", 12_000_000),
    ]
    again = client.post(base, data={"csrf_token": token, "lock_version": lock, **SCHEME, **both})
    assert again.status_code == 400
    assert _error_items(again.text) == [
        "The plan already has a scheme X1: choose another reference"
    ]
    table = parse(added.text).find(".//table[@id='schemes']")
    assert table is not None
    listed = ["".join(th.itertext()) for th in table.iterfind(".//tbody/tr/th")]
    assert listed.count("X1: Falls prevention") == 1
    assert "2017-18: £100,000.00" in added.text and "2018-19: £120,000.00" in added.text

    row = len(listed)
    edit = client.get(f"{base}/{row}")
    check_page(edit.text, "change a two-year scheme")
    assert 'value="100,000.00"' in edit.text and 'value="120,000.00"' in edit.text
    only_later = {**SCHEME, "planned_spend-2017-18": "", "planned_spend-2018-19": "£90,000"}
    changed = client.post(
        f"{base}/{row}", data={"csrf_token": token, "lock_version": lock, **only_later}
    )
    assert changed.status_code == 200 and "Scheme X1 saved" in changed.text
    lock, stored = _stored_schemes(fresh_plan_engine, TWO_YEARS, own)
    x1 = [(s["financial_year"], s["planned_spend"]) for s in stored if s["ref"] == "X1"]
    assert x1 == [("2018-19", 9_000_000)]

    removed = client.post(f"{base}/{row}/remove", data={"csrf_token": token, "lock_version": lock})
    assert removed.status_code == 200 and "Scheme X1 (Falls prevention) removed" in removed.text
    assert _stored_schemes(fresh_plan_engine, TWO_YEARS, own)[1] == before


def test_a_grant_passed_to_districts_names_its_district_from_the_list(
    fresh_plan_engine: Engine, plan_world: Any, client_for: ClientFor, csrf_of: Csrf
) -> None:
    """In a county, the Disabled Facilities Grant's receiving district is chosen from the
    area's districts, which the geography gives; a missing one is an error naming them all."""
    own = plan_world.own
    with unit_of_work(fresh_plan_engine) as session:
        districts = year_geography(session, YEAR).districts(own)
    assert len(districts) >= 2, "the demo's first area is a county with districts"
    client = client_for(fresh_plan_engine, "area")
    base = f"/plans/{YEAR}/{own}/edit/schemes"
    page = client.get(base)
    district = parse(page.text).find(".//select[@id='district']")
    assert district is not None
    offered = [o.get("value") for o in district.iterfind("option") if o.get("value")]
    assert offered == list(districts)
    grant = {
        **SCHEME,
        "ref": "D1",
        "provider": "",
        "funding_source": "disabled_facilities_grant",
        f"planned_spend-{YEAR}": "£1,000",
    }
    token = csrf_of(page.text)
    lock = _plan_state(fresh_plan_engine, own)[1]
    missing = client.post(base, data={"csrf_token": token, "lock_version": lock, **grant})
    assert missing.status_code == 400
    [message] = _error_items(missing.text)
    assert message.startswith("Choose the district council that receives the grant")
    assert all(name in message for name in districts)

    chosen = {**grant, "district": districts[-1]}
    added = client.post(base, data={"csrf_token": token, "lock_version": lock, **chosen})
    assert added.status_code == 200 and "Scheme added" in added.text
    [d1] = [s for s in _plan_state(fresh_plan_engine, own)[2]["schemes"] if s["ref"] == "D1"]
    assert d1["provider"] == districts[-1]
    assert "grant must be passed to a district" not in added.text
