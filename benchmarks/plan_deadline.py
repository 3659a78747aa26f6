"""The plan submission deadline, simulated on PostgreSQL.

Every one of the 151 areas has five people working on its 2017-19 plan at the same moment:
each opens the plan page, reads the plan through the API, validates it and saves a change,
three times over, pausing between steps as a person reading and typing does; once all five
have saved their work, one of them sends the plan for sign-off. Saves carry the lock version
they read, so two people saving at once get a conflict (409) for one of them, who reloads,
makes their change again and saves, as a person would.

The pauses (``THINK``, 5-45 seconds, and ``RETYPE``, 2-8 seconds after a conflict) are
shorter than people take on a long form page, so this is a harsher peak than a real deadline
day, when 755 people do not all work in the same three minutes. ``--think`` changes them. A
second phase measures capacity: people with no pauses at all asking for plan pages, so the
report shows how far the deadline load is from what the app can serve.

Reported beside the same run's floor (a trivial endpoint of the same app under the same
load): throughput, p50/p95/p99 latency per kind of request, errors (any 5xx or unexpected
status), conflicts, and lost updates. A lost update is a save that was acknowledged but whose
change is missing from the final plan: with optimistic locking there must be none.

Run: ``make bench`` (or ``python -m benchmarks plan_deadline``). It starts its own throwaway
PostgreSQL server unless ``CAREPOOL_BENCH_POSTGRES_URL`` names one, and serves the app with
uvicorn on 127.0.0.1. Only loopback traffic; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import parser, run, stop_process, throwaway_postgres
from carepool.accounts import service as accounts
from carepool.demo import service as demo
from carepool.domain.plan_rules import check_plan
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.store.db import engine_for, migrate, unit_of_work
from carepool.synth.plans import synthetic_plan

YEAR = "2017-19"
USERS_PER_AREA = 5
ROUNDS = 3
THINK = (5.0, 45.0)
"""Seconds a person spends reading or typing between requests (uniform): people, not robots."""
RETYPE = (2.0, 8.0)
"""Seconds a person takes to make their change again after being told of a conflict."""
LIMITS = httpx.Limits(max_connections=2, keepalive_expiry=3.0)
"""Two connections per person, as a browser keeps; idle ones are dropped before the server's
own keep-alive timeout (5 s) ends them, so no request is sent down a connection being closed."""
FLOOR_PEOPLE = 10
CAPACITY_PEOPLE = 32
CAPACITY_SECONDS = 20.0
PASSWORD = "benchmark-password-2017"
REPO = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare(url: str) -> list[str]:
    """Build the demo, give each area a valid draft 2017-19 plan and an editor account."""
    engine = engine_for(url)
    migrate(engine)
    with unit_of_work(engine) as session:
        demo.build_demo(session)
    with unit_of_work(engine) as session:
        geo = year_geography(session, YEAR)
        codes = [a.code for a in geo.areas]
        for code in codes:
            editor = accounts.find_user(session, f"bench-{code}")
            if editor is None:
                accounts.create_user(
                    session, f"bench-{code}", PASSWORD, [f"area_editor:{code}"], SYSTEM
                )
            plan = plans.start(session, YEAR, code, SYSTEM)
            facts = plans.area_facts(session, geo, code)
            content = synthetic_plan(facts.context, geo.bands[code]["all"], random.Random(code))
            plans.save(session, plan, content, plan.lock_version, SYSTEM)
    engine.dispose()
    return codes


def validation_times(url: str) -> list[float]:
    """Seconds to check each area's whole plan against every rule (in process)."""
    engine = engine_for(url)
    times = []
    with unit_of_work(engine) as session:
        geo = year_geography(session, YEAR)
        for area in geo.areas:
            plan = plans.find(session, YEAR, area.code)
            assert plan is not None
            facts = plans.area_facts(session, geo, area.code)
            content = plans.content_of(plans.current_version(plan))
            started = time.perf_counter()
            check_plan(content, facts.context)
            times.append(time.perf_counter() - started)
    engine.dispose()
    return times


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(url: str, workers: int) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CAREPOOL_DATABASE_URL": url, "CAREPOOL_SECRET_KEY": "bench-only"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "carepool.web.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # failures are counted by the clients, not read from logs
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the app did not start within 60 s")
        yield base
    finally:
        stop_process(process)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    acknowledged: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    worst_lag: list[float] = field(default_factory=lambda: [0.0])

    async def timed(self, kind: str, request: Awaitable[httpx.Response]) -> httpx.Response | None:
        """Time one request; a failed or refused one is counted as an error, not raised."""
        started = time.perf_counter()
        try:
            response = await request
        except httpx.HTTPError as exc:
            self.latencies[kind].append(time.perf_counter() - started)
            self.errors.append(f"{kind}: {type(exc).__name__}")
            return None
        self.latencies[kind].append(time.perf_counter() - started)
        if response.status_code not in {200, 201, 303, 409}:
            self.errors.append(f"{kind}: {response.status_code} {response.text[:120]}")
            return None
        return response


