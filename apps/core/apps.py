from __future__ import annotations

from django.apps import AppConfig
from django.core.signals import request_finished

from apps.core.broker import ensure_broker_folders
from apps.core.context import end_request


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Signet core"

    def ready(self) -> None:
        from apps.core import checks  # noqa: PLC0415 - registers the start-up checks, once the apps are ready

        request_finished.connect(end_request, dispatch_uid="signet-end-request")
        ensure_broker_folders()
        checks.log_startup_warnings()
