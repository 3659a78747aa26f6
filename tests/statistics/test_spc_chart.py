"""SPC charts as SVG: parsed as XML and checked element by element."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

from markupsafe import Markup

from carepool.domain.direction import Direction
from carepool.domain.spc import Rule, SpcAnalysis, Variation, analyse
from carepool.metrics.files.dtoc import read_dtoc
from carepool.web.spc_chart import COLOURS, TARGET_COLOUR, spc_chart

SVG = "{http://www.w3.org/2000/svg}"


def series(values: list[int]) -> list[tuple[str, int]]:
    return [(f"2016-{month:02d}", value) for month, value in enumerate(values, start=1)]


def concern_chart(target: int | None = None) -> SpcAnalysis:
    # Baseline 11 9 … 9 (limits 4.68 to 15.32), then 16 above the upper limit, which is a
    # concern when lower is better.
    return analyse(
        series([*([11, 9] * 5), 16]), Direction.LOWER_IS_BETTER, target=target, baseline=10
    )


def parse(markup: Markup) -> ET.Element:
    return ET.fromstring(str(markup))


def by_class(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if css in e.get("class", "").split()]


def test_the_chart_is_an_accessible_image_with_title_and_description() -> None:
    chart = spc_chart("dtoc", "Delayed days, England", concern_chart(), value_heading="Days")
    root = parse(chart.svg)

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "dtoc-title dtoc-desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "dtoc-title"
    assert title.text == "Delayed days, England"
    assert desc is not None and desc.get("id") == "dtoc-desc"
    assert "11 points from 2016-01 to 2016-11" in (desc.text or "")
    assert "Mean 10.0; process limits 4.7 to 15.3, from the first 10 points." in (desc.text or "")
    assert "Latest point: special cause variation: concern." in (desc.text or "")
    assert "1 of the 11 points shows special cause variation." in (desc.text or "")
    assert isinstance(chart.svg, Markup)
    assert not list(root.iter(f"{SVG}script"))
    assert not [a for e in root.iter() for a in e.attrib if a.startswith("on")]


def test_every_point_is_drawn_in_its_verdicts_colour() -> None:
    analysis = concern_chart()
    root = parse(spc_chart("c", "t", analysis, value_heading="Days").svg)
    points = by_class(root, "circle", "app-spc__point")

    assert len(points) == 11
    assert [p.get("data-variation") for p in points] == [
        *["common_cause"] * 10, "special_cause_concern"
    ]  # fmt: skip
    assert {p.get("fill") for p in points[:10]} == {COLOURS[Variation.COMMON_CAUSE]} == {"#7b7d7d"}
    assert points[10].get("fill") == COLOURS[Variation.CONCERN] == "#fab428"
    assert float(points[10].get("r", 0)) > float(points[0].get("r", 0))
    hover = points[10].find(f"{SVG}title")
    assert hover is not None and hover.text == "2016-11: 16.0, special cause variation: concern"


def test_an_improvement_is_blue() -> None:
    analysis = analyse(series([*([11, 9] * 5), 16]), Direction.HIGHER_IS_BETTER, baseline=10)
    root = parse(spc_chart("i", "t", analysis, value_heading="Days").svg)

    special = by_class(root, "circle", "app-spc__point--special_cause_improvement")
    assert [p.get("fill") for p in special] == ["#289de0"]
    legend = [e.text for e in by_class(root, "text", "app-spc__legend")]
    assert legend == ["Common cause", "Improvement"]


def test_mean_limits_and_target_are_lines_in_the_right_order() -> None:
    root = parse(spc_chart("t", "t", concern_chart(target=12), value_heading="Days").svg)

    def y(css: str) -> float:
        (line,) = by_class(root, "line", css)
        assert line.get("y1") == line.get("y2")
        return float(line.get("y1", "nan"))

    # SVG's y grows downwards: the upper limit is drawn above the target, mean and lower limit.
    assert y("app-spc__limit--upper") < y("app-spc__target") < y("app-spc__mean")
    assert y("app-spc__mean") < y("app-spc__limit--lower")
    (target,) = by_class(root, "line", "app-spc__target")
    assert target.get("stroke") == TARGET_COLOUR
    assert by_class(root, "line", "app-spc__limit")[0].get("stroke-dasharray") == "6 4"
    labels = [e.text for e in by_class(root, "text", "app-spc__line-label")]
    assert labels == ["Upper limit 15.3", "Mean 10.0", "Lower limit 4.7", "Target 12.0"]
    (highest,) = by_class(root, "circle", "app-spc__point--special_cause_concern")
    assert float(highest.get("cy", "nan")) < y("app-spc__limit--upper")


def test_without_a_target_there_is_no_target_line() -> None:
    root = parse(spc_chart("n", "t", concern_chart(), value_heading="Days").svg)

    assert by_class(root, "line", "app-spc__target") == []


def test_axes_are_labelled() -> None:
    analysis = analyse(series(list(range(1, 13)) * 2), Direction.NEITHER)
    root = parse(
        spc_chart("a", "t", analysis, value_heading="Delayed days", period_heading="Month").svg
    )

    assert len(by_class(root, "line", "app-spc__axis")) == 2
    axis_labels = [e.text for e in by_class(root, "text", "app-spc__axis-label")]
    assert axis_labels == ["Delayed days", "Month"]
    ticks = [e.text for e in by_class(root, "text", "app-spc__tick")]
    periods = [t for t in ticks if t and t.startswith("2016-")]
    assert periods[0] == "2016-01" and periods[-1] == "2016-24" and len(periods) <= 6


def test_the_table_rows_carry_each_figure_and_its_verdict() -> None:
    chart = spc_chart("r", "t", concern_chart(), value_heading="Days", places=0)

    assert (chart.label_heading, chart.value_heading) == ("Period", "Days")
    assert [b.label for b in chart.bars][:2] == ["2016-01", "2016-02"]
    assert chart.bars[0].shown == "11"
    assert chart.bars[-1].shown == "16 (special cause variation: concern)"


def test_text_is_escaped() -> None:
    analysis = analyse([("<b>", Decimal(1)), ("x & y", Decimal(2))], Direction.NEITHER)
    chart = spc_chart('a"b', "<script>alert(1)</script>", analysis, value_heading="<i>")
    root = parse(chart.svg)

    assert "<script>" not in chart.svg and not list(root.iter(f"{SVG}script"))
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "<script>alert(1)</script>"
    assert root.get("aria-labelledby") == 'a"b-title a"b-desc'


def test_a_flat_series_still_draws() -> None:
    root = parse(spc_chart("f", "t", analyse(series([5, 5, 5]), Direction.NEITHER),
                           value_heading="v").svg)  # fmt: skip

    ys = {p.get("cy") for p in by_class(root, "circle", "app-spc__point")}
    assert len(ys) == 1


def test_englands_delayed_days_from_the_published_workbook(shared_data: Path) -> None:
    """Against its first two years, the climb to the 2016-17 peak is a sustained concern."""
    months = read_dtoc(shared_data / "nhse_dtoc_england_monthly_2010_2020.xls").months
    analysis = analyse(
        [(m.period, m.days["DTOC_TOTAL"]) for m in months],
        Direction.LOWER_IS_BETTER,
        baseline=24,
    )
    chart = spc_chart("england", "Delayed days, England", analysis, value_heading="Days", places=0)
    root = parse(chart.svg)
    verdicts = {p.period: p.variation for p in analysis.points}

    assert len(by_class(root, "circle", "app-spc__point")) == 115
    assert verdicts["2017-01"] is Variation.CONCERN
    (january,) = [p for p in analysis.points if p.period == "2017-01"]
    assert Rule.OUTSIDE_LIMITS in january.rules
    assert chart.bars[0].shown == "109,918"
