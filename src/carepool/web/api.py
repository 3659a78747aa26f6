"""The versioned JSON API (``/api/v1``) for machines: open data without a token, more with one.

Without a token a client is the public and sees published data only. With ``Authorization:
Bearer <token>`` it sees what the token's owner would see on the web pages; the same
:func:`carepool.allocation.service.visible_run` decides. Money is integer pence (``*_pence``), never
a float. Every error is the one envelope from :mod:`carepool.web.errors`.
"""

from __future__ import annotations

from fastapi import APIRouter

from carepool.domain.framework import Framework
from carepool.frameworks import available_years, load_framework
from carepool.web.auth import ApiRoute, PublicViewer
from carepool.web.errors import API_ERROR_RESPONSES
from carepool.web.kit import check_year
from carepool.web.schemas.frameworks import FrameworkList, FrameworkSummary

router = APIRouter(
    prefix="/api/v1",
    tags=["frameworks"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)


@router.get("/frameworks", summary="The programme years that have a policy framework")
def frameworks(viewer: PublicViewer) -> FrameworkList:
    return FrameworkList(
        frameworks=[FrameworkSummary.of(load_framework(year)) for year in available_years()]
    )


@router.get("/frameworks/{year}", summary="One programme year's whole policy framework")
def framework(year: str, viewer: PublicViewer) -> Framework:
    return load_framework(check_year(year))