async def sign_in(base: str, username: str, gate: asyncio.Semaphore) -> httpx.Cookies:
    """A signed-in session for one area's editor (Argon2 is slow on purpose: a few at a time)."""
    async with gate, httpx.AsyncClient(base_url=base, timeout=60) as client:
        await _sign_in(client, username)
        return client.cookies


async def _sign_in(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/sign-in")
    token = CSRF.search(form.text)
    assert token, "no CSRF token on the sign-in page"
    response = await client.post(
        "/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code in {200, 303}, response.status_code


@dataclass(frozen=True, slots=True)
class Person:
    """One of the five people working on an area's plan: a browser and an API client."""

    area: str
    number: int
    browser: httpx.AsyncClient
    client: httpx.AsyncClient


async def person(
    who: Person, tally: Tally, think: tuple[float, float], finished: asyncio.Barrier
) -> None:
    area, browser, client = who.area, who.browser, who.client
    api = f"/api/v1/plans/{YEAR}/{area}"
    pause = random.Random(f"{area}-{who.number}")
    for round_ in range(ROUNDS):
        await asyncio.sleep(pause.uniform(*think))
        await tally.timed("page", browser.get(f"/plans/{YEAR}/{area}"))
        await asyncio.sleep(pause.uniform(*think))
        await tally.timed("validate", client.get(f"{api}/problems"))
        mark = f"[p{who.number}r{round_}]"
        await save_with_retries(client, api, mark, tally, area, pause)
    await finished.wait()  # the plan goes for sign-off once all five have saved their work
    if who.number == 0:
        await tally.timed("submit", client.post(f"{api}/actions/request_sign_off", json={}))


async def people(
    stack: AsyncExitStack,
    base: str,
    codes: list[str],
    sessions: list[httpx.Cookies],
    person_tokens: dict[str, list[str]],
) -> list[Person]:
    """Everyone's clients, made before the clock starts.

    Making 1,510 clients takes the benchmark's own event loop several seconds; made inside
    the run, that stall would let hundreds of pauses end at once and time a burst of the
    client's making rather than the app.
    """
    tls = ssl.create_default_context()  # loopback HTTP never uses it; one saves making 1,510
    made = []
    for area, cookies in zip(codes, sessions, strict=True):
        for number, token in enumerate(person_tokens[area]):
            options: dict[str, Any] = {"base_url": base, "timeout": 60, "limits": LIMITS}
            browser = httpx.AsyncClient(cookies=cookies, verify=tls, **options)
            client = httpx.AsyncClient(
                headers={"Authorization": f"Bearer {token}"}, verify=tls, **options
            )
            await stack.enter_async_context(browser)
            await stack.enter_async_context(client)
            made.append(Person(area, number, browser, client))
    return made


async def lag(done: asyncio.Event, worst: list[float]) -> None:
    """The benchmark's own event-loop delay: how late a 50 ms sleep wakes, at worst.

    A large figure would mean the client, not the app, set some latencies.
    """
    while not done.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.05)
        worst[0] = max(worst[0], time.perf_counter() - started - 0.05)


async def save_with_retries(
    client: httpx.AsyncClient, api: str, mark: str, tally: Tally, area: str, pause: random.Random
) -> None:
    """Save one change; after a conflict, reload, make the change again and save again."""
    for attempt in range(20):
        if attempt:
            await asyncio.sleep(pause.uniform(*RETYPE))
        read = await tally.timed("read", client.get(api))
        if read is None:
            return
        plan = read.json()
        content = plan["content"]
        content["narrative"] = content["narrative"] + " " + mark
        response = await tally.timed(
            "save",
            client.put(
                f"{api}/content", json={"lock_version": plan["lock_version"], "content": content}
            ),
        )
        if response is None:
            return
        if response.status_code == 200:
            tally.acknowledged[area].append(mark)
            return
        tally.conflicts += 1
    tally.errors.append(f"{area}: gave up saving {mark} after 20 conflicts")


async def floor(base: str, done: asyncio.Event, tally: Tally) -> None:
    """The same app's trivial endpoint, asked by a few people throughout the deadline.

    It runs beside the deadline, so it meets the same load: the gap between its latency and
    the plan pages' is what the pages themselves cost.
    """

    async def one(number: int) -> None:
        pause = random.Random(f"floor-{number}")
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=LIMITS) as client:
            while not done.is_set():
                await asyncio.sleep(pause.uniform(0.0, 2.0))
                await tally.timed("floor", client.get("/healthz"))

    await asyncio.gather(*(one(n) for n in range(FLOOR_PEOPLE)))


