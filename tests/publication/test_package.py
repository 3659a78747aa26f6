"""``carepool publish``: the data package validates, holds only published data, has sound keys,
matches the 360Giving schema, and is never left half-written.

The world (``payment_fixtures``): the demo, 2015-16 Q1 paid and Q2 drafted, one area (``small``)
measured 5 admissions in Q1.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from frictionless import validate
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import Engine

from carepool.domain.errors import CarepoolError
from carepool.domain.grants import FLAT_COLUMNS
from carepool.domain.open_data import Resource
from carepool.domain.plan_workflow import PlanStatus
from carepool.publication import files
from carepool.publication.service import package, resources, tables
from carepool.store.db import unit_of_work

if TYPE_CHECKING:
    from payment_fixtures import PaymentWorld

pytest_plugins = ("payment_fixtures",)  # payment_world, payment_engine

Rows = list[dict[str, str]]


@pytest.fixture(scope="module")
def published(payment_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("published") / "open-data"
    with unit_of_work(payment_engine) as session:
        package.publish(session, out)
    return out


def read(out: Path, name: str) -> Rows:
    with (out / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_package_has_every_table_and_the_grants(published: Path) -> None:
    descriptor = json.loads((published / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in descriptor["resources"]] == [t.name for t in tables.TABLES]
    assert descriptor["licenses"][0]["name"] == "OGL-UK-3.0"
    for resource in descriptor["resources"]:
        assert (published / resource["path"]).is_file()
        assert resource["schema"]["primaryKey"]
    assert (published / "360giving.json").is_file()
    assert (published / "360giving.csv").is_file()
    assert not list(published.parent.glob(".open-data.*"))  # no staging left behind


def test_frictionless_finds_no_error(published: Path) -> None:
    report = validate(published / "datapackage.json")
    problems = [e.message for task in report.tasks for e in task.errors] + [
        e.message for e in report.errors
    ]
    assert report.valid, problems[:10]
    assert report.stats["tasks"] == len(tables.TABLES)


def test_every_key_is_present_unique_and_points_at_a_row(published: Path) -> None:
    descriptor = json.loads((published / "datapackage.json").read_text(encoding="utf-8"))
    keys = {}
    for resource in descriptor["resources"]:
        rows = read(published, resource["path"])
        key = resource["schema"]["primaryKey"]
        found = [tuple(row[k] for k in key) for row in rows]
        assert all(all(part for part in k) for k in found), resource["name"]
        assert len(found) == len(set(found)), resource["name"]
        keys[resource["name"]] = (rows, set(found))
    for resource in descriptor["resources"]:
        rows = keys[resource["name"]][0]
        for fk in resource["schema"].get("foreignKeys", []):
            target = keys[fk["reference"]["resource"]][1]
            for row in rows:
                value = tuple(row[f] for f in fk["fields"])
                assert all(value) and value in target, (resource["name"], value)


def test_only_published_data_goes_in(published: Path, payment_world: PaymentWorld) -> None:
    assert {row["status"] for row in read(published, "plans.csv")} == {PlanStatus.APPROVED}
    payments = read(published, "payments.csv")
    assert payments and {row["quarter"] for row in payments} == {"2015-16 Q1"}  # Q2 unpaid
    small = next(row for row in payments if row["area_code"] == payment_world.small)
    assert (small["actual"], small["actual_withheld"]) == ("", "true")
    for row in read(published, "metric_values.csv"):
        if row["withheld"] == "true":
            assert row["value"] == row["numerator"] == ""
        else:
            assert int(row["numerator"]) % 5 == 0


def test_pool_spend_is_published_for_closed_quarters_only(payment_engine: Engine) -> None:
    with unit_of_work(payment_engine) as session:
        spend = resources.build(session, "pool_spend")
        pools = resources.ledger.pools(session, "2015-16")
        closed = resources.ledger.closed_periods_of(session, pools)
        by_area = {p.area_code: closed.get(p.id, []) for p in pools}
    at_area, at_quarter = spend.index("area_code"), spend.index("quarter")
    assert spend.rows
    for row in spend.rows:
        labels = {p.label for p in by_area[str(row[at_area])]}
        assert str(row[at_quarter]) in labels or "2015-16" in labels


def test_a_null_primary_key_is_refused_before_anything_is_written(
    payment_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = resources.area_rows

    def with_a_hole(*args: Any) -> Iterator[tuple[object, ...]]:
        for number, row in enumerate(real(*args)):
            yield (row[0], None, *row[2:]) if number == 3 else row

    monkeypatch.setattr(resources, "area_rows", with_a_hole)
    out = tmp_path / "open-data"
    with unit_of_work(payment_engine) as session, pytest.raises(CarepoolError) as refused:
        package.publish(session, out)
    assert any(
        p.file == "areas.csv" and p.row == 5 and "primary key is empty" in p.message
        for p in refused.value.problems
    )
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_failure_part_way_leaves_the_last_package_as_it_was(
    payment_engine: Engine, published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "open-data"
    with unit_of_work(payment_engine) as session:
        package.publish(session, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files, "write_grants_csv", broken)
    with unit_of_work(payment_engine) as session, pytest.raises(OSError, match="disk full"):
        package.publish(session, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["open-data"]


def test_a_folder_that_is_not_a_package_is_not_replaced(
    payment_engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with unit_of_work(payment_engine) as session, pytest.raises(CarepoolError, match="not empty"):
        package.publish(session, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


# --------------------------------------------------------------------------------------------
# 360Giving


def validator(shared_data: Path) -> Draft202012Validator:
    """The package schema with its grant schema resolved locally, checking formats (a plain
    date matches both branches of the date ``oneOf`` unless ``date-time`` is checked)."""
    folder = shared_data / "360giving"
    outer = json.loads((folder / "360-giving-package-schema.json").read_text(encoding="utf-8"))
    grant = json.loads((folder / "360-giving-schema.json").read_text(encoding="utf-8"))
    resource = DRAFT202012.create_resource(grant)
    reference = outer["properties"]["grants"]["items"]["$ref"]
    registry: Registry[Any] = Registry().with_resources(
        [(reference, resource), (grant["$id"], resource)]
    )
    return Draft202012Validator(outer, registry=registry, format_checker=FormatChecker())


def codes(shared_data: Path, name: str) -> set[str]:
    with (shared_data / "360giving" / name).open(encoding="utf-8", newline="") as handle:
        return {row["Code"] for row in csv.DictReader(handle)}


def test_the_grants_match_the_360giving_schema(published: Path, shared_data: Path) -> None:
    found = json.loads((published / "360giving.json").read_text(encoding="utf-8"))
    errors = [e.message for e in validator(shared_data).iter_errors(found)]
    assert errors == []
    grants = found["grants"]
    geo_types, regrants = (
        codes(shared_data, "geoCodeType.csv"),
        codes(shared_data, "regrantType.csv"),
    )
    for grant in grants:
        assert grant["id"].startswith("360G-carepool-")
        assert grant["fundingOrganization"][0]["id"].startswith(("GB-NHS-", "GB-GOVUK-"))
        assert grant["recipientOrganization"][0]["id"].startswith("GB-LAE-")
        assert {place["geoCodeType"] for place in grant["beneficiaryLocation"]} <= geo_types
        assert grant["grantProgramme"][0]["code"].startswith("BCF-")
        assert grant["plannedDates"][0]["startDate"] <= grant["plannedDates"][0]["endDate"]
        assert grant.get("regrantType", "FRG010") in regrants
    assert any("regrantType" in g for g in grants)  # counties pass the DFG to districts
    assert any(g["id"].startswith("360G-carepool-payment-") for g in grants)


def test_a_bad_grant_is_caught_by_the_validator(published: Path, shared_data: Path) -> None:
    found = json.loads((published / "360giving.json").read_text(encoding="utf-8"))
    found["grants"][0]["awardDate"] = "2015-13-45"
    del found["grants"][1]["fundingOrganization"]
    assert len(list(validator(shared_data).iter_errors(found))) == 2


def test_grant_amounts_are_the_published_pence(published: Path) -> None:
    grants = json.loads((published / "360giving.json").read_text(encoding="utf-8"))["grants"]
    allocated = sum(int(row["amount_pence"]) for row in read(published, "allocations.csv"))
    paid = sum(int(row["released_pence"]) for row in read(published, "payments.csv"))
    awarded = sum(Decimal(str(g["amountAwarded"])) for g in grants) * 100
    assert awarded == allocated + paid


def test_the_flat_file_names_its_columns_by_the_schema_titles(
    published: Path, shared_data: Path
) -> None:
    grant = json.loads(
        (shared_data / "360giving" / "360-giving-schema.json").read_text(encoding="utf-8")
    )
    titles = {v.get("title") or k.title(): k for k, v in grant["properties"].items()}
    with (published / "360giving.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert tuple(header) == FLAT_COLUMNS
    for column in header:
        outer, _, inner = column.partition(":")
        assert outer in titles, column
        if inner:
            ref = grant["properties"][titles[outer]]["items"]["$ref"].rsplit("/", 1)[1]
            inner_titles = {v.get("title") for v in grant["$defs"][ref]["properties"].values()}
            assert inner in inner_titles, column
    grants = json.loads((published / "360giving.json").read_text(encoding="utf-8"))["grants"]
    assert [row[0] for row in rows] == [g["id"] for g in grants]


def test_a_resource_with_an_empty_key_is_refused_by_check_keys() -> None:
    broken = Resource(
        name="areas",
        title="Areas",
        description="",
        columns=tables.AREAS.columns,
        primary_key=tables.AREAS.primary_key,
        rows=(("2015-16", None, "Somewhere", None, "UA", "E06000001", "GB-LAE-ABC"),),
    )
    with pytest.raises(CarepoolError, match="keys are not sound"):
        package.check_keys([broken])
