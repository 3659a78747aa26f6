"""Policy frameworks are data: shipped years load and validate; broken files are explained."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from carepool.domain.errors import FrameworkError
from carepool.frameworks import available_years, load_framework, load_framework_file

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "carepool" / "frameworks"


def test_shipped_years_include_the_seed_design_and_a_later_year() -> None:
    assert "2015-16" in available_years()
    assert "2017-19" in available_years()


def test_2015_16_is_the_seed_design() -> None:
    framework = load_framework("2015-16")
    assert framework.minimum_total == sum(sum(s.totals.values()) for s in framework.streams)
    assert {s.id for s in framework.streams} == {
        "ccg_minimum",
        "disabled_facilities_grant",
        "social_care_capital",
    }
    assert len(framework.national_conditions) == 6
    superseded = next(p for p in framework.payment if p.status == "superseded")
    assert [t.amount for t in superseded.tranches] == [
        25_000_000_000,
        25_000_000_000,
        50_000_000_000,
    ]
    assert framework.payment_in_force.kind == "non_elective_reduction"
    assert "Approved subject to conditions" in framework.assurance_categories


def test_a_later_year_differs_without_code() -> None:
    later = load_framework("2017-19")
    assert later.financial_years == ("2017-18", "2018-19")
    assert "improved_bcf" in {s.id for s in later.streams}
    assert len(later.national_conditions) == 4
    assert later.payment_in_force.kind == "local_risk_share"


def test_unknown_year_is_named() -> None:
    with pytest.raises(FrameworkError, match=r"unknown programme year .2099-00.*2015-16"):
        load_framework("2099-00")


def _broken(tmp_path: Path, change: Any) -> Path:
    data = tomllib.loads((SHIPPED / "2015-16.toml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "draft.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (lambda d: d.pop("streams"), "streams", "Field required"),
        (
            lambda d: d["streams"][0].update(totals={"2015-16": "£-5"}),
            "streams[0].totals",
            "negative",
        ),
        (
            lambda d: d["streams"][0].update(totals={"2015-16": "lots"}),
            "streams[0].totals",
            "not an amount",
        ),
        (lambda d: d["streams"][0].update(totals={"2015-16": 5}), "streams[0].totals", "as text"),
        (lambda d: d.update(minimum_total="£1"), "", "must equal the sum"),
        (lambda d: d["streams"][1].update(id="ccg_minimum"), "", "repeated"),
        (lambda d: d["streams"][0].update(payer="everyone"), "streams[0].payer", "commissioner"),
        (lambda d: d.update(surprise=1), "surprise", "Extra inputs"),
        (
            lambda d: d["payment"][1]["parameters"].pop("cost_per_admission"),
            "payment[1]",
            "cost_per_admission",
        ),
        (lambda d: d.update(financial_years=["2015-17"]), "financial_years[0]", "financial year"),
    ],
)
def test_invalid_frameworks_name_the_key_and_problem(
    tmp_path: Path, change: Any, key: str, message: str
) -> None:
    path = _broken(tmp_path, change)
    with pytest.raises(FrameworkError) as caught:
        load_framework_file(path)
    text = str(caught.value)
    assert "draft.toml" in text
    assert message in text
    if key:
        assert any(p.key and p.key.startswith(key) for p in caught.value.problems), text


def test_malformed_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("year = \n", encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"bad\.toml is not valid TOML"):
        load_framework_file(path)
