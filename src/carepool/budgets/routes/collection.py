"""The quarterly collection's chart: live at quarter end beside active in the year.

The chart is drawn from the figures the viewer may see (:func:`carepool.budgets.published.
publish`), so a withheld count is a missing bar labelled with the suppression symbol, never
a true small number; the table beside it gives the same figures.
"""

from __future__ import annotations

from carepool.budgets.published import Published
from carepool.domain.disclosure import SUPPRESSED_SYMBOL, Cell
from carepool.web.charts import Pair, PairedChart, paired_bar_chart

WITHHELD = -1
"""A withheld count in the chart: drawn as no bar and labelled with the suppression symbol."""


def _shown(value: int) -> str:
    return SUPPRESSED_SYMBOL if value == WITHHELD else f"{value:,}"


def _bar(cell: Cell | None) -> int:
    return WITHHELD if cell is None or cell.value is None else cell.value


def chart(shown: Published) -> PairedChart:
    """Budgets live at the quarter's end and active in the year, by eligibility group."""
    counts = shown.counts
    return paired_bar_chart(
        "budgets-chart",
        f"{counts.place}: personal health budgets live at the end of {counts.quarter.label} "
        f"and active at any time in {counts.quarter.financial_year}, by eligibility",
        "For each eligibility group, the budgets live at the quarter's end beside those "
        "active at any time in the year so far. The table below gives the same figures.",
        [Pair(line.label, _bar(line.live), _bar(line.active)) for line in shown.by_group],
        headings=("Eligibility", "Live at quarter end", "Active in the year"),
        shown=_shown,
    )
