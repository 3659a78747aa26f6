"""Read a sheet's stored size without parsing the whole sheet first.

openpyxl's read-only worksheet asks ``WorkSheetParser.parse_dimensions`` for the sheet's
``<dimension>`` when it is opened. That method listens for the *end* of each element and
gives up only at the end of ``<sheetData>``, so for a sheet that has no ``<dimension>`` (it is
optional) it parses every row first and keeps each one, emptied but still attached to the
tree. A 1 MB upload of three million empty rows then cost the server over 300 MB before
carepool's row limit was ever reached.

``<dimension>`` comes before ``<sheetData>`` in every worksheet, so listening for the *start*
of each element and stopping at the start of ``<sheetData>`` gives the same answer after
reading only the sheet's first few elements. :func:`install` puts that in place of
openpyxl's method; the readers call it before opening any workbook.
"""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG, WorkSheetParser
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.functions import iterparse


def _parse_dimensions(parser: WorkSheetParser) -> Any:
    """The sheet's stored boundaries, or ``None``: what openpyxl's own method returns."""
    for _event, element in iterparse(parser.source, events=("start",)):
        if element.tag == DIMENSION_TAG:
            found = SheetDimension.from_tree(element)
            return None if found is None else found.boundaries
        if element.tag == DATA_TAG:
            return None
    return None


def install() -> None:
    """Make every read-only worksheet read only the head of its sheet to learn its size."""
    WorkSheetParser.parse_dimensions = _parse_dimensions  # type: ignore[method-assign, assignment]
