"""Published statistics and computed metric values in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import itertools
import threading
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func, select
from xls_workbooks import dtoc_sheets, write_xls

from carepool.audit import repository as audit
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, ImportRejected
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.roles import SYSTEM, principal
from carepool.metrics import repository
from carepool.metrics.service import published as stats
from carepool.metrics.service import results as metric_results
from carepool.store.db import unit_of_work
from carepool.store.models import AuditEventRow, MetricValueRow, PublishedStatisticRow, Vintage

DTOC_FILE = "nhse_dtoc_england_monthly_2010_2020.xls"
OUTCOMES_FILE = "oflog_asc_outcomes_by_la_2015_2023.csv"
ANALYST = principal("ann", "Ann Analyst", ["analyst"])


def count(engine: Engine, table: type) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_both_publications_imported_and_read_back(engine: Engine, shared_data: Path) -> None:
    with unit_of_work(engine) as session:
        dtoc = stats.import_statistics(session, shared_data / DTOC_FILE, SYSTEM)
        outcomes = stats.import_statistics(session, shared_data / OUTCOMES_FILE, SYSTEM)
    assert (dtoc.kind, dtoc.rows, dtoc.created) == ("dtoc", 115 * 17, True)
    assert dtoc.vintage == "nhse_dtoc_england_monthly_2010_2020"
    assert dtoc.notes == ("115 months, 2010-08 to 2020-02, 17 measures",)
    assert (outcomes.kind, outcomes.rows) == ("asc_outcomes", 6_078)
    assert outcomes.notes[1] == "298 rows have no published value and were left out"

    with unit_of_work(engine) as session:
        by_organisation = stats.delayed_days_by_organisation(session)
        by_type = stats.delayed_days_by_type(session)
        trafford = stats.reablement_series(session, "E08000009")
        year = stats.outcomes_for_year(session, "ASC5", "2015-16")
        reasons = stats.england_series(session, "DTOC_REASON_DII")
        events = [(e.action, e.entity, e.after["kind"]) for e in audit.chain(session)]

    assert len(by_organisation) == 115
    assert by_organisation[0] == stats.DelayedDaysMonth("2010-08", 64_255, 38_324, 7_339, 109_918)
    assert by_organisation[-1].period == "2020-02" and by_organisation[-1].total == 155_782
    assert all(m.nhs + m.social_care + m.both == m.total for m in by_organisation)
    assert by_type[0] == ("2010-08", 55_332, 54_586)
    assert trafford.points[0] == ("2015-16", Decimal("56.2"))
    assert [p for p, _ in trafford.points] == [f"{y}-{y - 1999:02d}" for y in range(2015, 2023)]
    assert (trafford.unit, trafford.geography_name, trafford.grain) == (
        "percentage", "Trafford", Grain.YEAR
    )  # fmt: skip
    assert len(year) == 152 and year[0].geography_code < year[-1].geography_code
    assert reasons.measure_label == "Delayed days: Awaiting nursing home placement or availability"
    assert reasons.geography_code == "E92000001" and reasons.grain is Grain.MONTH
    assert events == [("import", "vintage", "dtoc"), ("import", "vintage", "asc_outcomes")]


def test_the_same_file_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_xls(tmp_path / "dtoc.xls", dtoc_sheets())
    with unit_of_work(engine) as session:
        first = stats.import_statistics(session, path, SYSTEM)
    with unit_of_work(engine) as session:
        again = stats.import_statistics(session, path, SYSTEM)

    assert first.created and not again.created
    assert (again.vintage, again.rows, again.sha256) == (first.vintage, 4 * 9, first.sha256)
    assert again.notes == ("dtoc.xls was already imported as vintage 'dtoc'; nothing changed",)
    assert count(engine, PublishedStatisticRow) == 36
    assert count(engine, Vintage) == 1 and count(engine, AuditEventRow) == 1


def test_a_bad_file_writes_nothing_at_all(engine: Engine, tmp_path: Path) -> None:
    sheets = dtoc_sheets()
    sheets["Delayed Days by type"][18][3] = "n/a"
    path = write_xls(tmp_path / "dtoc.xls", sheets)

    # The unit of work commits whatever the service wrote before it refused the file.
    with unit_of_work(engine) as session, pytest.raises(ImportRejected) as caught:
        stats.import_statistics(session, path, SYSTEM)

    assert caught.value.problems[0].cell == "'Delayed Days by type'!D19"
    for table in (Vintage, PublishedStatisticRow, AuditEventRow):
        assert count(engine, table) == 0


def test_an_outcomes_file_with_an_unknown_measure_writes_nothing(
    engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    lines = (shared_data / OUTCOMES_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "outcomes.csv"
    wrong = lines[5].replace(",ASC1,", ",ASC51,")  # row 6: Hampshire's carers, 2016-17
    path.write_text("".join([*lines[:5], wrong, *lines[6:]]), encoding="utf-8")

    with unit_of_work(engine) as session, pytest.raises(ImportRejected) as caught:
        stats.import_statistics(session, path, SYSTEM)

    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == ("outcomes.csv", 6, "Code")
    assert problem.message.startswith("'ASC51' is not one of Oflog's measure codes")
    for table in (Vintage, PublishedStatisticRow, AuditEventRow):
        assert count(engine, table) == 0


def test_a_newer_edition_is_a_new_vintage_and_is_read_in_preference(
    engine: Engine, tmp_path: Path
) -> None:
    first = write_xls(tmp_path / "dtoc.xls", dtoc_sheets())
    revised = dtoc_sheets()  # August revised: ten more acute days, attributed to the NHS
    revised["Delayed Days by type"][16][3:6] = [55_342, 54_586, 109_928]
    revised["Delayed Days by responsible org"][16][3:7] = [64_265, 38_324, 7_339, 109_928]
    revised["Delayed Days by reason"][16][3:7] = [20_740, 89_188, 0, 109_928]
    (tmp_path / "new").mkdir()
    second = write_xls(tmp_path / "new" / "dtoc.xls", revised)
    with unit_of_work(engine) as session:
        stats.import_statistics(session, first, SYSTEM)

    with unit_of_work(engine) as session, pytest.raises(Conflict, match="--vintage NAME"):
        stats.import_statistics(session, second, SYSTEM)
    with unit_of_work(engine) as session:
        stats.import_statistics(session, second, SYSTEM, vintage_name="dtoc (revised)")
    with unit_of_work(engine) as session:
        august = stats.delayed_days_by_organisation(session)[0]

    assert (august.nhs, august.total) == (64_265, 109_928)
    assert count(engine, Vintage) == 2


def test_kinds_are_recognised_from_content(shared_data: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "outcomes.txt"
    renamed.write_bytes((shared_data / OUTCOMES_FILE).read_bytes()[:2000])

    assert stats.detect_kind(shared_data / DTOC_FILE) == "dtoc"
    assert stats.detect_kind(renamed) == "asc_outcomes"
    with pytest.raises(CarepoolError, match="say which with --kind"):
        stats.detect_kind(shared_data / "uk_local_authorities.csv")


def test_a_workbook_named_csv_is_read_as_the_workbook_it_is(
    sqlite_engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    """The type is read from the contents, as docs/formats.md says, not from the name."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    with (shared_data / OUTCOMES_FILE).open(encoding="utf-8", newline="") as published:
        for line in itertools.islice(csv.reader(published), 11):
            sheet.append(line)
    path = tmp_path / "outcomes.csv"
    book.save(path)

    assert stats.detect_kind(path) == "asc_outcomes"
    with unit_of_work(sqlite_engine) as session:
        imported = stats.import_statistics(session, path, SYSTEM)
    assert (imported.kind, imported.rows, imported.created) == ("asc_outcomes", 10, True)


