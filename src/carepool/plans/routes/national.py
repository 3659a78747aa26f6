"""Every area's plan for a year: the national view, the public list and the CSV download.

National roles see every area: counts by status and assurance category, the money pooled in
approved plans against the minimum, and the lists someone has to chase. Everyone else sees
the approved plans (they are published) and, if they work on an area, that area's plan; the
CSV gives each viewer exactly the rows their page shows.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from carepool.allocation.routes.national import pounds
from carepool.domain.framework import Framework
from carepool.domain.money import format_millions, format_money
from carepool.domain.plan_workflow import PlanStatus
from carepool.domain.roles import Principal
from carepool.frameworks import load_framework
from carepool.io.spreadsheet_text import csv_writer
from carepool.plans import service as plans
from carepool.plans.routes.views import NOT_STARTED, STATUS_ORDER
from carepool.plans.service import visible_status
from carepool.web.auth import DbSession, PublicViewer
from carepool.web.charts import bars_from, horizontal_bar_chart
from carepool.web.kit import check_year, render

router = APIRouter(include_in_schema=False)

CSV_COLUMNS = (
    "area_code",
    "area_name",
    "region",
    "status",
    "category",
    "pooled",
    "minimum",
    "conditions_outstanding",
    "round",
)

Row = Mapping[str, Any]


def submission_deadline(framework: Framework) -> dt.date | None:
    """The year's deadline for final plans (its name differs from year to year)."""
    return next((d.date for d in framework.deadlines if "submitted" in d.name.lower()), None)


def _chase(rows: Sequence[Row], deadline: dt.date | None, today: dt.date) -> list[dict[str, Any]]:
    """The lists someone has to act on, each with why the plans are on it."""
    late = deadline is not None and today > deadline
    unsent = [r for r in rows if r["status"] in (NOT_STARTED, PlanStatus.DRAFT) and r["round"] <= 1]
    return [
        {
            "id": "late",
            "title": f"Not submitted by the deadline ({deadline:%d %B %Y})"
            if late and deadline
            else "Not yet submitted",
            "rows": unsent,
        },
        {
            "id": "sent-back",
            "title": "Sent back or reopened, waiting for the area's changes",
            "rows": [r for r in rows if r["status"] == PlanStatus.DRAFT and r["round"] > 1],
        },
        {
            "id": "escalated",
            "title": "Escalated to ministers",
            "rows": [r for r in rows if r["status"] == PlanStatus.ESCALATED],
        },
        {
            "id": "national",
            "title": "Waiting for a national decision",
            "rows": [r for r in rows if r["status"] == PlanStatus.NATIONAL],
        },
        {
            "id": "conditions",
            "title": "Approved with conditions still outstanding",
            "rows": [r for r in rows if r["conditions_outstanding"]],
        },
    ]


def _status_chart(report: Row) -> Any:
    counts = report["by_status"]
    items = [(status, counts.get(status, 0)) for status in STATUS_ORDER if counts.get(status, 0)]
    return horizontal_bar_chart(
        "plan-statuses",
        f"Plans by status, {report['year']}",
        "A bar chart of how many areas' plans are at each status. "
        "The same figures are in the table beside it.",
        bars_from(items, lambda n: f"{n:,}"),
        label_heading="Status",
        value_heading="Areas",
    )


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@router.get("/plans/{year}.csv")
def plans_csv(year: str, session: DbSession, viewer: PublicViewer) -> Response:
    """The rows the viewer's page shows, money in exact pounds."""
    report = visible_status(plans.national_status(session, check_year(year)), viewer)
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in report["plans"]:
        writer.writerow(
            [
                row["area_code"],
                row["area_name"],
                row["region"],
                row["status"],
                row["category"] or "",
                pounds(row["pooled_pence"]),
                pounds(row["minimum_pence"]),
                row["conditions_outstanding"],
                row["round"],
            ]
        )
    name = f"carepool-plans-{year}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/plans/{year}", response_class=HTMLResponse)
def plans_page(request: Request, year: str, session: DbSession, viewer: PublicViewer) -> Response:
    framework = load_framework(check_year(year))
    report = visible_status(plans.national_status(session, year), viewer)
    if viewer.is_national:
        return _national(request, session, framework, report, viewer)
    own = [r for r in report["plans"] if viewer.can_see_area(r["area_code"])]
    approved = [r for r in report["plans"] if r["status"] == PlanStatus.APPROVED]
    context = {
        "framework": framework,
        "report": report,
        "own": own,
        "approved": approved,
        "approved_pooled": sum(r["pooled_pence"] for r in approved),
        "approved_minimum": sum(r["minimum_pence"] for r in approved),
    }
    return render(request, "plan_list.html", context, viewer=viewer, session=session)


def _national(
    request: Request, session: DbSession, framework: Framework, report: Row, viewer: Principal
) -> Response:
    rows = report["plans"]
    approved = [r for r in rows if r["status"] == PlanStatus.APPROVED]
    categories = [(c, report["by_category"].get(c, 0)) for c in framework.assurance_categories]
    deadline = submission_deadline(framework)
    context = {
        "framework": framework,
        "report": report,
        "approved": len(approved),
        "approved_minimum": sum(r["minimum_pence"] for r in approved),
        "headline": (
            f"{len(approved)} of {report['areas']} approved, "
            f"{format_millions(report['pooled_pence'])} pooled against "
            f"{format_millions(report['minimum_pence'])}"
        ),
        "exact": (format_money(report["pooled_pence"]), format_money(report["minimum_pence"])),
        "chart": _status_chart(report),
        "categories": categories,
        "chase": _chase(rows, deadline, _today()),
        "statuses": [(s, report["by_status"].get(s, 0)) for s in STATUS_ORDER],
    }
    return render(request, "plan_national.html", context, viewer=viewer, session=session)
