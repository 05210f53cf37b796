from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Signet core"

    def ready(self) -> None:
        from apps.core import checks  # registers the start-up checks
        from portal.celery import ensure_broker_folders

        ensure_broker_folders()
        checks.log_startup_warnings()
