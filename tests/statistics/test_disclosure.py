"""Publication control: small counts withheld, the rest rounded, totals giving nothing away."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.domain.disclosure import (
    ROUNDING_BASE,
    SUPPRESSED_SYMBOL,
    SUPPRESSION_THRESHOLD,
    Cell,
    Mark,
    is_disclosive,
    protect_group,
    protect_table,
    publish_count,
    round_to_base,
)

counts = st.integers(min_value=0, max_value=60)


def test_the_policy_is_one_to_seven_withheld_and_the_rest_to_the_nearest_five() -> None:
    assert (SUPPRESSION_THRESHOLD, ROUNDING_BASE) == (7, 5)
    assert publish_count(0) == Cell(0, Mark.PUBLISHED)  # nobody had it: that is safe to say
    assert [publish_count(n).mark for n in range(1, 8)] == [Mark.SUPPRESSED] * 7
    assert [publish_count(n).value for n in (8, 10, 12, 13, 17, 18, 1_234)] == [
        10, 10, 10, 15, 15, 20, 1_235
    ]  # fmt: skip


def test_a_withheld_figure_shows_the_confidential_symbol() -> None:
    assert publish_count(5).shown == SUPPRESSED_SYMBOL == "[c]"
    assert publish_count(12_346).shown == "12,345"


def test_negative_counts_are_a_mistake() -> None:
    with pytest.raises(ValueError, match="negative"):
        publish_count(-1)


def test_one_small_cell_beside_a_total_takes_the_next_smallest_with_it() -> None:
    """Delayed days by organisation: NHS 100, social care 50, both 3, total 153.

    Withholding only "both" would leave it as 153 − 100 − 50; so social care, the next
    smallest, is withheld too.
    """
    group = protect_group({"nhs": 100, "social_care": 50, "both": 3})

    assert group.cells["both"].mark is Mark.SUPPRESSED
    assert group.cells["social_care"].mark is Mark.SECONDARY
    assert group.cells["nhs"] == Cell(100, Mark.PUBLISHED)
    assert group.total == Cell(155, Mark.PUBLISHED)


def test_secondary_suppression_passes_over_zeros() -> None:
    group = protect_group({"a": 3, "b": 0, "c": 40, "d": 90})

    assert group.cells["b"] == Cell(0, Mark.PUBLISHED)
    assert group.cells["c"].mark is Mark.SECONDARY
    assert group.cells["d"].mark is Mark.PUBLISHED


def test_two_small_cells_protect_each_other() -> None:
    group = protect_group({"a": 3, "b": 5, "c": 40})

    assert [group.cells[k].mark for k in "abc"] == [
        Mark.SUPPRESSED, Mark.SUPPRESSED, Mark.PUBLISHED
    ]  # fmt: skip


def test_a_table_suppresses_across_rows_and_columns_until_nothing_gives_a_cell_away() -> None:
    """
    |       | 18-64 | 65+ |
    | Acute |    50 |   4 |
    | Other |    30 |  20 |

    4 is withheld; its row then loses 50 and its column loses 20, and 20's row loses 30.
    """
    table = protect_table(
        {("acute", "18-64"): 50, ("acute", "65+"): 4, ("other", "18-64"): 30, ("other", "65+"): 20},
        rows=["acute", "other"],
        columns=["18-64", "65+"],
    )
    marks = {key: cell.mark for key, cell in table.cells.items()}

    assert marks == {
        ("acute", "18-64"): Mark.SECONDARY,
        ("acute", "65+"): Mark.SUPPRESSED,
        ("other", "18-64"): Mark.SECONDARY,
        ("other", "65+"): Mark.SECONDARY,
    }
    assert table.row_totals["acute"] == Cell(55, Mark.PUBLISHED)
    assert table.column_totals["65+"] == Cell(25, Mark.PUBLISHED)
    assert table.total == Cell(105, Mark.PUBLISHED)


def test_a_table_refuses_cells_outside_its_rows_and_columns() -> None:
    with pytest.raises(ValueError, match="outside"):
        protect_table({("x", "y"): 1}, rows=["a"], columns=["y"])


# --------------------------------------------------------------------------------------------
# Properties


def _published_properly(true: int, cell: Cell) -> None:
    assert (cell.mark is Mark.SUPPRESSED) == is_disclosive(true)
    if cell.value is None:
        return
    assert cell.value == 0 or cell.value > SUPPRESSION_THRESHOLD  # never 1 to 7
    assert cell.value % ROUNDING_BASE == 0
    assert abs(cell.value - true) <= ROUNDING_BASE // 2
    assert cell.value == round_to_base(true)


def _nothing_recoverable(line: Sequence[Cell]) -> None:
    """A line adds up, so one withheld entry would be the total minus the others."""
    withheld = sum(cell.value is None for cell in line)
    assert withheld != 1, line


@given(st.integers(min_value=0, max_value=100_000))
def test_any_single_count(count: int) -> None:
    _published_properly(count, publish_count(count))


@given(st.lists(counts, min_size=1, max_size=8))
def test_any_group_with_its_total(values: list[int]) -> None:
    given_counts: Mapping[Hashable, int] = dict(enumerate(values))
    group = protect_group(given_counts)

    for key, count in given_counts.items():
        _published_properly(count, group.cells[key])
    _published_properly(sum(values), group.total)
    _nothing_recoverable([*group.cells.values(), group.total])


@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda rows: st.integers(min_value=1, max_value=4).flatmap(
            lambda columns: st.lists(
                st.lists(counts, min_size=columns, max_size=columns),
                min_size=rows,
                max_size=rows,
            )
        )
    )
)
def test_any_two_way_table_with_its_margins(grid: list[list[int]]) -> None:
    rows, columns = range(len(grid)), range(len(grid[0]))
    table = protect_table(
        {(r, c): grid[r][c] for r in rows for c in columns}, list(rows), list(columns)
    )

    for r in rows:
        for c in columns:
            _published_properly(grid[r][c], table.cells[(r, c)])
        _published_properly(sum(grid[r]), table.row_totals[r])
        _nothing_recoverable([*(table.cells[(r, c)] for c in columns), table.row_totals[r]])
    for c in columns:
        _published_properly(sum(row[c] for row in grid), table.column_totals[c])
        _nothing_recoverable([*(table.cells[(r, c)] for r in rows), table.column_totals[c]])
    _nothing_recoverable([*table.column_totals.values(), table.total])
