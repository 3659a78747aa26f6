"""Approved plans of a year in one read, for the history of what areas pooled year by year."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carepool.domain.plan import PlanContent
from carepool.domain.plan_workflow import PlanStatus
from carepool.plans import repository as repo


def approved_contents(session: Session, year: str) -> dict[str, PlanContent]:
    """Each area's approved plan of the year (its current, frozen version), by area code.

    Only approved plans are public, and only they say what an area agreed to pool.
    """
    return {
        plan.area_code: PlanContent.model_validate(plan.versions[-1].content)
        for plan in repo.year_plans(session, year)
        if plan.status == PlanStatus.APPROVED
    }
