"""The command line as a user runs it: exit codes, stable JSON, messages without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from sqlalchemy import Engine, func, select, text

from carepool.audit import repository as audit
from carepool.domain.audit import AuditRecord, KeyedHead, event_hash, pool_chain
from carepool.store.db import unit_of_work
from carepool.store.models import CouncilRow, Vintage

POOL = pool_chain("2017-19/E06000052")


def carepool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child process against the test's database (set by the fixtures)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "carepool", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_real_files_import_and_allocate(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    councils = shared_data / "uk_local_authorities.csv"
    shares = shared_data / "derived_ccg15_to_la_population_shares_mid2017.csv"
    first = ok_json(carepool("import", "areas", councils, "--json", cwd=tmp_path))
    again = ok_json(carepool("import", "areas", councils, "--json", cwd=tmp_path))
    assert first["created"] is True and again["created"] is False
    ok_json(carepool("import", "shares", shares, "--json", cwd=tmp_path))

    areas = ok_json(carepool("areas", "--year", "2015-16", "--json", cwd=tmp_path))
    assert len(areas["areas"]) == 151
    assert {"code", "name", "region", "population"} <= set(areas["areas"][0])
    assert {"all", "0-17", "18-64", "65+"} <= set(areas["areas"][0]["population"])

    report = ok_json(carepool("allocate", "--year", "2015-16", "--json", cwd=tmp_path))
    assert report["year"] == "2015-16"
    assert report["total_pence"] == sum(s["total_pence"] for s in report["streams"])
    assert report["total_pence"] == sum(a["total_pence"] for a in report["areas"])
    line = report["areas"][0]["lines"][0]
    assert set(line) >= {"stream", "commissioner_code", "amount_pence"}
    assert {s["name"] for s in report["streams"]} >= {"CCG minimum contribution"}

    verify = ok_json(carepool("audit", "verify", "--json", cwd=tmp_path))
    assert verify["ok"] is True and verify["events"] >= 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("allocate", "--year", "2099-00"), "unknown programme year '2099-00'"),
        (("frameworks", "show", "1999-00"), "unknown programme year"),
        (("import", "areas", "no-such-file.csv"), "does not exist"),
        (("areas", "--year", "2015-16"), "no councils register imported yet"),
    ],
)
def test_user_errors_exit_non_zero_without_a_traceback(
    sqlite_engine: Engine, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = carepool(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_a_malformed_file_names_the_problem_and_writes_nothing(
    sqlite_engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    ok_json(carepool("import", "areas", shared_data / "uk_local_authorities.csv", "--json",
                     cwd=tmp_path))  # fmt: skip
    bad = tmp_path / "councils.csv"
    source = (shared_data / "uk_local_authorities.csv").read_text(encoding="utf-8-sig")
    bad.write_bytes(source.replace("Cornwall", "Cornwall\u00e9").encode("latin-1", "replace"))
    result = carepool("import", "areas", bad, cwd=tmp_path)
    assert result.returncode == 1
    assert "councils.csv" in result.stderr and "Traceback" not in result.stderr
    with unit_of_work(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(Vintage)) == 1
        assert session.scalar(select(func.count()).select_from(CouncilRow)) == 445


def test_frameworks_list_and_show(tmp_path: Path) -> None:
    listed = ok_json(carepool("frameworks", "list", "--json", cwd=tmp_path))
    years = [f["year"] for f in listed["frameworks"]]
    assert years[:3] == ["2014-15", "2015-16", "2016-17"] and years[-1] == "2025-26"
    assert len(years) == 10
    seed = listed["frameworks"][1]
    assert seed["minimum_total_pence"] == 381_400_000_000 and seed["name"] == seed["title"]
    assert (seed["starts"], seed["ends"]) == ("2015-04-01", "2016-03-31")
    assert all(isinstance(f["unconfirmed"], int) for f in listed["frameworks"])
    shown = ok_json(carepool("frameworks", "show", "2015-16", "--json", cwd=tmp_path))
    assert shown["minimum_total"] == 381_400_000_000
    assert len(shown["national_conditions"]) == 6
    assert len(shown["unconfirmed_figures"]) == seed["unconfirmed"]
    reablement = "streams.ccg_minimum.earmarks.Reablement.amount"
    assert reablement in {f["key"] for f in shown["unconfirmed_figures"]}


def test_frameworks_check_validates_a_draft_without_installing_it(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[1] / "src" / "carepool" / "frameworks" / "2019-20.toml"
    draft = tmp_path / "draft.toml"
    draft.write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    ok = ok_json(carepool("frameworks", "check", draft, "--json", cwd=tmp_path))
    assert ok["valid"] is True and ok["framework"]["year"] == "2019-20"
    text = shipped.read_text(encoding="utf-8")
    text = text.replace('metric = "non_elective_admissions"', 'metric = "happiness_index"')
    draft.write_text(text, encoding="utf-8")
    result = carepool("frameworks", "check", draft, "--json", cwd=tmp_path)
    assert result.returncode == 1
    refused = json.loads(result.stdout)
    assert refused["valid"] is False
    (problem,) = refused["problems"]
    assert (problem["file"], problem["key"]) == ("draft.toml", "metrics[0].metric")
    assert "'happiness_index' does not exist" in problem["message"]
    plain = carepool("frameworks", "check", draft, cwd=tmp_path)
    assert plain.returncode == 1 and "draft.toml" in plain.stderr
    assert "metrics[0].metric" in plain.stderr and "Traceback" not in plain.stderr


def test_demo_without_serving_builds_and_is_repeatable(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    for _ in range(2):
        result = carepool("demo", "--no-serve", "--metrics-scale", "0.02", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    report = ok_json(carepool("allocate", "--year", "2015-16", "--json", cwd=tmp_path))
    assert report["synthetic"] is True
    assert report["status"] == "Published" and report["version"] == 1
    assert len(report["areas"]) == 151
    listed = ok_json(carepool("allocation", "list", "--year", "2015-16", "--json", cwd=tmp_path))
    assert [r["status"] for r in listed["runs"]] == ["Published"]


def test_a_checkpoint_kept_elsewhere_finds_the_newest_events_removed(
    sqlite_engine: Engine, tmp_path: Path, audit_key: str
) -> None:
    """Deleting the newest events, and the stored checkpoints too, by someone who holds the
    audit key and so can move the keyed head back, is still found by the file."""
    with unit_of_work(sqlite_engine) as session:
        for number in (1, 2, 3):
            audit.record(session, actor="x", action="post", entity="pool", entity_id=number,
                         chain=POOL)  # fmt: skip
    kept = tmp_path / "checkpoint.json"
    taken = carepool("audit", "checkpoint", cwd=tmp_path)
    assert taken.returncode == 0, taken.stderr
    kept.write_text(taken.stdout, encoding="utf-8")
    assert json.loads(taken.stdout)["chains"][0] == {
        "chain": "pool/2017-19/E06000052", "sequence": 3, "hash": ANY}  # fmt: skip

    intact = ok_json(carepool("audit", "verify", "--json", "--checkpoint", kept, cwd=tmp_path))
    assert intact["ok"] is True and intact["events"] == 3 and intact["checkpoints"] == 1
    assert intact["chains"] == [{"chain": "pool/2017-19/E06000052", "events": 3, "head": ANY}]

    second = _events(sqlite_engine, POOL)[1]
    head = KeyedHead(POOL, 2, second.hash).signed(audit_key.encode())
    with sqlite_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE sequence = 3"))
        connection.execute(text("DELETE FROM audit_checkpoint"))
        connection.execute(
            text("UPDATE audit_head SET sequence = 2, hash = :hash, mac = :mac"),
            {"hash": head.hash, "mac": head.mac},
        )
    assert ok_json(carepool("audit", "verify", "--json", cwd=tmp_path))["ok"] is True
    found = carepool("audit", "verify", "--json", "--checkpoint", kept, cwd=tmp_path)
    assert found.returncode == 1
    [broken] = json.loads(found.stdout)["breaks"]
    assert broken["chain"] == "pool/2017-19/E06000052" and broken["sequence"] == 3
    assert "newest events were removed" in broken["reason"]


def _events(engine: Engine, chain: str) -> list[AuditRecord]:
    with unit_of_work(engine) as session:
        return list(audit.chain(session, chain))


def _recompute_from_third(engine: Engine, chain: str) -> None:
    """Edit event 3 and recompute its hash and every later one by plain SHA-256."""
    records = _events(engine, chain)
    previous = records[1].hash
    with engine.begin() as connection:
        for record in records[2:]:
            actor = "mallory" if record.sequence == 3 else record.actor
            digest = event_hash(previous_hash=previous, sequence=record.sequence, at=record.at,
                                actor=actor, action=record.action, entity=record.entity,
                                entity_id=record.entity_id, before=record.before,
                                after=record.after)  # fmt: skip
            connection.execute(
                text("UPDATE audit_event SET actor = :actor, previous_hash = :previous, "
                     "hash = :hash WHERE chain = :chain AND sequence = :sequence"),
                {"actor": actor, "previous": previous, "hash": digest, "chain": chain,
                 "sequence": record.sequence},
            )  # fmt: skip
            previous = digest


def _append_forged(engine: Engine, chain: str) -> None:
    """Add event 13, linked to the newest and hashed by plain SHA-256."""
    newest = _events(engine, chain)[-1]
    forged = {"sequence": 13, "at": newest.at, "actor": "x", "action": "post",
              "entity": "pool", "entity_id": "99", "before": None, "after": None}  # fmt: skip
    digest = event_hash(previous_hash=newest.hash, **forged)  # type: ignore[arg-type]
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_event (chain, sequence, at, actor, action, entity, "
                 "entity_id, previous_hash, hash) VALUES (:chain, :sequence, :at, :actor, "
                 ":action, :entity, :entity_id, :previous, :hash)"),
            {**forged, "chain": chain, "previous": newest.hash, "hash": digest},
        )  # fmt: skip


def _delete(where: str) -> Callable[[Engine, str], None]:
    def delete(engine: Engine, chain: str) -> None:
        with engine.begin() as connection:
            connection.execute(
                text(f"DELETE FROM audit_event WHERE chain = :chain {where}"), {"chain": chain}
            )

    return delete


TAMPERING: dict[str, Callable[[Engine, str], None]] = {
    "pool/2017-19/E06000001": _delete("AND sequence = 12"),  # the newest event deleted
    "pool/2017-19/E06000002": _delete("AND sequence > 2"),  # the last ten deleted
    "pool/2017-19/E06000003": _recompute_from_third,  # edited, later hashes recomputed
    "pool/2017-19/E06000004": _append_forged,  # a forged event appended
}


def test_audit_verify_finds_the_log_changed_through_the_database(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Issue 15, finding 4: each of these changes, made without the audit key and with no
    checkpoint to compare against, used to verify as ``"ok": true``."""
    with unit_of_work(sqlite_engine) as session:
        for chain in [*TAMPERING, POOL]:
            for number in range(1, 13):
                audit.record(session, actor="x", action="post", entity="pool",
                             entity_id=number, chain=chain)  # fmt: skip
    assert ok_json(carepool("audit", "verify", "--json", cwd=tmp_path))["ok"] is True
    for chain, tamper in TAMPERING.items():
        tamper(sqlite_engine, chain)
    found = carepool("audit", "verify", "--json", cwd=tmp_path)
    assert found.returncode == 1 and json.loads(found.stdout)["ok"] is False
    assert {b["chain"] for b in json.loads(found.stdout)["breaks"]} == set(TAMPERING)
    assert "Traceback" not in found.stderr

    with sqlite_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event"))  # every event deleted
    emptied = carepool("audit", "verify", "--json", cwd=tmp_path)
    assert emptied.returncode == 1
    assert json.loads(emptied.stdout) | {"breaks": []} == {
        "events": 0, "ok": False, "breaks": [], "chains": [], "checkpoints": 0}  # fmt: skip


