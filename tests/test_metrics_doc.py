"""The metrics page of the documentation lists every definition as the catalogue declares it."""

from __future__ import annotations

from pathlib import Path

from carepool.domain.metric_catalogue import markdown

METRICS = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


def test_every_metric_its_source_and_differences_are_documented() -> None:
    page = METRICS.read_text(encoding="utf-8")
    assert markdown() in page, "re-render docs/metrics.md from metric_catalogue.markdown()"
