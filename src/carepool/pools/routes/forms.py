"""What the pool pages share: loading a pool for a viewer, reading their forms, and the
figures and charts the pages draw.

The pooled budget's rules (who may post, what a period allows, how a return moves) are the
services'; this module only shapes what they return for a page, and reads what a person typed
into a form into the values the services take, so that a mistake in a form becomes a GOV.UK
field error rather than a 500. Charts follow :mod:`carepool.web.charts`: drawn on the server
as SVG with a title and description, always shown with the table of the same figures.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from carepool.domain.errors import CarepoolError, MoneyError, Problem
from carepool.domain.geography import Area
from carepool.domain.ledger import Light
from carepool.domain.money import Pence, format_money, parse_money
from carepool.domain.quarterly_return import ExpenditureLine, Instalment, InstalmentStatus
from carepool.domain.roles import Principal, Role
from carepool.geography.service import YearGeography, year_geography
from carepool.pools.service import ledger
from carepool.pools.service.ledger import PoolRow
from carepool.web.charts import TEXT_COLOUR
from carepool.web.forms import PageErrors
from carepool.web.kit import check_year

MAX_UPLOAD = 5 * 1024 * 1024
"""The largest spend file accepted: a year of a big pool's payments is well under 1 MB."""
UPLOAD_SLACK = 64 * 1024
"""Room for the form's other fields and multipart boundaries around the file itself."""

BUDGET_COLOUR = "#1d70b8"  # GOV.UK blue
ACTUAL_COLOUR = "#912b88"  # GOV.UK pink: 6:1 against white, told apart from blue by shape too

LIGHT_TAGS = {
    Light.GREEN: "govuk-tag--green",
    Light.AMBER: "govuk-tag--yellow",
    Light.RED: "govuk-tag--red",
}
INSTALMENT_TAGS = {
    InstalmentStatus.NOT_DUE: "govuk-tag--grey",
    InstalmentStatus.AWAITING: "govuk-tag--blue",
    InstalmentStatus.PAID: "govuk-tag--green",
    InstalmentStatus.PAID_LATE: "govuk-tag--yellow",
    InstalmentStatus.SHORT: "govuk-tag--orange",
    InstalmentStatus.OVERDUE: "govuk-tag--red",
}
RETURN_TAGS = {
    "Draft": "govuk-tag--grey",
    "Submitted": "govuk-tag--blue",
    "Signed off": "govuk-tag--green",
    "Sent back": "govuk-tag--orange",
    "Not started": "govuk-tag--grey",
}


# ---------------------------------------------------------------------------------------
# Loading a pool for a viewer


@dataclass(frozen=True, slots=True)
class PoolPage:
    """A pool the viewer may see, with its area, for the pages' headings and links."""

    geo: YearGeography
    area: Area
    pool: PoolRow

    @property
    def base(self) -> str:
        return f"/pools/{self.pool.year}/{self.area.code}"


def load_pool(session: Session, year: str, area_code: str, viewer: Principal) -> PoolPage:
    """The pool, or 403 for someone who may not see it (whether or not it exists), else 404."""
    check_year(year)
    pool = ledger.pool_for(session, year, area_code, viewer)
    geo = year_geography(session, year)
    return PoolPage(geo, geo.area(area_code), pool)


def may_write(viewer: Principal, area_code: str) -> bool:
    """Mirrors :func:`~carepool.pools.service.ledger.require_write`: which forms to show."""
    return viewer.may_act_as(Role.POOL_FINANCE, area_code)


# ---------------------------------------------------------------------------------------
# Reading forms


