"""The substitution check in the versioned JSON API: every council, or one, with the same
shape as ``carepool substitution --json``. Public, as the pages are; money in integer pence."""

from __future__ import annotations

from fastapi import APIRouter

from carepool.substitution import service
from carepool.substitution.schemas import CouncilOut, SubstitutionOut
from carepool.web.auth import ApiRoute, DbSession, PublicViewer
from carepool.web.errors import API_ERROR_RESPONSES

router = APIRouter(
    prefix="/api/v1",
    tags=["substitution"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)


@router.get("/substitution", summary="Every council's substitution check, in real terms")
def substitution(session: DbSession, viewer: PublicViewer) -> SubstitutionOut:
    return SubstitutionOut.of(service.report(session))


@router.get("/substitution/{code}", summary="One council's substitution check, by ONS code")
def substitution_council(code: str, session: DbSession, viewer: PublicViewer) -> CouncilOut:
    return CouncilOut.of(service.report(session).council(code))
