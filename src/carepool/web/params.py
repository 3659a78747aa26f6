"""Bounds on the whole numbers a page or the API takes from a URL.

Ids and version numbers are database integers; one larger than any column can hold would
otherwise reach the database and fail there. Declared with these bounds, an out-of-range
number is refused at the edge with a 422 that says why, the same on every page and the API,
and the API's OpenAPI document states the same bounds.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**31 - 1
"""The largest id or version number carepool looks up: the most a database ``INTEGER`` holds."""

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="a positive whole number")]
"""An id or version number in the path."""

IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
"""An id or version number in a JSON body."""

VersionQuery = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="a version; default the current"),
]
"""An optional ``?version=`` of an allocation; absent means the current one."""
