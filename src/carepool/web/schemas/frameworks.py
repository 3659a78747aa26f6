"""Policy frameworks: the list of programme years. One year's whole framework is the domain's
own validated :class:`~carepool.domain.framework.Framework` model, served as it is."""

from __future__ import annotations

from carepool.domain.framework import Framework
from carepool.web.schemas.common import Pence, Schema


class FrameworkSummary(Schema):
    year: str
    name: str
    financial_years: list[str]
    minimum_total_pence: Pence
    url: str

    @classmethod
    def of(cls, framework: Framework) -> FrameworkSummary:
        return cls(
            year=framework.year,
            name=framework.name,
            financial_years=list(framework.financial_years),
            minimum_total_pence=framework.minimum_total,
            url=f"/api/v1/frameworks/{framework.year}",
        )


class FrameworkList(Schema):
    frameworks: list[FrameworkSummary]
