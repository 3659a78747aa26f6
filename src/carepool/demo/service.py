"""The demo: a whole synthetic nation, allocated and published, with an account for each role.

Everything here is synthetic and labelled so; the demo passwords are published in the README
and must never be used for a real deployment.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, cast

from sqlalchemy.orm import Session

from carepool.accounts import repository as account_store
from carepool.accounts import service as accounts
from carepool.allocation import service as allocation
from carepool.demo.ledger import demo_ledgers
from carepool.demo.metrics import DEMO_METRICS_YEAR, DEMO_SCALE
from carepool.demo.pooling import demo_allocations, with_trajectory
from carepool.demo.substitution import demo_substitution
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import Conflict, NotFound
from carepool.domain.money import split_by_weights
from carepool.domain.plan import PlanContent
from carepool.domain.plan_rules import PlanContext, blocking, check_plan
from carepool.domain.plan_workflow import Action, PlanStatus
from carepool.domain.roles import SYSTEM, Principal, principal
from carepool.frameworks import load_framework
from carepool.geography.service import (
    SyntheticInputs,
    YearGeography,
    load_synthetic,
    year_geography,
)
from carepool.plans import service as plans
from carepool.plans.repository import PlanRow
from carepool.plans.service import rollforward
from carepool.synth.nation import SyntheticNation, build_nation
from carepool.synth.person_level import expected_quarters
from carepool.synth.plans import Expected, Flaw, synthetic_plan

DEMO_PASSWORD = "carepool-demo-2015"
DEMO_YEARS = ("2015-16", "2016-17", "2017-19", "2019-20")
DEMO_STEPS = len(DEMO_YEARS) + 7
"""How many progress messages :func:`build_demo` sends."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    display_name: str
    grants: tuple[str, ...]


NATIONAL_ACCOUNTS = (
    DemoAccount("national", "National team administrator", ("national_admin",)),
    DemoAccount("assurer", "Regional assurer", ("assurer",)),
    DemoAccount("health", "National approver for health", ("health_approver",)),
    DemoAccount("localgov", "National approver for local government", ("lg_approver",)),
    DemoAccount("analyst", "Analyst", ("analyst",)),
)
"""The demo's national accounts, the same for every nation."""


def demo_accounts(area_code: str, commissioner_code: str) -> list[DemoAccount]:
    """One account per role, local ones for the first area of the synthetic nation."""
    return [
        *NATIONAL_ACCOUNTS,
        DemoAccount("area", "Area plan editor", (f"area_editor:{area_code}",)),
        DemoAccount(
            "signatory",
            "Area signatory (NHS)",
            (f"area_signatory:{area_code}:{commissioner_code}",),
        ),
        DemoAccount("finance", "Pool finance officer", (f"pool_finance:{area_code}",)),
        DemoAccount(
            "chair", "Chair of the Health and Wellbeing Board", (f"area_signatory:{area_code}:HWB",)
        ),
        DemoAccount(
            "coordinator", "Personal budget coordinator", (f"budget_coordinator:{area_code}",)
        ),
    ]


def national_principal(username: str) -> Principal:
    """The principal a national demo account acts as once signed in: its own grants."""
    account = next(a for a in NATIONAL_ACCOUNTS if a.username == username)
    return principal(account.username, account.display_name, account.grants)


def synthetic_vintage_name(nation: SyntheticNation) -> str:
    """A short name for the stored vintages that says plainly the data is synthetic."""
    return f"synthetic nation (seed {nation.seed})"


