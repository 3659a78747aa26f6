"""The web server's memory while hostile workbooks are uploaded to the spend page.

The real server (``carepool serve``, one uvicorn process) runs on a free loopback port over a
fresh demo database. A finance officer signs in through the form and, each round, uploads to
their pool's spend page, with the page's CSRF token:

* a decompression bomb: an ``.xlsx`` of about 1 MB whose shared strings unpack to 400 MB;
* a workbook of three million rows (well under the 5 MB upload cap, so it reaches the reader);
* the comparison, measured in the same round: an honest spend CSV of nearly 5 MB, every row
  read and checked, refused at its last row so that nothing is posted and each round is the
  same.

While each upload runs, the server's resident memory is sampled from ``/proc`` every 10 ms and
``/healthz`` is asked every 100 ms. Reported per upload and round: the answer, the peak RSS
and its growth over the idle server, the ratio of that growth to the honest file's, whether
the peak stayed under the 500 MB target, and whether ``/healthz`` answered throughout.

Run: ``python -m benchmarks upload_memory`` or ``python -m benchmarks.upload_memory
--rounds 5``. Ctrl+C, SIGTERM or SIGHUP stops the server it started.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.damaged_files import MB, write_bomb, write_tall_workbook

from benchmarks.common import parser, run, stop_process
from benchmarks.plan_deadline import free_port
from carepool.accounts import service as accounts
from carepool.demo.service import DEMO_PASSWORD
from carepool.domain.roles import SYSTEM
from carepool.pools.service import ledger
from carepool.store.db import engine_for, unit_of_work

YEAR = "2015-16"
TARGET_MB = 500
BOMB_UNPACKS_TO = 400 * MB
TALL_ROWS = 3_000_000
HONEST_BYTES = 4_900_000
SAMPLE_SECONDS = 0.01
HEALTH_SECONDS = 0.1
START_SECONDS = 180
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def rss_mb(pid: int) -> float:
    """The process's resident memory now, from ``/proc/PID/status``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def build_database(folder: Path) -> tuple[str, str]:
    """A fresh demo database (``carepool demo --no-serve``); its URL and the pool's area."""
    url = f"sqlite:///{folder / 'carepool.db'}"
    env = {**os.environ, "CAREPOOL_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "carepool", "demo", "--no-serve", "--metrics-scale", "0"],
        env=env,
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = engine_for(url)
    with unit_of_work(engine) as session:
        finance = accounts.find_user(session, "finance")
        assert finance is not None
        area = next(g.area_code for g in finance.grants if g.area_code)
        assert area is not None
        schemes = [s.ref for s in ledger.plan_content(session, ledger.pool_for(
            session, YEAR, area, SYSTEM)).schemes]  # fmt: skip
    engine.dispose()
    write_honest_spend(folder / "honest.csv", schemes)
    return url, area


def write_honest_spend(path: Path, schemes: list[str]) -> Path:
    """Nearly 5 MB of plausible spend rows, the last one naming a scheme the pool lacks."""
    start = dt.date(2016, 1, 4)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("date", "scheme", "provider", "amount", "reference"))
        n = 0
        while handle.tell() < HONEST_BYTES:
            day = start + dt.timedelta(days=n % 80)
            scheme = schemes[n % len(schemes)]
            writer.writerow((day.isoformat(), scheme, "Acme Care Ltd", f"{n % 9000 + 10}.25",
                             f"BENCH-{n:07d}"))  # fmt: skip
            n += 1
        writer.writerow((start.isoformat(), "NO-SUCH-SCHEME", "Acme Care Ltd", "1.00", "BENCH-END"))
    return path


