"""Reads of the registry that stand in for another app's names."""

from __future__ import annotations

from apps.registry.selectors import OPEN_REVIEW_STATUS
from apps.workflows.choices import ReviewStatus


def test_the_registry_reads_open_reviews_by_the_value_workflows_gives_them() -> None:
    assert OPEN_REVIEW_STATUS == ReviewStatus.OPEN
