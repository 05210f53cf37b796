from __future__ import annotations

from django.apps import AppConfig

from apps.core import panels


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "MLflow bridge"

    def ready(self) -> None:
        # The registry's model and version pages show the MLflow side without importing this app.
        # Owners see on their project's page what waits for them in the intake list.
        from apps.integrations.selectors import (  # noqa: PLC0415 - imports models
            model_panel,
            project_intake_panel,
            version_panel,
        )

        panels.contribute("registry.model", model_panel)
        panels.contribute("registry.version", version_panel)
        panels.contribute("projects.project", project_intake_panel)
