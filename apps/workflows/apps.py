from __future__ import annotations

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "apps.workflows"
    label = "workflows"
    verbose_name = "Approval workflows"

    def ready(self) -> None:
        from apps.core import panels  # AppConfig.ready: the app registry is loading
        from apps.validation.signals import scheduled_run_checked  # as above
        from apps.workflows import receivers  # imports models, loaded only by now
        from apps.workflows.selectors import workflow_panel  # imports models, as above

        scheduled_run_checked.connect(receivers.scheduled_run_checked, dispatch_uid="workflows.scheduled_run_checked")
        panels.contribute("registry.version", workflow_panel)
