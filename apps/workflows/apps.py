from __future__ import annotations

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "apps.workflows"
    label = "workflows"
    verbose_name = "Approval workflows"

    def ready(self) -> None:
        # Imported here: receivers and selectors import models, which are not loaded before ready().
        from apps.core import panels
        from apps.validation.signals import scheduled_run_checked
        from apps.workflows import receivers
        from apps.workflows.selectors import workflow_panel

        scheduled_run_checked.connect(receivers.scheduled_run_checked, dispatch_uid="workflows.scheduled_run_checked")
        panels.contribute("registry.version", workflow_panel)