def test_a_file_of_another_kind_than_declared_is_refused(
    sqlite_engine: Engine, shared_data: Path
) -> None:
    with unit_of_work(sqlite_engine) as session, pytest.raises(ImportRejected) as caught:
        stats.import_statistics(session, shared_data / OUTCOMES_FILE, SYSTEM, kind="dtoc")
    assert caught.value.problems[0].message == "this is not an Excel .xls workbook"


def test_only_a_national_administrator_imports(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_xls(tmp_path / "dtoc.xls", dtoc_sheets())
    with unit_of_work(sqlite_engine) as session, pytest.raises(Forbidden):
        stats.import_statistics(session, path, ANALYST)


def test_an_unknown_series_is_not_found(sqlite_engine: Engine) -> None:
    with unit_of_work(sqlite_engine) as session, pytest.raises(CarepoolError, match="no published"):
        stats.reablement_series(session, "E08000009")


# --------------------------------------------------------------------------------------------
# Computed metric values


def value(metric: str, area: str, period: str, numerator: int, denominator: int | None,
          exact: str, grain: Grain = Grain.MONTH) -> MetricValue:  # fmt: skip
    return MetricValue(metric, 1, area, period, grain, numerator, denominator, Decimal(exact))


RUN = [
    value("delayed_days_rate", "E06000001", "2015-05", 120, 70_000, "171.4285714285714285714"),
    value("delayed_days_rate", "E06000001", "2015-04", 5, 70_000, "7.1"),
    value("delayed_days_rate", "E06000002", "2015-04", 300, 100_000, "300.0"),
    value("reablement_91_days", "E06000001", "2015-16", 81, 100, "81.0", Grain.YEAR),
]


def test_metric_values_round_trip_exactly(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        saved = metric_results.save_results(
            session, RUN, SYSTEM, engine="reference", data_vintage="extract-2016-06"
        )
    with unit_of_work(engine) as session:
        series = metric_results.series(session, "delayed_days_rate", "E06000001", Grain.MONTH)
        april = metric_results.period_values(session, "delayed_days_rate", "2015-04")
        (event,) = audit.chain(session)

    assert saved.as_dict() == {
        "data_vintage": "extract-2016-06", "engine": "reference", "stored": 4, "replaced": 0,
        "metrics": {"delayed_days_rate": 3, "reablement_91_days": 1},
    }  # fmt: skip
    assert series.data_vintage == "extract-2016-06"
    assert series.values == (RUN[1], RUN[0])  # oldest period first, exactly as computed
    assert [v.area_code for v in april] == ["E06000001", "E06000002"]
    assert (event.action, event.entity_id) == ("save_metric_values", "extract-2016-06")


def test_whether_a_period_is_complete_is_stored_and_read_back(engine: Engine) -> None:
    april_only = replace(value("reablement_91_days", "E06000001", "2016-17", 8, 10, "80.0",
                               Grain.YEAR), complete=False)  # fmt: skip
    with unit_of_work(engine) as session:
        metric_results.save_results(
            session, [RUN[3], april_only], SYSTEM, engine="reference", data_vintage="to-2016-04"
        )
    with unit_of_work(engine) as session:
        years = metric_results.series(session, "reablement_91_days", "E06000001", Grain.YEAR)
        summary = repository.vintage_summary(session, "reablement_91_days", "to-2016-04")
    assert [(v.period, v.complete) for v in years.values] == [
        ("2015-16", True),
        ("2016-17", False),
    ]
    assert [(s.latest_period, s.latest_complete_period) for s in summary] == [
        ("2016-17", "2015-16")
    ]


def test_saving_a_vintage_again_replaces_only_its_own_values_of_those_metrics(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session:
        metric_results.save_results(session, RUN, SYSTEM, engine="reference", data_vintage="v1")
        metric_results.save_results(session, RUN, SYSTEM, engine="duckdb", data_vintage="v2")
    recomputed = [value("delayed_days_rate", "E06000001", "2015-04", 6, 70_000, "8.6")]
    with unit_of_work(engine) as session:
        saved = metric_results.save_results(
            session, recomputed, ANALYST, engine="spark", data_vintage="v1"
        )
    with unit_of_work(engine) as session:
        v1 = metric_results.series(
            session, "delayed_days_rate", "E06000001", Grain.MONTH, data_vintage="v1"
        )
        v2 = metric_results.series(
            session, "delayed_days_rate", "E06000001", Grain.MONTH, data_vintage="v2"
        )
        other = metric_results.series(
            session, "reablement_91_days", "E06000001", Grain.YEAR, data_vintage="v1"
        )
        latest = metric_results.series(session, "delayed_days_rate", "E06000001", Grain.MONTH)

    assert saved.replaced == 3
    assert v1.values == tuple(recomputed)
    assert v2.values == (RUN[1], RUN[0])
    assert other.values == (RUN[3],)  # another metric of the same vintage is untouched
    assert latest.data_vintage == "v1"  # the most recently computed
    assert count(engine, MetricValueRow) == 1 + 4 + 1


def test_two_runs_saving_one_vintage_at_once_are_queued(engine: Engine) -> None:
    """Both would otherwise find nothing to replace and collide on the unique constraint."""
    started = threading.Barrier(2)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with unit_of_work(engine) as session:
                started.wait(timeout=30)
                metric_results.save_results(
                    session, RUN, SYSTEM, engine="reference", data_vintage="v1"
                )
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert count(engine, MetricValueRow) == len(RUN)
    assert count(engine, AuditEventRow) == 2


def test_a_series_never_computed_is_empty(sqlite_engine: Engine) -> None:
    with unit_of_work(sqlite_engine) as session:
        series = metric_results.series(session, "nothing", "E06000001", Grain.MONTH)
    assert (series.data_vintage, series.values) == (None, ())


def test_a_run_with_a_value_twice_is_refused_and_nothing_saved(sqlite_engine: Engine) -> None:
    with unit_of_work(sqlite_engine) as session, pytest.raises(CarepoolError) as caught:
        metric_results.save_results(
            session, [RUN[0], RUN[0]], SYSTEM, engine="reference", data_vintage="v1"
        )
    assert caught.value.problems[0].message == "delayed_days_rate version 1, E06000001, 2015-05"
    assert count(sqlite_engine, MetricValueRow) == 0


def test_the_public_sees_small_counts_withheld() -> None:
    shown = [rate.shown for _, rate in metric_results.public_values(RUN)]

    assert shown == ["171.4285714285714285714", "[c]", "300.0", "81.0"]
    count_metric = value("admissions", "E06000001", "2015-04", 1_234, None, "1234")
    ((_, rate),) = metric_results.public_values([count_metric])
    assert rate.value == Decimal(1_235)  # a plain count is rounded to the nearest 5
