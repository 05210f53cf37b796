"""Receivers of the signals of the apps workflows builds on; WorkflowsConfig.ready connects them."""

from __future__ import annotations

from typing import Any

from apps.validation.models import ValidationRun
from apps.workflows.services import finding_raise_for_scheduled_run


def raise_finding_for_scheduled_run(sender: Any, *, run: ValidationRun, counts: dict[str, int], **kwargs: Any) -> None:
    """On ``validation.signals.scheduled_run_checked``: raise the finding the failed scheduled run calls for."""
    finding_raise_for_scheduled_run(run=run, counts=counts)
