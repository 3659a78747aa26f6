"""The spine chart: every metric on one line each, the area against the spread of all areas.

Public health profiles draw their area summaries this way, so readers know it: England's
value is the centre line, the pale bar runs from the worst area to the best, the darker box
holds the middle half of areas (25th to 75th percentile), and the area is a circle coloured
by its comparison with England. Better is always to the right, whichever way a metric's
numbers run, so a row of circles on the right is a good story at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from carepool.domain.benchmark import Verdict
from carepool.domain.direction import Direction
from carepool.scorecard.service import MetricCard

WIDTH, LABEL, ROW, GAP = 640, 230, 26, 8
VERDICT_COLOURS = {
    Verdict.BETTER: "#00703c",  # GOV.UK green
    Verdict.SIMILAR: "#ffdd00",  # GOV.UK yellow
    Verdict.WORSE: "#d4351c",  # GOV.UK red
    Verdict.NOT_COMPARED: "#b1b4b6",  # GOV.UK mid grey
}
RANGE_COLOUR, MIDDLE_COLOUR, CENTRE_COLOUR = "#f3f2f1", "#b1b4b6", "#0b0c0c"


def spine_chart(chart_id: str, title: str, cards: Sequence[MetricCard]) -> Markup:
    """One row per card that has a spread of areas to draw against."""
    rows = [c for c in cards if c.spread is not None and c.value.value is not None]
    height = max(1, len(rows)) * (ROW + GAP) + GAP + 20
    description = (
        "For each metric, the spread of every area's value with England's value in the middle "
        "and better to the right; the circle is this area, coloured by its comparison with "
        "England. The table below gives every figure."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart app-spine" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    ]
    room = (WIDTH - LABEL - 10) // 2
    centre_x = LABEL + room
    for index, card in enumerate(rows):
        parts.append(_row(card, GAP + index * (ROW + GAP), centre_x, room))
    parts.append(
        f'<line x1="{centre_x}" y1="0" x2="{centre_x}" y2="{height - 20}" '
        f'stroke="{CENTRE_COLOUR}" stroke-width="2"></line>'
        f'<text x="{LABEL}" y="{height - 4}" font-size="12">Worse</text>'
        f'<text x="{centre_x}" y="{height - 4}" font-size="12" text-anchor="middle">England</text>'
        f'<text x="{WIDTH - 10}" y="{height - 4}" font-size="12" text-anchor="end">Better</text>'
        "</svg>"
    )
    return Markup("".join(parts))


def _row(card: MetricCard, top: int, centre_x: int, room: int) -> str:
    spread = card.spread
    assert spread is not None and card.value.value is not None
    centre = card.england if card.england is not None else spread.median
    reach = max(abs(spread.lowest - centre), abs(spread.highest - centre)) or Decimal(1)
    flip = card.definition.direction is Direction.LOWER_IS_BETTER

    def x(value: Decimal) -> int:
        offset = (value - centre) / reach * room
        return int(centre_x + (-offset if flip else offset))

    low, high = sorted((x(spread.lowest), x(spread.highest)))
    q_low, q_high = sorted((x(spread.lower_quartile), x(spread.upper_quartile)))
    middle = top + ROW // 2
    colour = VERDICT_COLOURS[card.verdict]
    return (
        f'<text x="{LABEL - 8}" y="{middle + 5}" text-anchor="end" font-size="13">'
        f"{escape(card.definition.name[:34])}</text>"
        f'<rect x="{low}" y="{top + 4}" width="{max(1, high - low)}" height="{ROW - 8}" '
        f'fill="{RANGE_COLOUR}" stroke="{MIDDLE_COLOUR}"></rect>'
        f'<rect x="{q_low}" y="{top + 4}" width="{max(1, q_high - q_low)}" height="{ROW - 8}" '
        f'fill="{MIDDLE_COLOUR}"></rect>'
        f'<circle cx="{x(card.value.value)}" cy="{middle}" r="7" fill="{colour}" '
        f'stroke="{CENTRE_COLOUR}"></circle>'
    )