def test_adopting_chains_written_before_keyed_hashes_reports_what_it_took(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A database made with keyed hashes has nothing to adopt; the JSON says so."""
    assert ok_json(carepool("audit", "adopt", "--json", cwd=tmp_path)) == {"adopted": []}


def test_a_count_too_large_to_hold_is_refused_by_name(
    sqlite_engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    ok_json(carepool("import", "areas", shared_data / "uk_local_authorities.csv", "--json",
                     cwd=tmp_path))  # fmt: skip
    source = shared_data / "derived_ccg15_to_la_population_shares_mid2017.csv"
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace(",109318,", "," + "9" * 30 + ",")
    bad = tmp_path / "shares.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = carepool("import", "shares", bad, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "shares.csv, row 2, column 'pop_mid2017_all_ages'" in message
    assert "is more than carepool accepts (1,000,000,000,000)" in message
    with unit_of_work(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(Vintage)) == 1


def test_publish_writes_the_package_and_refuses_a_folder_of_other_things(
    demo_db_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "carepool.db"
    database.write_bytes(demo_db_file.read_bytes())
    monkeypatch.setenv("CAREPOOL_DATABASE_URL", f"sqlite:///{database}")
    found = ok_json(carepool("publish", tmp_path / "open-data", "--json", cwd=tmp_path))
    assert [t["name"] for t in found["tables"]][:3] == ["areas", "allocations", "plans"]
    assert (tmp_path / "open-data" / "datapackage.json").is_file()
    assert (tmp_path / "open-data" / "360giving.json").is_file()
    refused = carepool("publish", tmp_path, cwd=tmp_path)
    assert refused.returncode == 1
    assert "is not empty and holds no datapackage.json" in refused.stderr
    assert "Traceback" not in refused.stderr
