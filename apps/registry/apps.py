from __future__ import annotations

from django.apps import AppConfig

from apps.core import panels


class RegistryConfig(AppConfig):
    name = "apps.registry"
    label = "registry"
    verbose_name = "Model registry and data catalogue"

    def ready(self) -> None:
        from apps.registry import checks  # noqa: F401, PLC0415 - registers the start-up check of the card rules
        from apps.registry.selectors import project_panel  # noqa: PLC0415 - imports models: only once apps are loaded

        panels.contribute("projects.project", project_panel)
