from __future__ import annotations

from django.apps import AppConfig


class ValidationConfig(AppConfig):
    name = "apps.validation"
    label = "validation"
    verbose_name = "Validation checks"

    def ready(self) -> None:
        # In-function: the selectors import models, which need the app registry ready.
        from apps.core import panels
        from apps.validation.selectors import validation_panel

        # The registry's version page shows recent runs without importing validation (apps/core/panels.py).
        panels.contribute("registry.version", validation_panel)