def tokens(url: str, codes: list[str]) -> dict[str, list[str]]:
    engine = engine_for(url)
    made: dict[str, list[str]] = {}
    with unit_of_work(engine) as session:
        for code in codes:
            made[code] = [
                accounts.create_token(session, f"bench-{code}", f"bench {i}", SYSTEM)
                for i in range(USERS_PER_AREA)
            ]
    engine.dispose()
    return made


def lost_updates(url: str, acknowledged: dict[str, list[str]]) -> tuple[int, int]:
    """Acknowledged saves whose change is missing from the stored plan; and plans submitted."""
    engine = engine_for(url)
    lost = submitted = 0
    with unit_of_work(engine) as session:
        for area, marks in acknowledged.items():
            plan = plans.find(session, YEAR, area)
            assert plan is not None
            narrative = plans.content_of(plans.current_version(plan)).narrative
            lost += sum(1 for mark in marks if mark not in narrative)
            submitted += plan.status != "Draft"
    engine.dispose()
    return lost, submitted


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def report(tally: Tally, floor_tally: Tally, seconds: float) -> None:
    total = sum(len(v) for v in tally.latencies.values())
    floor_total = len(floor_tally.latencies["floor"])
    print(f"\n{'request':<10}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for kind, values in sorted({**tally.latencies, **floor_tally.latencies}.items()):
        print(
            f"{kind:<10}{len(values):>8}{percentile(values, 0.5):>10.1f}"
            f"{percentile(values, 0.95):>10.1f}{percentile(values, 0.99):>10.1f}"
        )
    page95 = percentile(tally.latencies["page"], 0.95)
    floor95 = percentile(floor_tally.latencies["floor"], 0.95)
    print(
        f"\nthroughput {total / seconds:,.0f} requests/s over {seconds:.0f} s; the floor was "
        f"asked {floor_total / seconds:,.1f} times a second alongside"
    )
    print(
        f"page load p95 {page95:.1f} ms; floor p95 {floor95:.1f} ms "
        f"(ratio {page95 / floor95:.2f}); target p95 < 100 ms"
    )
    print(f"the benchmark's own event loop ran at worst {tally.worst_lag[0] * 1000:.0f} ms late")
    print(
        f"errors {len(tally.errors) + len(floor_tally.errors)}, conflicts (409, retried) "
        f"{tally.conflicts}"
    )
    for error in (tally.errors + floor_tally.errors)[:10]:
        print(f"  {error}")


async def deadline(
    base: str, codes: list[str], person_tokens: dict[str, list[str]], think: tuple[float, float]
) -> tuple[Tally, Tally, float, list[httpx.Cookies]]:
    """Everyone signs in, then works on their plan at once, with the floor measured alongside.

    Returns the people's tally, the floor's, the seconds the deadline took and the sessions.
    """
    tally, floor_tally, done = Tally(), Tally(), asyncio.Event()
    gate = asyncio.Semaphore(4)
    sessions = await asyncio.gather(*(sign_in(base, f"bench-{area}", gate) for area in codes))
    async with AsyncExitStack() as stack:
        everyone = await people(stack, base, codes, sessions, person_tokens)
        began = time.perf_counter()
        measuring = asyncio.create_task(floor(base, done, floor_tally))
        watching = asyncio.create_task(lag(done, tally.worst_lag))
        finished = {area: asyncio.Barrier(USERS_PER_AREA) for area in codes}
        await asyncio.gather(*(person(p, tally, think, finished[p.area]) for p in everyone))
        seconds = time.perf_counter() - began
        done.set()
        await measuring
        await watching
    return tally, floor_tally, seconds, sessions


async def capacity(
    base: str, codes: list[str], sessions: list[httpx.Cookies], path: str | None
) -> tuple[Tally, float]:
    """People asking with no pause at all for ``CAPACITY_SECONDS``: what the app can serve.

    ``path`` None means each asks for their own area's plan page; otherwise that path.
    """
    tally = Tally()
    stop = time.perf_counter() + CAPACITY_SECONDS
    kind = "page" if path is None else "floor"

    async def one(number: int) -> None:
        area = codes[number % len(codes)]
        cookies = sessions[number % len(sessions)]
        client = httpx.AsyncClient(base_url=base, timeout=60, cookies=cookies, limits=LIMITS)
        async with client:
            while time.perf_counter() < stop:
                await tally.timed(kind, client.get(path or f"/plans/{YEAR}/{area}"))

    began = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(CAPACITY_PEOPLE)))
    return tally, time.perf_counter() - began


