"""What the approval workflows do when another app announces something (connected in WorkflowsConfig.ready)."""

from __future__ import annotations

from typing import Any

from apps.validation.models import ValidationRun
from apps.workflows.services import finding_raise_for_scheduled_run


def scheduled_run_checked(sender: object, *, run: ValidationRun, counts: dict[str, int], **kwargs: Any) -> None:
    """A scheduled validation run failed or could not run: raise the finding it calls for."""
    finding_raise_for_scheduled_run(run=run, counts=counts)
