from __future__ import annotations

from typing import Any

from django.apps import AppConfig

from apps.core import panels
from apps.validation.signals import scheduled_run_checked


class WorkflowsConfig(AppConfig):
    name = "apps.workflows"
    label = "workflows"
    verbose_name = "Approval workflows"

    def ready(self) -> None:
        # Pages of the registry and projects show workflow sections without importing this app;
        # validation tells workflows when a scheduled run needs a finding (apps/validation/signals.py).
        # The selectors and receivers import models, which exist only once the app registry is ready.
        from apps.workflows.receivers import raise_finding_for_scheduled_run  # noqa: PLC0415 - imports models
        from apps.workflows.selectors import in_service, model_findings, workflow_panel  # noqa: PLC0415 - as above

        scheduled_run_checked.connect(
            raise_finding_for_scheduled_run, dispatch_uid="workflows.raise_finding_for_scheduled_run"
        )

        def project_in_service(*, user: Any, project: Any) -> dict[str, Any]:
            return {"in_service": in_service(project)}

        panels.contribute("registry.version", workflow_panel)
        panels.contribute("registry.model", model_findings)
        panels.contribute("projects.project", project_in_service)
