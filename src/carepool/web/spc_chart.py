"""Statistical process control charts drawn on the server as SVG, in Making Data Count's style.

The drawing follows :mod:`carepool.web.charts`: no JavaScript, ``role="img"`` with a
``<title>`` and a ``<desc>`` that states the verdicts in words, and a :class:`Chart` whose rows
(one per point, with its verdict) go in the table that is always shown beside it, so nothing
is told by colour alone.

What is drawn, as NHS England's Making Data Count charts draw it: the series as a grey line
with a dot per point; the mean as a solid line; the process limits as grey dashed lines; a
target, if there is one, as a red dashed line; and each point coloured by its verdict —
grey for common cause, blue for special cause improvement, orange for special cause concern
and purple for special cause that is neither. Special-cause dots are larger and every dot
has a dark outline, so they stand out for people who cannot tell the colours apart.

Geometry is worked out in exact fractions from the analysis and written with one decimal
place; no value passes through a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from markupsafe import Markup, escape

from carepool.domain.spc import SpcAnalysis, Variation, rounded
from carepool.web.charts import TEXT_COLOUR, Bar, Chart

COLOURS = {
    Variation.COMMON_CAUSE: "#7b7d7d",
    Variation.IMPROVEMENT: "#289de0",
    Variation.CONCERN: "#fab428",
    Variation.NEITHER: "#361475",
}
"""Making Data Count's colours for each verdict."""

LINE_COLOUR = "#7b7d7d"
LIMIT_COLOUR = "#7b7d7d"
MEAN_COLOUR = TEXT_COLOUR
TARGET_COLOUR = "#de1b1b"

_LEGEND = {
    Variation.COMMON_CAUSE: "Common cause",
    Variation.IMPROVEMENT: "Improvement",
    Variation.CONCERN: "Concern",
    Variation.NEITHER: "Special cause",
}

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 72, 500, 16, 264  # the plotting area
X_TICKS = 6  # at most this many period labels along the bottom


class _Scale:
    """Maps values and point positions to SVG coordinates."""

    def __init__(self, low: Fraction, high: Fraction, points: int) -> None:
        if high == low:
            low, high = low - 1, high + 1
        padding = (high - low) / 20
        self.low, self.high = low - padding, high + padding
        self.points = points

    def y(self, value: Fraction) -> str:
        share = (value - self.low) / (self.high - self.low)
        return _coordinate(BOTTOM - share * (BOTTOM - TOP))

    def x(self, index: int) -> str:
        return _coordinate(LEFT + Fraction(index * (RIGHT - LEFT), max(1, self.points - 1)))


def spc_chart(
    chart_id: str,
    title: str,
    analysis: SpcAnalysis,
    *,
    value_heading: str,
    period_heading: str = "Period",
    places: int = 1,
) -> Chart:
    """An XmR chart of ``analysis`` with the table rows that go beside it.

    ``value_heading`` names the measure (the vertical axis and the table's value column);
    ``places`` is how many decimal places figures are shown with.
    """
    description = _description(analysis, places)
    scale = _scale(analysis)
    parts = [
        _open(chart_id, title, description),
        *_axes(scale, analysis, value_heading, period_heading, places),
        *_reference_lines(scale, analysis, places),
        _series_line(scale, analysis),
        *_points(scale, analysis, places),
        *_legend(analysis),
        "</svg>",
    ]
    bars = tuple(
        Bar(
            point.period,
            int(rounded(point.value, 0)),
            _row_text(point.value, point.variation, places),
        )
        for point in analysis.points
    )
    return Chart(
        chart_id, title, description, period_heading, value_heading, bars, Markup("".join(parts))
    )


def _shown(value: Fraction, places: int) -> str:
    return f"{rounded(value, places):,}"


def _coordinate(value: Fraction) -> str:
    return str(rounded(value, 1))


def _row_text(value: Fraction, variation: Variation, places: int) -> str:
    if variation is Variation.COMMON_CAUSE:
        return _shown(value, places)
    return f"{_shown(value, places)} ({variation.label.lower()})"


def _description(analysis: SpcAnalysis, places: int) -> str:
    first, last = analysis.points[0].period, analysis.points[-1].period
    limits = analysis.limits
    sentences = [
        f"A statistical process control chart of {len(analysis.points)} points from {first} "
        f"to {last}.",
        f"Mean {_shown(limits.mean, places)}; process limits {_shown(limits.lower, places)} "
        f"to {_shown(limits.upper, places)}"
        + (f", from the first {analysis.baseline} points." if _has_baseline(analysis) else "."),
    ]
    if analysis.target is not None:
        sentences.append(f"Target {_shown(analysis.target, places)}.")
    sentences.append(f"Latest point: {analysis.variation.label.lower()}.")
    if analysis.assurance is not None:
        sentences.append(f"{analysis.assurance.label}.")
    special = sum(p.variation is not Variation.COMMON_CAUSE for p in analysis.points)
    verb = "shows" if special == 1 else "show"
    sentences.append(
        f"{special} of the {len(analysis.points)} points {verb} special cause variation."
    )
    sentences.append("The same figures are in the table beside it.")
    return " ".join(sentences)


