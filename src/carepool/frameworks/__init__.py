"""The policy frameworks shipped with carepool, one TOML file per programme year.

Loading validates the whole file; any problem is reported with the file and the key path so
the person maintaining the framework can find it.
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from carepool.domain.errors import FrameworkError, NotFound, Problem
from carepool.domain.framework import (
    Framework,
    framework_problems,
    metric_problems,
    overlap_problems,
)
from carepool.domain.metric_catalogue import catalogue
from carepool.domain.periods import programme_financial_years


def available_years() -> list[str]:
    """The programme years that have a framework file, oldest first."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def require_year(year: str) -> str:
    """``year`` if it is a programme year carepool has a framework for; otherwise not found.

    Pages and the API take the year from the address, so an unknown one is a 404, not a 400.
    """
    if year not in available_years():
        raise NotFound(f"there is no programme year {year!r}")
    return year


@cache
def load_framework(year: str) -> Framework:
    """The validated framework for ``year``; cached because files never change at run time."""
    if year not in available_years():
        known = ", ".join(available_years())
        raise FrameworkError(f"unknown programme year {year!r}; frameworks exist for: {known}")
    source = resources.files(__name__).joinpath(f"{year}.toml")
    framework = parse_framework(source.read_text(encoding="utf-8"), source.name)
    if framework.year != year:
        raise FrameworkError(
            f"{source.name}: 'year' is {framework.year!r} but the file is named for {year!r}",
            [Problem("year does not match the file name", file=source.name, key="year")],
        )
    overlaps = overlap_problems(framework, source.name, shipped_financial_years())
    if overlaps:
        raise FrameworkError(f"{source.name} overlaps another programme year", overlaps)
    return framework


def shipped_financial_years() -> dict[str, tuple[str, ...]]:
    """Each shipped programme year's financial years, read from the file names alone."""
    return {year: programme_financial_years(year) for year in available_years()}


def check_framework_file(path: Path) -> Framework:
    """Validate a draft framework as if it were shipped, without installing it: the file
    itself, and that its financial years are not already another shipped year's."""
    framework = load_framework_file(path)
    overlaps = overlap_problems(framework, path.name, shipped_financial_years())
    if overlaps:
        raise FrameworkError(f"{path.name} overlaps a shipped programme year", overlaps)
    return framework


@cache
def framework_sha256(year: str) -> str:
    """The SHA-256 of the framework file shipped for ``year``: what a payment was run under."""
    load_framework(year)  # a clear error for an unknown year
    source = resources.files(__name__).joinpath(f"{year}.toml")
    return hashlib.sha256(source.read_bytes()).hexdigest()


def load_framework_file(path: Path) -> Framework:
    """Validate a framework file that is not (yet) shipped, e.g. a draft for a new year."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkError(f"{path.name}: cannot read the file ({exc})") from exc
    return parse_framework(text, path.name)


def parse_framework(text: str, file_name: str) -> Framework:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(
            f"{file_name} is not valid TOML", [Problem(str(exc), file=file_name)]
        ) from exc
    try:
        framework = Framework.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(error["msg"], file=file_name, key=_key_path(error["loc"]))
            for error in exc.errors()
        ]
        raise FrameworkError(f"{file_name} is not a valid policy framework", problems) from exc
    known = frozenset(definition.id for definition in catalogue())
    problems = framework_problems(framework, file_name) + metric_problems(
        framework, file_name, known
    )
    if problems:
        raise FrameworkError(f"{file_name} is not a valid policy framework", problems)
    return framework


def _key_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
