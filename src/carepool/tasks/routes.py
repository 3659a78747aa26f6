"""The task page a signed-in person lands on: what needs them now, with links to do it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from carepool.tasks import service as tasks
from carepool.web.auth import DbSession, SignedInViewer
from carepool.web.kit import render

router = APIRouter(include_in_schema=False)


@router.get("/tasks", response_class=HTMLResponse)
def task_page(request: Request, session: DbSession, viewer: SignedInViewer) -> Response:
    """Each of the viewer's roles' task groups with their counts, in declared order."""
    groups = tasks.tasks_for(session, viewer)
    context = {"groups": groups, "total": sum(g.count for g in groups)}
    return render(request, "tasks.html", context, viewer=viewer, session=session)
