"""Every importer given malformed files: refused with a message naming the file, or imported
sanely, and never a traceback; a refused file leaves the database exactly as it was.

The cases are every importer (``importers.IMPORTERS``) times every mutation of its valid seed
(``malformed.MUTATIONS``), one test each so pytest-xdist spreads them over the workers. The
summary at the end of the run counts the cases tried, refused cleanly, accepted and those
that left the database unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fuzz_support import Ran, digest, run_cli
from importers import IMPORTERS, SHARED_SEEDS, Demo
from malformed import MUTATIONS, Seed
from sqlalchemy import Engine

pytestmark = pytest.mark.slow

PSEUDONYM_KEY = "carepool fuzz suite: a pseudonym key that is long enough"
MUST_REFUSE = {
    "cut in the last line": "a last row cut short is imported with its last value cut",
    "full-width digits": "full-width digits are read as numbers",
}
"""Mutations that must be refused, not imported."""
EXEMPT = {
    ("areas", "full-width digits"): "they land only in columns the register import ignores",
    ("person-level", "cut in the last line"): "ingest quarantines a bad row, not the file",
    ("person-level", "full-width digits"): "ingest quarantines a bad row, not the file",
}
CASES = [pytest.param(importer, mutation) for importer in IMPORTERS for mutation in MUTATIONS]


def _seed(importer: str, request: pytest.FixtureRequest) -> tuple[Seed, Demo | None]:
    if IMPORTERS[importer].on_demo:
        demo: Demo = request.getfixturevalue("demo_world")
        return demo.seeds[importer], demo
    return SHARED_SEEDS[importer](request.getfixturevalue("shared_data")), None


def _database(demo: Demo | None, request: pytest.FixtureRequest) -> Engine:
    if demo is None:
        engine: Engine = request.getfixturevalue("sqlite_engine")
        return engine
    copy: Callable[[Path], Engine] = request.getfixturevalue("sqlite_copy")
    return copy(demo.database)


def _state(engine: Engine, data_dir: Path) -> tuple[str, list[Path]]:
    """The database's digest and the files of the person-level data directory."""
    files = sorted(data_dir.rglob("*")) if data_dir.exists() else []
    return digest(engine), files


def _unclean(ran: Ran, name: str) -> list[str]:
    """What is wrong with a refusal: the user must see an error that names the file, in its
    first line or in a problem listed under it (an ingest of a folder names the folder).
    The console may wrap a long path anywhere, so the name is looked for with no spaces."""
    faults = {
        f"exit code {ran.code}, not 1": ran.code != 1,
        "a traceback": "Traceback" in ran.output,
        "no 'Error:' message": not ran.said.startswith("Error: "),
        f"a message that does not name {name}": name not in "".join(ran.output.split()),
    }
    return [fault for fault, found in faults.items() if found]


@pytest.mark.parametrize(("importer", "mutation"), CASES)
def test_a_malformed_file_is_refused_cleanly_or_imported_sanely(
    importer: str,
    mutation: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    record: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAREPOOL_PSEUDONYM_KEY", PSEUDONYM_KEY)
    seed, demo = _seed(importer, request)
    name, data = MUTATIONS[mutation](seed)
    path = tmp_path / name
    path.write_bytes(data)
    engine = _database(demo, request)
    data_dir = tmp_path / "data"
    before = _state(engine, data_dir)

    ran = run_cli(IMPORTERS[importer].args(path, demo, data_dir))

    unchanged = _state(engine, data_dir) == before
    faults = _unclean(ran, name) if ran.code else []
    record(
        refused_cleanly=ran.code != 0 and not faults, accepted=ran.code == 0, unchanged=unchanged
    )
    assert "Traceback" not in ran.output, ran.output
    assert not faults, f"{name} refused with {', '.join(faults)}: {ran.output}"
    assert unchanged or ran.code == 0, f"{name} was refused but the database changed"
    must_refuse = mutation in MUST_REFUSE and (importer, mutation) not in EXEMPT
    assert ran.code or not must_refuse, f"{MUST_REFUSE[mutation]}: {ran.output}"