def text(form: FormData, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def money(form: FormData, name: str, errors: PageErrors, what: str) -> Pence | None:
    """An amount from a text field, or a field error saying how to write it."""
    raw = text(form, name, 40)
    if not raw:
        errors.add(f"Enter {what}", name)
        return None
    try:
        return parse_money(raw)
    except MoneyError as exc:
        errors.add(f"{_capital(what)} must be an amount like £1,234.56: {exc.message}", name)
        return None


def date_from(form: FormData, name: str, errors: PageErrors, what: str) -> dt.date | None:
    """A date from the GOV.UK date input's three fields (``name-day`` etc.)."""
    parts = [text(form, f"{name}-{part}", 4) for part in ("day", "month", "year")]
    if not all(parts):
        errors.add(f"{_capital(what)} must include a day, month and year", f"{name}-day")
        return None
    if not all(p.isascii() and p.isdigit() for p in parts):
        errors.add(f"{_capital(what)} must be a real date", f"{name}-day")
        return None
    try:
        day, month, year = (int(p) for p in parts)
        return dt.date(year, month, day)
    except ValueError:
        errors.add(f"{_capital(what)} must be a real date", f"{name}-day")
        return None


def _capital(what: str) -> str:
    return what[:1].upper() + what[1:]


def lock_of(form: FormData) -> int | None:
    raw = text(form, "lock_version", 12)
    return int(raw) if raw.isdigit() else None


def add_problems(errors: PageErrors, error: CarepoolError, field_id: str) -> None:
    """An error and each of its problems, every one saying where it is (file, row, column)."""
    errors.add_error(error, field_id, located=_located)
    errors.status = error.http_status if error.http_status >= 400 else 400


def _located(problem: Problem) -> str:
    where = problem.where
    return f"{where}: {problem.message}" if where else _sentence(problem.message)


def _sentence(message: str) -> str:
    first = message.split(" ", 1)[0]
    if not message or any(mark in first for mark in "._"):
        return message
    return message[:1].upper() + message[1:]


# ---------------------------------------------------------------------------------------
# Uploads


def upload_size_limit(request: Request) -> None:
    """Refuse an upload over the limit from its declared length, before reading the body."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise CarepoolError("the upload must say how long it is (Content-Length)")
    if int(declared) > MAX_UPLOAD + UPLOAD_SLACK:
        raise UploadTooLarge(
            f"the file is larger than {MAX_UPLOAD // 2**20} MB; split the year's spend into "
            "several files (each is checked and posted whole)"
        )


class UploadTooLarge(CarepoolError):
    code = "too_large"
    http_status = 413


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_name(name: str) -> str:
    """The uploaded file's own name, stripped of any folders and odd characters, since it is
    shown back in every problem and kept with the import."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip(" .") or "spend.csv"
    return cleaned[-120:]


@contextmanager
def saved_upload(sent: UploadFile) -> Iterator[Path]:
    """The upload copied to a private temporary file under its own (safe) name."""
    with tempfile.TemporaryDirectory(prefix="carepool-spend-") as folder:
        path = Path(folder) / safe_name(sent.filename or "spend.csv")
        with path.open("wb") as out:
            shutil.copyfileobj(sent.file, out, length=1024 * 1024)
        if path.stat().st_size > MAX_UPLOAD:
            raise UploadTooLarge(f"the file is larger than {MAX_UPLOAD // 2**20} MB")
        yield path


# ---------------------------------------------------------------------------------------
# Figures shaped for pages


@dataclass(frozen=True, slots=True)
class AccountGroup:
    """Accounts under one heading (e.g. ``Assets:Receivable``) and their debit and credit;
    each account is (name, the partner it belongs to if any, balance)."""

    key: str
    label: str
    accounts: tuple[tuple[str, str, int], ...]

    @property
    def balance(self) -> int:
        return sum(amount for _, _, amount in self.accounts)


GROUP_LABELS = {
    "Assets:Pool": "Money held by the pool",
    "Assets:Receivable": "Owed to the pool by partners",
    "Liabilities:Payable": "Owed by the pool to partners",
    "Income:Contribution": "Partners' contributions",
    "Income:RiskShare": "Risk-share settlement",
    "Expenses:Scheme": "Spend on schemes",
}


def account_groups(balances: Mapping[str, int], partners: Mapping[str, str]) -> list[AccountGroup]:
    """Balances gathered by their first two account parts, in the order of the roots, each
    account named with its partner (account names hold only the partner's code)."""
    groups: dict[str, list[tuple[str, str, int]]] = {}
    for account, amount in balances.items():
        parts = account.split(":")
        owner = partners.get(parts[2], "") if len(parts) > 2 else ""
        groups.setdefault(":".join(parts[:2]), []).append((account, owner, amount))
    roots = ("Assets", "Liabilities", "Income", "Expenses", "Equity")
    order = sorted(groups, key=lambda k: (roots.index(k.split(":")[0]), k))
    return [
        AccountGroup(key, GROUP_LABELS.get(key, key), tuple(groups[key]))
        for key in order
        if any(amount for _, _, amount in groups[key])
    ]


def debit(amount: int) -> str:
    return format_money(amount) if amount > 0 else ""


def credit(amount: int) -> str:
    return format_money(-amount) if amount < 0 else ""


@dataclass(frozen=True, slots=True)
class Schedule:
    """The contribution schedule as at a day, with the instalments that need chasing."""

    as_at: dt.date
    rows: tuple[tuple[Instalment, InstalmentStatus], ...]

    @property
    def flagged(self) -> list[tuple[Instalment, InstalmentStatus]]:
        return [(i, s) for i, s in self.rows if s.flagged]


def schedule(instalments: Sequence[Instalment], as_at: dt.date) -> Schedule:
    ordered = sorted(instalments, key=lambda i: (i.due_date, i.partner_name, i.stream))
    return Schedule(as_at, tuple((i, i.status(as_at)) for i in ordered))


# ---------------------------------------------------------------------------------------
# Charts


@dataclass(frozen=True, slots=True)
class SeriesChart:
    """An SVG with the table of its figures, which the page always shows with it."""

    id: str
    title: str
    description: str
    svg: Markup
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = field(default=())


def _open(chart_id: str, title: str, description: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )


def _legend(y: int, items: Sequence[tuple[str, str, str]]) -> str:
    """Keys at the top: (colour, shape, label); shape is ``bar``, ``solid`` or ``dashed``."""
    parts, x = [], 10
    for colour, shape, label in items:
        if shape == "bar":
            parts.append(
                f'<rect x="{x}" y="{y - 11}" width="14" height="14" fill="{colour}"></rect>'
            )
        else:
            dash = ' stroke-dasharray="6 4"' if shape == "dashed" else ""
            parts.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" stroke="{colour}" '
                f'stroke-width="3"{dash}></line>'
            )
        parts.append(
            f'<text class="app-chart__label" x="{x + 30}" y="{y}" fill="{TEXT_COLOUR}">'
            f"{escape(label)}</text>"
        )
        x += 40 + 9 * len(label)
    return "".join(parts)


