"""Server-side SVG charts: bars in proportion, labelled for screen readers, safe with any text."""

from __future__ import annotations

import re

from carepool.domain.money import format_millions
from carepool.web.charts import (
    Bar,
    Pair,
    bars_from,
    horizontal_bar_chart,
    paired_bar_chart,
    population_chart,
)


def _widths(svg: str) -> list[int]:
    return [int(w) for w in re.findall(r'<rect class="app-chart__bar" [^>]*width="(\d+)"', svg)]


def test_bars_are_in_proportion_and_the_largest_fills_the_room() -> None:
    chart = horizontal_bar_chart(
        "t", "Title", "Description",
        bars_from([("A", 100), ("B", 50), ("C", 0)], str),
        label_heading="Thing", value_heading="Count",
    )  # fmt: skip
    assert _widths(chart.svg) == [330, 165, 0]


def test_amounts_are_shown_as_given_and_kept_for_the_table() -> None:
    bars = bars_from([("North East", 27_180_000_000)], format_millions)
    chart = horizontal_bar_chart(
        "r", "By region", "d", bars, label_heading="Region", value_heading="Allocated"
    )
    assert bars == (Bar("North East", 27_180_000_000, "£271.8m"),)
    assert ">£271.8m</text>" in chart.svg
    assert chart.bars == bars


def test_a_chart_names_itself_for_assistive_technology() -> None:
    chart = population_chart("population", "Brindshire", [("0-4", 10), ("5-9", 30), ("90+", 2)])
    svg = str(chart.svg)
    assert 'role="img"' in svg
    assert 'aria-labelledby="population-title population-desc"' in svg
    assert '<title id="population-title">Population of Brindshire by age band</title>' in svg
    assert "42 people in all" in svg
    assert chart.label_heading == "Age band" and chart.value_heading == "People"
    assert [b.shown for b in chart.bars] == ["10", "30", "2"]


def test_labels_are_escaped() -> None:
    chart = horizontal_bar_chart(
        "x", "<script>", "a & b", bars_from([("<b>Area</b>", 1)], str),
        label_heading="l", value_heading="v",
    )  # fmt: skip
    assert "<script>" not in chart.svg and "&lt;script&gt;" in chart.svg
    assert "<b>" not in chart.svg and "a &amp; b" in chart.svg


def test_an_empty_or_all_zero_chart_still_draws() -> None:
    empty = horizontal_bar_chart("e", "t", "d", (), label_heading="l", value_heading="v")
    assert empty.svg.startswith("<svg") and empty.svg.endswith("</svg>")
    zeros = population_chart("z", "Nowhere", [("0-4", 0), ("5-9", 0)])
    assert all(h == "0" for h in re.findall(r'height="(\d+)"', str(zeros.svg))[:2])


def test_paired_bars_share_one_scale_and_keep_their_figures_for_the_table() -> None:
    chart = paired_bar_chart(
        "p", "Pots and payments", "Description",
        [Pair("Q1", 400, 100), Pair("Q2 <b>", 200, 200)],
        headings=("Quarter", "Pot", "Released"), shown=lambda pence: f"{pence}p",
    )  # fmt: skip
    widths = [int(w) for w in re.findall(r'<rect x="120" [^>]*width="(\d+)"', chart.svg)]
    assert widths == [370, 92, 185, 185]
    assert "Q2 &lt;b&gt;" in chart.svg and "<b>" not in chart.svg
    assert ">Pot</text>" in chart.svg and ">Released</text>" in chart.svg
    assert chart.rows == (("Q1", "400p", "100p"), ("Q2 <b>", "200p", "200p"))
