from __future__ import annotations

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "apps.workflows"
    label = "workflows"
    verbose_name = "Approval workflows"

    def ready(self) -> None:
        # In-function: receivers import models and services, which need the app registry ready.
        from apps.validation.signals import scheduled_run_checked
        from apps.workflows.receivers import raise_finding_for_scheduled_run

        scheduled_run_checked.connect(
            raise_finding_for_scheduled_run, dispatch_uid="workflows.raise_finding_for_scheduled_run"
        )