@contextmanager
def serving(url: str, folder: Path) -> Iterator[tuple[str, int]]:
    """``carepool serve`` on a free loopback port; its base URL and process id."""
    port = free_port()
    env = {**os.environ, "CAREPOOL_DATABASE_URL": url, "CAREPOOL_SECRET_KEY": "bench-only"}
    log = folder / "server.log"
    with log.open("wb") as written:
        process = subprocess.Popen(
            [sys.executable, "-m", "carepool", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=written,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, process, log)
        yield base, process.pid
    finally:
        stop_process(process)


def _wait_for(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    said = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"the server did not answer within {START_SECONDS} s:\n{said}")


def signed_in(base: str) -> httpx.Client:
    """A client signed in as the demo finance officer through the sign-in form."""
    client = httpx.Client(base_url=base, timeout=300)
    token = _csrf(client.get("/sign-in").text)
    answer = client.post(
        "/sign-in", data={"csrf_token": token, "username": "finance", "password": DEMO_PASSWORD}
    )
    if answer.status_code != 303:  # the form answers a wrong password with itself
        raise RuntimeError(f"signing in failed: HTTP {answer.status_code}")
    return client


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise RuntimeError("the page has no CSRF field")
    return found.group(1)


@dataclass
class Watch:
    """What the sampler and the health checker saw while one upload ran."""

    peak_mb: float = 0.0
    health_asked: int = 0
    health_failed: int = 0
    done: threading.Event = field(default_factory=threading.Event)


def _sample(pid: int, watch: Watch) -> None:
    while not watch.done.is_set():
        watch.peak_mb = max(watch.peak_mb, rss_mb(pid))
        time.sleep(SAMPLE_SECONDS)


def _check_health(base: str, watch: Watch) -> None:
    """Ask ``/healthz`` at once and then every 100 ms until the upload is answered."""
    with httpx.Client(base_url=base, timeout=2) as client:
        while not watch.done.is_set() or not watch.health_asked:
            watch.health_asked += 1
            try:
                if client.get("/healthz").status_code != 200:
                    watch.health_failed += 1
            except httpx.TransportError:
                watch.health_failed += 1
            time.sleep(HEALTH_SECONDS)


@dataclass(frozen=True, slots=True)
class Upload:
    status: int
    seconds: float
    start_mb: float
    peak_mb: float
    health_asked: int
    health_failed: int


def upload(client: httpx.Client, pid: int, page: str, path: Path) -> Upload:
    """Post ``path`` to the spend page while sampling the server's memory and health."""
    token = _csrf(client.get(page).text)
    start_mb = rss_mb(pid)
    watch = Watch(peak_mb=start_mb)
    watchers = [
        threading.Thread(target=_sample, args=(pid, watch), daemon=True),
        threading.Thread(target=_check_health, args=(str(client.base_url), watch), daemon=True),
    ]
    for thread in watchers:
        thread.start()
    started = time.perf_counter()
    with path.open("rb") as handle:
        answer = client.post(
            page, data={"csrf_token": token}, files={"spend_file": (path.name, handle)}
        )
    seconds = time.perf_counter() - started
    watch.done.set()
    for thread in watchers:
        thread.join()
    return Upload(answer.status_code, seconds, start_mb, watch.peak_mb, watch.health_asked,
                  watch.health_failed)  # fmt: skip


def report(name: str, size: int, done: Upload, idle: float, honest_growth: float) -> bool:
    """One line for one upload; true if the peak met the target and /healthz always answered.

    Growth is counted from the server's size just before this upload, since memory an
    earlier upload took is kept by the allocator rather than given back.
    """
    growth = done.peak_mb - done.start_mb
    ok = done.peak_mb < TARGET_MB
    ratio = growth / honest_growth if honest_growth > 0 else float("nan")
    healthy = done.health_failed == 0
    print(
        f"  {name:<23} {size / MB:5.2f} MB: HTTP {done.status} in {done.seconds:5.1f} s; peak "
        f"{done.peak_mb:6.1f} MB (idle {idle:.1f}), +{growth:6.1f} MB during the upload = "
        f"{ratio:5.2f}x the honest file's; target < {TARGET_MB} MB {'met' if ok else 'MISSED'};"
        f" /healthz {done.health_asked - done.health_failed}/{done.health_asked} answered"
    )
    return ok and healthy


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark: ``--rounds N`` uploads each file N times (default 3)."""
    parsing = parser("benchmarks.upload_memory", __doc__)
    parsing.add_argument("--rounds", type=int, default=3, help="times to upload each file")
    rounds = parsing.parse_args(argv or []).rounds
    return run(lambda: measure(rounds))


def measure(rounds: int) -> int:
    with tempfile.TemporaryDirectory(prefix="carepool-bench-upload-") as name:
        folder = Path(name)
        print("building a fresh demo database and the files to upload…")
        url, area = build_database(folder)
        hostile = {
            "bomb (unpacks 400 MB)": write_bomb(folder / "bomb.xlsx", BOMB_UNPACKS_TO),
            f"{TALL_ROWS:,}-row workbook": write_tall_workbook(folder / "tall.xlsx", TALL_ROWS),
        }
        honest = folder / "honest.csv"
        with serving(url, folder) as (base, pid), closing(signed_in(base)) as client:
            page = f"/pools/{YEAR}/{area}/spend"
            return _rounds(client, pid, page, honest, hostile, rounds)


def _rounds(
    client: httpx.Client, pid: int, page: str, honest: Path, hostile: dict[str, Path], rounds: int
) -> int:
    failed = False
    for number in range(1, rounds + 1):
        idle = rss_mb(pid)
        print(f"round {number}: idle server {idle:.1f} MB")
        fair = upload(client, pid, page, honest)
        honest_growth = fair.peak_mb - fair.start_mb
        report("honest CSV (comparison)", honest.stat().st_size, fair, idle, honest_growth)
        for name, path in hostile.items():
            done = upload(client, pid, page, path)
            failed |= not report(name, path.stat().st_size, done, idle, honest_growth)
            failed |= done.status != 422
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