def fingerprint(nation: SyntheticNation) -> str:
    """A stable identity for a generated nation, so building it twice stores it once."""
    text = f"{nation.label}|{len(nation.councils)}|{sum(c.persons for c in nation.populations)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_demo(
    session: Session,
    seed: int = 2015,
    progress: Callable[[str], None] | None = None,
    *,
    scale: float = DEMO_SCALE,
) -> dict[str, object]:
    """Build the demo into the session's database; safe to run again (it changes nothing).

    ``scale`` is the share of a nation's year of person-level records the demo measures its
    metrics from: the plans' ambitions are set on that scale, so they can be compared.
    """
    say = progress or (lambda _message: None)
    say("Generating the synthetic nation")
    nation = build_nation(seed)
    framework = load_framework(DEMO_YEARS[0])
    inputs = SyntheticInputs(
        label=synthetic_vintage_name(nation),
        councils=nation.councils,
        commissioners=nation.commissioners,
        shares=nation.shares,
        populations=nation.populations,
        fingerprint=fingerprint(nation),
    )
    say("Storing areas, commissioners and populations")
    load_synthetic(session, inputs, SYSTEM, framework.geography.population_vintage)
    for year in DEMO_YEARS:
        say(f"Allocating {year}")
        _allocate_and_publish(session, year)
    geo = year_geography(session, DEMO_YEARS[0])
    say("Writing, signing and assuring plans")
    demo_plans(session, geo, random.Random(seed), plan_levels(seed, scale))
    say("Rolling each approved plan forward, year after year")
    demo_later_plans(session, random.Random(seed + 1))
    say("Running a year of every pooled budget")
    demo_ledgers(session, geo, random.Random(seed))
    say("Inventing councils' finance returns for the substitution check")
    demo_substitution(session, geo, random.Random(seed))
    say("Inventing commissioners' allocations for the pooling tracker")
    demo_allocations(session, geo, random.Random(seed))
    say("Creating demo accounts")
    first = geo.areas[0]
    serving = sorted(s.commissioner_code for s in geo.shares if s.council_code in first.councils)
    wanted = demo_accounts(first.code, serving[0])
    made = _ensure_accounts(session, wanted)
    return {
        "label": nation.label,
        "areas": len(geo.areas),
        "accounts_created": made,
        "accounts": [account_line(account) for account in wanted],
    }


def account_line(account: DemoAccount) -> str:
    """How the demo names an account when it is ready: username, role and, for a local one,
    its area (the first synthetic area)."""
    areas = sorted({grant.split(":")[1] for grant in account.grants if ":" in grant})
    where = f" for {', '.join(areas)}" if areas else ""
    return f"{account.username:<10} {account.display_name}{where}"


Outcome = Literal[
    "approved",
    "supported",
    "conditions",
    "sent_back",
    "not_approved",
    "escalated",
    "national",
    "sign_off",
    "draft_with_problems",
]

OUTCOMES: tuple[tuple[Outcome, int], ...] = (
    ("approved", 111),
    ("supported", 16),
    ("conditions", 12),
    ("sent_back", 3),
    ("not_approved", 2),
    ("escalated", 1),
    ("national", 2),
    ("sign_off", 2),
    ("draft_with_problems", 2),
)
"""How the demo's 151 plans end up: most approved, as 146 of 151 were by 30 October 2014."""

_FLAWS: dict[Outcome, Flaw] = {"draft_with_problems": "social_care_short"}
"""The one mistake left in a draft, a kind every area can make (not only counties)."""


def plan_levels(seed: int, scale: float) -> dict[str, Expected]:
    """Where each area's planned metrics would be in each quarter of the demo's measured year
    if it carried on as before, at the scale the demo measures: what its plan aims from."""
    return dict(
        expected_quarters(seed=seed, scale=scale, financial_year=DEMO_METRICS_YEAR, changed=False)
    )


def demo_plans(
    session: Session,
    geo: YearGeography,
    rng: random.Random,
    levels: Mapping[str, Expected] | None = None,
) -> int:
    """Give every area a plan and take it as far through assurance as its outcome says.

    ``levels`` gives each area's expected metrics to set ambitions from (:func:`plan_levels`).
    """
    if plans.find(session, geo.framework.year, geo.areas[0].code) is not None:
        return 0
    outcomes = [name for name, count in OUTCOMES for _ in range(count)]
    outcomes += ["approved"] * (len(geo.areas) - len(outcomes))
    rng.shuffle(outcomes)
    for area, outcome in zip(geo.areas, outcomes, strict=False):
        expected = (levels or {}).get(area.code)
        _plan_for(session, geo, area.code, outcome, rng, expected)
    return len(geo.areas)


def _actor(name: str, *grants: str) -> Principal:
    return principal(name, name, grants)


