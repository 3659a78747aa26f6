"""What the commands print with ``--json``, key by key and in order: these shapes are
contracts (``docs/formats.md``), so each schema is pinned here as the exact JSON text it
gives for a service outcome built by hand. Money stays integer pence, counts integers, and
exact decimals text."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel

from carepool.domain.metric import PopulationGap
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.money import Pence
from carepool.domain.pooling import AreaYear, CouncilSpend
from carepool.domain.risk_share import ShareLine
from carepool.domain.substitution import Basis, CouncilYear, check_council
from carepool.geography.schemas import VintageImport
from carepool.geography.service import ImportOutcome
from carepool.metrics.schemas import ComputeReport, StatisticsImportOut
from carepool.metrics.service.compute import ComputeOutcome
from carepool.metrics.service.published import StatisticsImport
from carepool.person_data.schemas import GenerateReportOut, IngestReportOut
from carepool.person_data.service import GenerateReport, IngestReport, KindReport
from carepool.pooling.schemas import AllocationImportOut, AreaYearOut
from carepool.pooling.service import AllocationImport
from carepool.pools.schemas import (
    LedgerCheck,
    SettlementPosted,
    SettlementReopened,
    SpendImport,
)
from carepool.pools.service.ledger import PoolCheck, SpendOutcome
from carepool.pools.service.settlement import Reopening, Settlement
from carepool.publication.schemas import PublishedOut
from carepool.publication.service.package import Published
from carepool.substitution.schemas import DeflatorImportOut, ReturnImportOut, YearOut
from carepool.substitution.service import DeflatorImport, ReturnImport


def printed(shape: BaseModel) -> str:
    """The JSON text ``--json`` prints, on one line."""
    return json.dumps(shape.model_dump(mode="json"), ensure_ascii=False)


def test_import_areas_populations_or_shares() -> None:
    outcome = ImportOutcome("populations", "mid-2015", 3, False, ("151 areas",))
    assert printed(VintageImport.of(outcome)) == (
        '{"kind": "populations", "vintage": "mid-2015", "rows": 3, "created": false, '
        '"notes": ["151 areas"]}'
    )


def test_metrics_compute_says_whether_each_period_is_complete() -> None:
    value = MetricValue(
        "non_elective_admissions", 1, "E06000001", "2015-04", Grain.MONTH, 1342, 565705,
        Decimal("237.2"),
    )  # fmt: skip
    count = MetricValue(
        "delayed_days", 2, "E06000002", "2016-17", Grain.YEAR, 7, None, Decimal(7), complete=False
    )
    gap = PopulationGap("E1", "falls_admissions_65_plus", "too coarse")
    outcome = ComputeOutcome(
        "duckdb", "9f2c", "2015-16", [value, count], True, "mid-2019", (gap,), ("E2: apportioned",)
    )
    assert printed(ComputeReport.of(outcome)) == (
        '{"engine": "duckdb", "data_vintage": "9f2c", "year": "2015-16", '
        '"population_vintage": "mid-2019", "stored": true, '
        '"values": [{"metric": "non_elective_admissions", "definition_version": 1, '
        '"area_code": "E06000001", "period": "2015-04", "grain": "month", "numerator": 1342, '
        '"denominator": 565705, "value": "237.2", "complete": true}, '
        '{"metric": "delayed_days", "definition_version": 2, "area_code": "E06000002", '
        '"period": "2016-17", "grain": "year", "numerator": 7, "denominator": null, '
        '"value": "7", "complete": false}], '
        '"skipped": [{"area_code": "E1", "metric": "falls_admissions_65_plus", '
        '"reason": "too coarse"}], "notes": ["E2: apportioned"]}'
    )


def test_metrics_import_statistics() -> None:
    outcome = StatisticsImport("dtoc", "v", "dtoc.xls", "ab" * 32, 1955, True, ())
    assert printed(StatisticsImportOut.of(outcome)) == (
        '{"kind": "dtoc", "vintage": "v", "file": "dtoc.xls", "sha256": "' + "ab" * 32 + '", '
        '"rows": 1955, "created": true, "notes": []}'
    )


def test_data_generate() -> None:
    report = GenerateReport(
        Path("raw"), 2015, 0.1, "2015-16", "csv", {"spells": (Path("raw/spells.csv"), 12)}
    )
    assert printed(GenerateReportOut.of(report)) == (
        '{"out_dir": "raw", "seed": 2015, "scale": 0.1, "financial_year": "2015-16", '
        '"format": "csv", "files": {"spells": {"path": "raw/spells.csv", "rows": 12}}}'
    )


def test_data_ingest_sorts_each_kinds_reasons_and_rounds_the_seconds() -> None:
    spells = KindReport(
        "spells", ("a.csv", "b.csv"), 10, 8, 2, {"sex: ?": 1, "age: 999": 1},
        {"E06000053 to E06000052": 3},
    )  # fmt: skip
    delays = KindReport("delays", ("d.csv",), 4, 4, 0)
    report = IngestReport("5e1d", Path("data"), (spells, delays), 9, "k1", ("x.txt",), 1.23456)
    assert printed(IngestReportOut.of(report)) == (
        '{"vintage": "5e1d", "data_dir": "data", "people": 9, "key_id": "k1", "rows_read": 14, '
        '"accepted": 12, "quarantined": 2, "kinds": [{"kind": "spells", '
        '"files": ["a.csv", "b.csv"], "rows_read": 10, "accepted": 8, "quarantined": 2, '
        '"reasons": {"age: 999": 1, "sex: ?": 1}, "mapped": {"E06000053 to E06000052": 3}}, '
        '{"kind": "delays", "files": ["d.csv"], "rows_read": 4, "accepted": 4, '
        '"quarantined": 0, "reasons": {}, "mapped": {}}], '
        '"skipped": ["x.txt"], "seconds": 1.235}'
    )


def test_ledger_import() -> None:
    outcome = SpendOutcome("spend.csv", "cd" * 32, 2, 2, 0, 125_050, False)
    assert printed(SpendImport.of(outcome)) == (
        '{"file": "spend.csv", "sha256": "' + "cd" * 32 + '", "rows": 2, "posted": 2, '
        '"skipped": 0, "total_pence": 125050, "already_imported": false}'
    )


def test_ledger_settle() -> None:
    lines = (
        ShareLine("CCG", Pence(-600), "60% of the underspend"),
        ShareLine("LA", Pence(-400), "40% of the underspend"),
    )
    result = Settlement("2015-16", -1_000, "proportional", lines, (41, 42))
    assert printed(SettlementPosted.of(result)) == (
        '{"financial_year": "2015-16", "variance_pence": -1000, "outcome": "underspend", '
        '"rule": "proportional", "shares": [{"partner": "CCG", "amount_pence": -600, '
        '"explanation": "60% of the underspend"}, {"partner": "LA", "amount_pence": -400, '
        '"explanation": "40% of the underspend"}], "entry_ids": [41, 42]}'
    )


def test_ledger_reopen() -> None:
    result = Reopening("2015-16", "late invoices", (41, 42), (57, 58))
    assert printed(SettlementReopened.of(result)) == (
        '{"financial_year": "2015-16", "reason": "late invoices", '
        '"reversed_entry_ids": [41, 42], "reversal_entry_ids": [57, 58]}'
    )


def test_ledger_check_leaves_the_differences_out() -> None:
    good = PoolCheck("2015-16", "E06000001", True, 5, True)
    bad = PoolCheck("2015-16", "E06000002", True, 3, False, (("Assets:Bank", 10, 0),))
    assert printed(LedgerCheck.of([good, bad])) == (
        '{"ok": false, "pools": [{"year": "2015-16", "area_code": "E06000001", '
        '"balanced": true, "entries": 5, "consistent": true}, {"year": "2015-16", '
        '"area_code": "E06000002", "balanced": true, "entries": 3, "consistent": false}]}'
    )
    assert printed(LedgerCheck.of([])) == '{"ok": true, "pools": []}'


def test_import_ascfr_and_deflators() -> None:
    outcome = ReturnImport("exp.csv", "2014-15", "ASC-FR", 152, True, 0, ("E06000053",))
    assert printed(ReturnImportOut.of(outcome)) == (
        '{"file": "exp.csv", "financial_year": "2014-15", "basis": "ASC-FR", "councils": 152, '
        '"created": true, "replaced": 0, "missing": ["E06000053"]}'
    )
    deflators = DeflatorImport("hmt.csv", "2022-23", 68, "1955-56", "2022-23", False)
    assert printed(DeflatorImportOut.of(deflators)) == (
        '{"file": "hmt.csv", "reference_year": "2022-23", "years": 68, "first_year": "1955-56", '
        '"last_year": "2022-23", "created": false}'
    )


def test_substitution_year() -> None:
    base = CouncilYear("E1", "2014-15", Basis.ASC_FR, 1_000, 150, 50)
    later = CouncilYear("E1", "2015-16", Basis.ASC_FR, 1_000, 250, 50, bcf_income=100)
    _, year = check_council([base, later], {"2014-15": Decimal(1), "2015-16": Decimal(1)})
    assert printed(YearOut.of(year, Fraction(-1, 100))) == (
        '{"year": "2015-16", "basis": "ASC-FR", "synthetic": false, '
        '"gross_current_expenditure_pence": 1000, "nhs_income_pence": 250, '
        '"joint_arrangements_income_pence": 50, "bcf_income_pence": 100, '
        '"bridging_expenditure_pence": null, "bridging_income_pence": null, '
        '"own_funded_pence": 700, "own_funded_real_pence": 700, "nhs_money_real_pence": 300, '
        '"own_funded_real_change": "-0.1250", "nhs_money_real_change_pence": 100, '
        '"comparison_median_change": "-0.0100", "comparable": true, "flagged": true}'
    )


def test_publish() -> None:
    published = Published(Path("open-data"), (("areas", 151), ("plans", 139)), 2013, 8_000_000)
    assert printed(PublishedOut.of(published)) == (
        '{"out": "open-data", "tables": [{"name": "areas", "rows": 151}, '
        '{"name": "plans", "rows": 139}], "grants": 2013, "bytes": 8000000}'
    )


def test_import_ccg_allocations_and_a_pooling_area() -> None:
    outcome = AllocationImport("ccg.csv", "2015-16", 209, 6_600_000_000_000, True, 0, ("E1",))
    assert printed(AllocationImportOut.of(outcome)) == (
        '{"file": "ccg.csv", "financial_year": "2015-16", "commissioners": 209, '
        '"total_pence": 6600000000000, "created": true, "replaced": 0, "missing": ["E1"]}'
    )
    row = AreaYear("E1", "2015-16", 9_000, CouncilSpend(1_000, 100), 400, 200, Decimal("0.1"),
                   received=300, approved_plan=True)  # fmt: skip
    assert printed(AreaYearOut.of(row, Decimal(1))) == (
        '{"area_code": "E1", "financial_year": "2015-16", "in_scope_pence": 10000, '
        '"nhs_side_pence": 9000, "council_revised_gross_pence": 1100, '
        '"council_bcf_income_pence": 100, "council_basis": "ASC-FR", "pooled_pence": 600, '
        '"minimum_pence": 400, "additional_pence": 200, "received_pence": 300, '
        '"share_pooled": "0.0600", "planned_share": "0.1", "behind_plan": "0.0400", '
        '"gap_to_ambition": "0.9400"}'
    )
