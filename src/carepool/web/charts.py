"""Charts drawn on the server as SVG, so they need no JavaScript and print as they look.

A chart is never the only place a figure appears: :class:`Chart` carries both the drawing and
the rows it was drawn from, and the one template macro that shows a chart (``chart_with_table``
in ``macros.html``) always puts the table beside it. The SVG is ``role="img"`` with a
``<title>`` and ``<desc>``; screen reader users get the exact figures from the table.

Geometry is integer arithmetic on the figures; amounts are formatted by the caller from
integer pence, never turned into floats here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_COLOUR = "#1d70b8"  # GOV.UK blue; also set by carepool.css, kept here for no-CSS views
TEXT_COLOUR = "#0b0c0c"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    shown: str  # the value as people read it, e.g. "£412.3m" or "23,456"


@dataclass(frozen=True, slots=True)
class Chart:
    """An SVG drawing and the table of the same figures, which is always shown with it."""

    id: str
    title: str
    description: str
    label_heading: str
    value_heading: str
    bars: tuple[Bar, ...]
    svg: Markup


def bars_from(items: Sequence[tuple[str, int]], shown: Callable[[int], str]) -> tuple[Bar, ...]:
    return tuple(Bar(label, value, shown(value)) for label, value in items)


def _open_svg(chart_id: str, title: str, description: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )


def _length(value: int, largest: int, room: int) -> int:
    if largest <= 0 or value <= 0:
        return 0
    return max(1, value * room // largest)


def horizontal_bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    *,
    label_heading: str,
    value_heading: str,
) -> Chart:
    """One bar per item, longest for the largest value, labelled with the shown value."""
    label_width, value_width, bar_height, gap, width = 200, 110, 24, 10, 640
    room = width - label_width - value_width
    height = max(1, len(bars)) * (bar_height + gap) + gap
    largest = max((b.value for b in bars), default=0)
    parts = [_open_svg(chart_id, title, description, width, height)]
    for index, bar in enumerate(bars):
        top = gap + index * (bar_height + gap)
        middle = top + bar_height // 2 + 5
        length = _length(bar.value, largest, room)
        parts.append(
            f'<text class="app-chart__label" x="{label_width - 8}" y="{middle}" '
            f'text-anchor="end" fill="{TEXT_COLOUR}">{escape(bar.label)}</text>'
            f'<rect class="app-chart__bar" x="{label_width}" y="{top}" width="{length}" '
            f'height="{bar_height}" fill="{BAR_COLOUR}"></rect>'
            f'<text class="app-chart__value" x="{label_width + length + 6}" y="{middle}" '
            f'fill="{TEXT_COLOUR}">{escape(bar.shown)}</text>'
        )
    parts.append("</svg>")
    return Chart(
        chart_id, title, description, label_heading, value_heading, tuple(bars),
        Markup("".join(parts)),
    )  # fmt: skip


def column_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    *,
    label_heading: str,
    value_heading: str,
) -> Chart:
    """Upright columns in the order given, for a distribution such as ages in 5-year bands."""
    column, gap, top_margin, axis_height, chart_height = 28, 6, 24, 34, 220
    width = max(1, len(bars)) * (column + gap) + gap
    height = top_margin + chart_height + axis_height
    baseline = top_margin + chart_height
    largest = max((b.value for b in bars), default=0)
    largest_shown = next((b.shown for b in bars if b.value == largest), "0")
    parts = [
        _open_svg(chart_id, title, description, width, height),
        f'<text class="app-chart__value" x="{gap}" y="16" fill="{TEXT_COLOUR}">'
        f"Largest: {escape(largest_shown)}</text>",
        f'<line class="app-chart__axis" x1="0" y1="{baseline}" x2="{width}" y2="{baseline}" '
        f'stroke="{TEXT_COLOUR}"></line>',
    ]
    for index, bar in enumerate(bars):
        left = gap + index * (column + gap)
        length = _length(bar.value, largest, chart_height)
        parts.append(
            f'<rect class="app-chart__bar" x="{left}" y="{baseline - length}" width="{column}" '
            f'height="{length}" fill="{BAR_COLOUR}"></rect>'
            f'<text class="app-chart__tick" x="{left + column // 2}" y="{baseline + 16}" '
            f'text-anchor="middle" fill="{TEXT_COLOUR}">{escape(bar.label)}</text>'
        )
    parts.append("</svg>")
    return Chart(
        chart_id, title, description, label_heading, value_heading, tuple(bars),
        Markup("".join(parts)),
    )  # fmt: skip


def population_chart(chart_id: str, place: str, bands: Sequence[tuple[str, int]]) -> Chart:
    """Residents by age band, youngest first, as columns."""
    bars = bars_from(bands, lambda persons: f"{persons:,}")
    total = sum(b.value for b in bars)
    return column_chart(
        chart_id,
        f"Population of {place} by age band",
        f"A column chart of residents in {len(bars)} age bands, {total:,} people in all. "
        "The same figures are in the table beside it.",
        bars,
        label_heading="Age band",
        value_heading="People",
    )


SECOND_COLOUR = "#912b88"  # GOV.UK pink: 6:1 against white, and the key names each bar too


@dataclass(frozen=True, slots=True)
class Pair:
    """One row of a paired bar chart: two amounts side by side, e.g. a pot and what it paid."""

    label: str
    first: int
    second: int


@dataclass(frozen=True, slots=True)
class PairedChart:
    """Two bars for each row, with the table of the same figures (always shown with it)."""

    id: str
    title: str
    description: str
    headings: tuple[str, str, str]
    rows: tuple[tuple[str, str, str], ...]
    svg: Markup


def paired_bar_chart(
    chart_id: str,
    title: str,
    description: str,
    pairs: Sequence[Pair],
    *,
    headings: tuple[str, str, str],
    shown: Callable[[int], str],
) -> PairedChart:
    """For each row, the first amount's bar above the second's, on one scale, with a key.

    ``headings`` name the rows' column and the two amounts; the key uses the amounts' names.
    """
    label_width, value_width, bar, gap, width, top = 120, 150, 16, 16, 640, 36
    room = width - label_width - value_width
    height = top + max(1, len(pairs)) * (2 * bar + gap) + gap
    largest = max((max(p.first, p.second) for p in pairs), default=0)
    parts = [_open_svg(chart_id, title, description, width, height), _key(18, headings[1:])]
    for index, pair in enumerate(pairs):
        y = top + index * (2 * bar + gap)
        parts.append(
            f'<text class="app-chart__label" x="{label_width - 8}" y="{y + bar + 5}" '
            f'text-anchor="end" fill="{TEXT_COLOUR}">{escape(pair.label)}</text>'
        )
        for offset, (colour, amount) in enumerate(
            ((BAR_COLOUR, pair.first), (SECOND_COLOUR, pair.second))
        ):
            length, row = _length(amount, largest, room), y + offset * bar
            parts.append(
                f'<rect x="{label_width}" y="{row}" width="{length}" height="{bar - 2}" '
                f'fill="{colour}"></rect>'
                f'<text class="app-chart__tick" x="{label_width + length + 4}" y="{row + bar - 3}" '
                f'fill="{TEXT_COLOUR}">{escape(shown(amount))}</text>'
            )
    parts.append("</svg>")
    rows = tuple((p.label, shown(p.first), shown(p.second)) for p in pairs)
    return PairedChart(chart_id, title, description, headings, rows, Markup("".join(parts)))


def _key(y: int, names: Sequence[str]) -> str:
    """The chart's key along its top: a coloured square and the name of each amount."""
    parts, x = [], 10
    for colour, name in zip((BAR_COLOUR, SECOND_COLOUR), names, strict=False):
        parts.append(
            f'<rect x="{x}" y="{y - 11}" width="14" height="14" fill="{colour}"></rect>'
            f'<text class="app-chart__label" x="{x + 20}" y="{y}" fill="{TEXT_COLOUR}">'
            f"{escape(name)}</text>"
        )
        x += 40 + 9 * len(name)
    return "".join(parts)