def _scaled(value: int, largest: int, room: int) -> int:
    if largest <= 0 or value <= 0:
        return 0
    return max(1, value * room // largest)


def budget_actual_chart(chart_id: str, title: str, lines: Sequence[ExpenditureLine]) -> SeriesChart:
    """Paired bars for each line: budget to date above, actual to date below."""
    label_width, value_width, bar, gap, width = 230, 130, 14, 14, 720
    room = width - label_width - value_width
    top = 36
    height = top + max(1, len(lines)) * (2 * bar + gap) + gap
    largest = max((max(x.budget_to_date, x.actual_to_date) for x in lines), default=0)
    parts = [
        _open(chart_id, title, _bars_description(lines), width, height),
        _legend(
            18, [(BUDGET_COLOUR, "bar", "Budget to date"), (ACTUAL_COLOUR, "bar", "Actual to date")]
        ),
    ]
    for index, line in enumerate(lines):
        y = top + index * (2 * bar + gap)
        parts.append(
            f'<text class="app-chart__label" x="{label_width - 8}" y="{y + bar + 5}" '
            f'text-anchor="end" fill="{TEXT_COLOUR}">{escape(_short(line.label))}</text>'
        )
        for offset, (colour, amount) in enumerate(
            ((BUDGET_COLOUR, line.budget_to_date), (ACTUAL_COLOUR, line.actual_to_date))
        ):
            length = _scaled(amount, largest, room)
            row = y + offset * bar
            parts.append(
                f'<rect x="{label_width}" y="{row}" width="{length}" height="{bar - 2}" '
                f'fill="{colour}"></rect>'
                f'<text class="app-chart__tick" x="{label_width + length + 4}" y="{row + bar - 3}" '
                f'fill="{TEXT_COLOUR}">{escape(format_money(amount, pence_shown=False))}</text>'
            )
    parts.append("</svg>")
    rows = tuple(
        (
            line.label,
            format_money(line.budget_to_date),
            format_money(line.actual_to_date),
            format_money(line.variance_to_date),
        )
        for line in lines
    )
    headings = ("Line", "Budget to date", "Actual to date", "Difference")
    description = _bars_description(lines)
    return SeriesChart(chart_id, title, description, Markup("".join(parts)), headings, rows)


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _bars_description(lines: Sequence[ExpenditureLine]) -> str:
    over = [x.label for x in lines if x.actual_to_date > x.budget_to_date]
    text_ = (
        f"Paired bars for {len(lines)} lines: budget to date and actual spend to date. "
        f"{len(over)} of them have spent more than their budget to date."
    )
    return text_ + " The same figures are in the table below the chart."
