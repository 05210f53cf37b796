from __future__ import annotations

from django.apps import AppConfig


class ValidationConfig(AppConfig):
    name = "apps.validation"
    label = "validation"
    verbose_name = "Validation checks"