def _has_baseline(analysis: SpcAnalysis) -> bool:
    return analysis.baseline < len(analysis.points)


def _scale(analysis: SpcAnalysis) -> _Scale:
    limits = analysis.limits
    values = [p.value for p in analysis.points] + [limits.lower, limits.upper]
    if analysis.target is not None:
        values.append(analysis.target)
    return _Scale(min(values), max(values), len(analysis.points))


def _open(chart_id: str, title: str, description: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart app-spc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-size="12" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
    )


def _text(x: object, y: object, text: str, css: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text class="{css}" x="{x}" y="{y}" text-anchor="{anchor}" fill="{TEXT_COLOUR}"{extra}>'
        f"{escape(text)}</text>"
    )


def _axes(
    scale: _Scale, analysis: SpcAnalysis, value_heading: str, period_heading: str, places: int
) -> list[str]:
    middle_y = (TOP + BOTTOM) // 2
    parts = [
        f'<line class="app-spc__axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}" '
        f'stroke="{TEXT_COLOUR}"></line>',
        f'<line class="app-spc__axis" x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" '
        f'stroke="{TEXT_COLOUR}"></line>',
        _text(
            16, middle_y, value_heading, "app-spc__axis-label app-spc__axis-label--y", "middle",
            f' transform="rotate(-90 16 {middle_y})"',
        ),
        _text((LEFT + RIGHT) // 2, BOTTOM + 44, period_heading, "app-spc__axis-label", "middle"),
    ]  # fmt: skip
    for value in (scale.low, scale.high):
        parts.append(_text(LEFT - 6, scale.y(value), _shown(value, places), "app-spc__tick", "end"))
    for index in _tick_indexes(len(analysis.points)):
        parts.append(
            _text(
                scale.x(index), BOTTOM + 20, analysis.points[index].period, "app-spc__tick",
                "middle",
            )
        )  # fmt: skip
    return parts


def _tick_indexes(count: int) -> list[int]:
    """Evenly spaced points to label along the bottom, always the first and the last."""
    if count <= X_TICKS:
        return list(range(count))
    step = Fraction(count - 1, X_TICKS - 1)
    return sorted({round(step * i) for i in range(X_TICKS)})


def _reference_lines(scale: _Scale, analysis: SpcAnalysis, places: int) -> list[str]:
    limits = analysis.limits
    lines = [
        ("app-spc__limit app-spc__limit--upper", "Upper limit", limits.upper, LIMIT_COLOUR, "6 4"),
        ("app-spc__mean", "Mean", limits.mean, MEAN_COLOUR, ""),
        ("app-spc__limit app-spc__limit--lower", "Lower limit", limits.lower, LIMIT_COLOUR, "6 4"),
    ]
    if analysis.target is not None:
        lines.append(("app-spc__target", "Target", analysis.target, TARGET_COLOUR, "2 3"))
    parts = []
    for css, label, value, colour, dashes in lines:
        y = scale.y(value)
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        parts.append(
            f'<line class="{css}" x1="{LEFT}" y1="{y}" x2="{RIGHT}" y2="{y}" '
            f'stroke="{colour}"{dash}></line>'
        )
        parts.append(_text(RIGHT + 6, y, f"{label} {_shown(value, places)}", "app-spc__line-label"))
    return parts


def _series_line(scale: _Scale, analysis: SpcAnalysis) -> str:
    points = " ".join(f"{scale.x(i)},{scale.y(p.value)}" for i, p in enumerate(analysis.points))
    return (
        f'<polyline class="app-spc__series" points="{points}" fill="none" '
        f'stroke="{LINE_COLOUR}"></polyline>'
    )


def _points(scale: _Scale, analysis: SpcAnalysis, places: int) -> list[str]:
    parts = []
    for index, point in enumerate(analysis.points):
        variation = point.variation
        radius = 3 if variation is Variation.COMMON_CAUSE else 5
        parts.append(
            f'<circle class="app-spc__point app-spc__point--{variation.value}" '
            f'cx="{scale.x(index)}" cy="{scale.y(point.value)}" r="{radius}" '
            f'fill="{COLOURS[variation]}" stroke="{TEXT_COLOUR}" stroke-width="1" '
            f'data-variation="{variation.value}">'
            f"<title>{escape(point.period)}: {escape(_shown(point.value, places))}, "
            f"{escape(variation.label.lower())}</title></circle>"
        )
    return parts


def _legend(analysis: SpcAnalysis) -> Sequence[str]:
    shown = [Variation.COMMON_CAUSE] + [
        v
        for v in (Variation.IMPROVEMENT, Variation.CONCERN, Variation.NEITHER)
        if any(p.variation is v for p in analysis.points)
    ]
    parts = []
    y = HEIGHT - 20
    for index, variation in enumerate(shown):
        x = LEFT + index * 130
        parts.append(
            f'<circle class="app-spc__legend-key" cx="{x}" cy="{y - 4}" r="5" '
            f'fill="{COLOURS[variation]}" stroke="{TEXT_COLOUR}" stroke-width="1"></circle>'
        )
        parts.append(_text(x + 10, y, _LEGEND[variation], "app-spc__legend"))
    return parts
