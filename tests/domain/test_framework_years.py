"""Ten programme years as data: each loads, cites its figures, marks what is unconfirmed, and a
broken file is refused with its file, key and reason."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from carepool.domain.errors import FrameworkError
from carepool.domain.figures import resolve
from carepool.domain.framework import NOT_YET_RUN, RuleKind, figure_keys
from carepool.domain.grant_rules import RULES
from carepool.frameworks import (
    available_years,
    check_framework_file,
    load_framework,
    load_framework_file,
    shipped_financial_years,
)

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "carepool" / "frameworks"
CITED = ["2014-15", "2016-17", "2019-20", "2020-21", "2021-22", "2022-23", "2023-25", "2025-26"]


def test_every_year_the_issue_names_is_shipped_and_none_overlap() -> None:
    assert available_years() == sorted(["2015-16", "2017-19", *CITED])
    seen: dict[str, str] = {}
    for year, financial_years in shipped_financial_years().items():
        for financial_year in financial_years:
            assert financial_year not in seen, (year, seen.get(financial_year))
            seen[financial_year] = year


@pytest.mark.parametrize("year", CITED)
def test_a_cited_year_gives_a_known_source_for_every_figure(year: str) -> None:
    framework = load_framework(year)
    cited = {figure.key for figure in framework.figures}
    assert set(figure_keys(framework)) <= cited
    for figure in framework.figures:
        assert figure.source in framework.citations, figure.key
        resolve(framework, figure.key)  # every key path names something in the file
    assert framework.minimum_total == framework.stream_total()


def test_unconfirmed_figures_are_listed_with_their_key_and_reason() -> None:
    listed = {f.key: f for f in load_framework("2019-20").unconfirmed()}
    dfg = listed["streams.disabled_facilities_grant.totals.2019-20"]
    assert "inferred" in dfg.unconfirmed and "cryer.org.uk" in dfg.source
    assert "streams.improved_bcf.totals.2019-20" not in listed  # confirmed by NHS England
    assert "geography.population_vintage" in listed  # a stand-in, and said to be


def test_the_first_files_verify_markers_count_as_unconfirmed() -> None:
    listed = {f.key for f in load_framework("2015-16").unconfirmed()}
    assert "streams.ccg_minimum.earmarks.Reablement.amount" in listed
    assert "streams.disabled_facilities_grant.totals.2015-16" not in listed


def test_asc_renumbering_changes_the_label_not_the_metric() -> None:
    before = {m.metric: m.label for m in load_framework("2019-20").metrics}
    after = {m.metric: m.label for m in load_framework("2023-25").metrics}
    assert before["care_home_admissions_65_plus"] == "ASCOF 2A(2)"
    assert after["care_home_admissions_65_plus"] == "ASCOF 2C"


def test_a_year_says_what_carepool_cannot_yet_do_naming_the_rule_kind() -> None:
    assert load_framework("2014-15").not_yet_supported() == [
        "rule kind 'transfer_to_social_care' is not yet applied by carepool"
    ]
    notes = load_framework("2025-26").not_yet_supported()
    assert any("average_discharge_delay" in note for note in notes)
    assert load_framework("2019-20").not_yet_supported() == []


def test_every_rule_kind_is_either_applied_or_declared_not_yet() -> None:
    assert set(RULES) | NOT_YET_RUN == set(RuleKind)
    assert not set(RULES) & NOT_YET_RUN


def _draft(tmp_path: Path, year: str, change: Any) -> Path:
    data = tomllib.loads((SHIPPED / f"{year}.toml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "draft.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _drop_template(d: dict[str, Any]) -> None:
    d.pop("template")


def _unknown_rule(d: dict[str, Any]) -> None:
    d["rules"][0]["kind"] = "pay_everyone"


def _short_stream(d: dict[str, Any]) -> None:
    d["streams"][1]["totals"]["2019-20"] = "£1,000,000,000"


def _unknown_metric(d: dict[str, Any]) -> None:
    d["metrics"][0]["metric"] = "happiness_index"


def _uncited(d: dict[str, Any]) -> None:
    d["figures"] = [f for f in d["figures"] if f["key"] != "streams.improved_bcf.totals.2019-20"]


def _bad_figure_key(d: dict[str, Any]) -> None:
    d["figures"][0]["key"] = "streams.no_such_stream.totals.2019-20"


def _unknown_source(d: dict[str, Any]) -> None:
    d["figures"][0]["source"] = "NOWHERE"


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        (_drop_template, "template", "Field required"),
        (_unknown_rule, "rules[0].kind", "improved_bcf_conditions"),
        (_short_stream, "minimum_total", "must equal the sum of the streams' totals"),
        (_unknown_metric, "metrics[0].metric", "'happiness_index' does not exist"),
        (_uncited, "streams.improved_bcf.totals.2019-20", "cites no source"),
        (_bad_figure_key, "figures[0].key", "has no 'no_such_stream'"),
        (_unknown_source, "figures[0].source", "not one of the file's citations"),
    ],
)
def test_a_broken_framework_is_refused_with_file_key_and_reason(
    tmp_path: Path, change: Any, key: str, reason: str
) -> None:
    with pytest.raises(FrameworkError) as caught:
        load_framework_file(_draft(tmp_path, "2019-20", change))
    problems = [(p.file, p.key) for p in caught.value.problems if reason in p.message]
    assert ("draft.toml", key) in problems, caught.value.problems


def test_a_draft_whose_years_overlap_a_shipped_year_is_refused(tmp_path: Path) -> None:
    def two_years(d: dict[str, Any]) -> None:
        d.update(year="2021-23", financial_years=["2021-22", "2022-23"], name="Draft")
        for stream in d["streams"]:
            amount = stream["totals"].pop("2021-22")
            stream["totals"].update({"2021-22": amount, "2022-23": "£0"})
        d["figures"] = [f for f in d["figures"] if ".totals." not in f["key"]]
        d.pop("citations")

    path = _draft(tmp_path, "2021-22", two_years)
    assert load_framework_file(path).year == "2021-23"  # valid on its own
    with pytest.raises(FrameworkError) as caught:
        check_framework_file(path)
    problems = caught.value.problems
    assert {(p.file, p.key) for p in problems} == {("draft.toml", "financial_years")}
    assert [p.message for p in problems] == [
        "financial year 2021-22 is already in programme year 2021-22",
        "financial year 2022-23 is already in programme year 2022-23",
    ]
