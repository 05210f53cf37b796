from __future__ import annotations

from django.apps import AppConfig

from apps.core import panels


class ValidationConfig(AppConfig):
    name = "apps.validation"
    label = "validation"
    verbose_name = "Validation checks"

    def ready(self) -> None:
        # The registry's version page shows the validation runs without importing this app.
        from apps.validation.selectors import validation_panel  # noqa: PLC0415 - imports models: once apps are loaded

        panels.contribute("registry.version", validation_panel)