def report_capacity(pages: tuple[Tally, float], floor_: tuple[Tally, float]) -> None:
    page_rate = len(pages[0].latencies["page"]) / pages[1]
    floor_rate = len(floor_[0].latencies["floor"]) / floor_[1]
    print(
        f"\ncapacity ({CAPACITY_PEOPLE} people, no pauses, {CAPACITY_SECONDS:.0f} s each): "
        f"plan pages {page_rate:,.0f}/s (p95 {percentile(pages[0].latencies['page'], 0.95):.0f}"
        f" ms), floor {floor_rate:,.0f}/s (p95 "
        f"{percentile(floor_[0].latencies['floor'], 0.95):.0f} ms); ratio "
        f"{page_rate / floor_rate:.2f}; errors {len(pages[0].errors) + len(floor_[0].errors)}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark as the command line asks (``--workers``, ``--think``)."""
    options = _arguments(argv or [])
    return run(lambda: measure(options.workers, (options.think[0], options.think[1])))


def _arguments(argv: list[str]) -> argparse.Namespace:
    parsing = parser("benchmarks.plan_deadline", __doc__)
    parsing.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parsing.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=THINK,
        metavar=("MIN", "MAX"),
        help="seconds people pause between requests (uniform)",
    )
    return parsing.parse_args(argv)


def measure(workers: int = 2, think: tuple[float, float] = THINK) -> int:
    with throwaway_postgres("bench-plan-deadline") as url:
        print(f"preparing the demo nation and {USERS_PER_AREA} editors per area on PostgreSQL…")
        codes = prepare(url)
        validation = validation_times(url)
        person_tokens = tokens(url, codes)
        with server(url, workers) as base:
            print(f"simulating the deadline (pauses {think[0]:g}-{think[1]:g} s)…")
            tally, floor_tally, seconds, sessions = asyncio.run(
                deadline(base, codes, person_tokens, think)
            )
            print("measuring capacity…")
            pages = asyncio.run(capacity(base, codes, sessions, None))
            floor_capacity = asyncio.run(capacity(base, codes, sessions, "/healthz"))
        lost, submitted = lost_updates(url, tally.acknowledged)
    saves = sum(len(m) for m in tally.acknowledged.values())
    print(
        f"\n{len(codes)} areas × {USERS_PER_AREA} people × {ROUNDS} rounds on PostgreSQL, "
        f"{workers} uvicorn workers, {seconds:.1f} s"
    )
    report(tally, floor_tally, seconds)
    print(
        f"saves acknowledged {saves}; lost updates {lost}; plans sent for sign-off "
        f"{submitted} of {len(codes)}"
    )
    print(
        f"validating a full plan: p50 {percentile(validation, 0.5):.1f} ms, "
        f"p95 {percentile(validation, 0.95):.1f} ms, max {max(validation) * 1000:.1f} ms "
        "(target < 50 ms)"
    )
    report_capacity(pages, floor_capacity)
    return 1 if lost or tally.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