def _plan_for(
    session: Session,
    geo: YearGeography,
    area_code: str,
    outcome: Outcome,
    rng: random.Random,
    expected: Expected | None = None,
    content: PlanContent | None = None,
) -> None:
    """Write the area's plan (``content``, else a synthetic one) and take it to ``outcome``."""
    editor = _actor(f"editor-{area_code}", f"area_editor:{area_code}")
    plan = plans.start(session, geo.framework.year, area_code, editor)
    facts = plans.area_facts(session, geo, area_code)
    population = geo.bands.get(area_code, {}).get("all", 100_000)
    good = content or with_trajectory(
        synthetic_plan(facts.context, population, rng, expected=expected), area_code, population
    )
    flawed = synthetic_plan(
        facts.context, population, rng, _FLAWS.get(outcome, "none"), expected=expected
    )
    if outcome == "draft_with_problems":
        plans.save(session, plan, flawed, plan.lock_version, editor)
        return
    plans.save(session, plan, good, plan.lock_version, editor)
    plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)
    signers = sorted(plans.progress(plan).required_signers)
    if outcome == "sign_off":
        signers = signers[:1]
    for partner in signers:
        signatory = _actor(
            f"signatory-{area_code}-{partner}", f"area_signatory:{area_code}:{partner}"
        )
        plans.act(session, plan, Action.SIGN, signatory, plans.Decision(partner=partner))
    if outcome == "sign_off":
        return
    _assure(session, plan, outcome, rng)


def _assure(session: Session, plan: PlanRow, outcome: Outcome, rng: random.Random) -> None:
    assurer = _actor("assurer-demo", "assurer")
    plans.act(session, plan, Action.START_ASSURANCE, assurer)
    if outcome == "sent_back":
        plans.act(
            session,
            plan,
            Action.SEND_BACK,
            assurer,
            plans.Decision(
                comment="Schemes do not protect social care at the required "
                "level; please revisit the allocation to social care."
            ),
        )
        return
    category = _category(plan.year, outcome)
    conditions = (
        [
            "Confirm the seven-day discharge service is in place by 1 April.",
            "Agree the acute sector impact with the main provider.",
        ]
        if outcome == "conditions"
        else []
    )
    plans.act(
        session,
        plan,
        Action.RECORD_CATEGORY,
        assurer,
        plans.Decision(
            category=category,
            conditions=conditions,
            key_lines_of_enquiry="Is the reduction in emergency admissions "
            "credible? Is social care protected?",
        ),
    )
    health = _actor("approver-health", "health_approver")
    localgov = _actor("approver-localgov", "lg_approver")
    if outcome == "national":
        return
    if outcome == "not_approved":
        plans.act(
            session,
            plan,
            Action.NOT_APPROVE,
            health,
            plans.Decision(comment="The plan does not meet the national conditions."),
        )
        return
    if outcome == "escalated":
        plans.act(
            session,
            plan,
            Action.ESCALATE,
            localgov,
            plans.Decision(comment="Risk to acute providers needs ministers' attention."),
        )
        return
    plans.act(session, plan, Action.APPROVE, health)
    plans.act(session, plan, Action.APPROVE, localgov)
    if outcome == "conditions" and rng.random() < 0.5:
        plans.act(
            session,
            plan,
            Action.MARK_CONDITION_MET,
            assurer,
            plans.Decision(condition_id=plan.conditions[0].id),
        )


def _category(year: str, outcome: Outcome) -> str:
    """The year's own assurance category for the outcome (later years have fewer)."""
    categories = load_framework(year).assurance_categories
    word = {"supported": "support", "conditions": "condition", "not_approved": "Not approved"}
    wanted = word.get(outcome)
    if wanted is None:
        return "Approved"
    return next((c for c in categories if wanted in c), "Approved")


