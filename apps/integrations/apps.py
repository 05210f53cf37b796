from __future__ import annotations

from django.apps import AppConfig

from apps.core import panels


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "MLflow bridge"

    def ready(self) -> None:
        # The registry's model and version pages show the MLflow side without importing this app.
        from apps.integrations.selectors import model_panel, version_panel  # noqa: PLC0415 - imports models

        panels.contribute("registry.model", model_panel)
        panels.contribute("registry.version", version_panel)