def demo_later_plans(session: Session, rng: random.Random) -> int:
    """Each later year's plans, rolled forward from the year before's approved ones.

    An area whose plan was approved starts from it, fixes what the new year changes (new
    ambitions, new conditions, schemes for new streams, a Section 75 signed again) and goes
    through sign-off and assurance to its own outcome, as in the first year; an area with no
    approved plan writes a new one. The demo area's second-year plan is left as the rolled-
    forward draft, so its editor sees what must change.
    """
    made = 0
    for before, year in itertools.pairwise(DEMO_YEARS):
        geo = year_geography(session, year)
        if plans.find(session, year, geo.areas[-1].code) is not None:
            continue
        outcomes = [name for name, count in OUTCOMES for _ in range(count)]
        outcomes += ["approved"] * (len(geo.areas) - len(outcomes))
        rng.shuffle(outcomes)
        rows = cast(list[dict[str, str]], plans.national_status(session, before)["plans"])
        stuck = {r["area_code"] for r in rows if r["status"] == PlanStatus.DRAFT}
        for area, drawn in zip(geo.areas, outcomes, strict=False):
            # An area with no plan past draft last year struggles again: its new plan
            # still has a problem to fix.
            outcome: Outcome = "draft_with_problems" if area.code in stuck else drawn
            made += _later_plan(session, geo, before, area.code, outcome, rng)
    return made


def _later_plan(
    session: Session,
    geo: YearGeography,
    before: str,
    area_code: str,
    outcome: Outcome,
    rng: random.Random,
) -> int:
    editor = _actor(f"editor-{area_code}", f"area_editor:{area_code}")
    try:
        rolled = rollforward.roll_forward_area(session, geo, before, area_code, editor)
    except (Conflict, NotFound):  # no approved plan to start from: a new plan
        _plan_for(session, geo, area_code, outcome, rng)
        return 1
    if area_code == geo.areas[0].code and before == DEMO_YEARS[0]:
        return 1  # the demo area's draft, left for its editor to finish
    assert rolled.content is not None
    facts = plans.area_facts(session, geo, area_code)
    population = geo.bands.get(area_code, {}).get("all", 100_000)
    content = finish_rolled_plan(rolled.content, facts.context, population, rng)
    _plan_for(session, geo, area_code, outcome, rng, content=content)
    return 1


def finish_rolled_plan(
    rolled: PlanContent, context: PlanContext, population: int, rng: random.Random
) -> PlanContent:
    """What an area makes of its rolled-forward draft: the carried schemes kept where they
    still add up, new schemes for new streams, new ambitions, every condition confirmed and
    the Section 75 agreement signed again; a new plan if the carried one cannot be mended."""
    fresh = synthetic_plan(context, population, rng)
    schemes = list(rolled.schemes)
    pooled: dict[tuple[str, str], int] = defaultdict(int)
    for c in rolled.contributions:
        pooled[(c.financial_year, c.stream)] += c.total
    for (year, stream), total in sorted(pooled.items()):
        mine = [s for s in schemes if (s.financial_year, s.funding_source) == (year, stream)]
        if sum(s.planned_spend for s in mine) == total:
            continue
        schemes = [s for s in schemes if s not in mine]
        theirs = [
            s for s in fresh.schemes if (s.financial_year, s.funding_source) == (year, stream)
        ]
        parts = split_by_weights(total, {i: s.planned_spend or 1 for i, s in enumerate(theirs)})
        schemes += [
            s.model_copy(update={"ref": f"N{len(schemes) + i + 1}", "planned_spend": parts[i]})
            for i, s in enumerate(theirs)
        ]
    terms = rolled.section75.model_copy(
        update={
            "signed": fresh.section75.signed,
            "host_partner": rolled.section75.host_partner or context.area_code,
        }
    )
    finished = rolled.model_copy(
        update={
            "schemes": tuple(schemes),
            "ambitions": fresh.ambitions,
            "conditions": fresh.conditions,
            "section75": terms,
        }
    )
    if blocking(check_plan(finished, context)):
        return fresh.model_copy(update={"narrative": rolled.narrative or fresh.narrative})
    return finished


def _allocate_and_publish(session: Session, year: str) -> None:
    run = allocation.allocate(session, year, SYSTEM)
    if run.status == AllocationStatus.DRAFT:
        allocation.move(session, run, AllocationStatus.APPROVED, SYSTEM, "demo: approved")
    if run.status == AllocationStatus.APPROVED:
        allocation.move(session, run, AllocationStatus.PUBLISHED, SYSTEM, "demo: published")


def _ensure_accounts(session: Session, wanted: list[DemoAccount]) -> int:
    made = 0
    for account in wanted:
        if account_store.find_user(session, account.username):
            continue
        accounts.create_user(
            session, account.username, DEMO_PASSWORD, account.grants, SYSTEM, account.display_name
        )
        made += 1
    return made
