"""The Celery application shared by the web processes and the workers."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("signet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _mark_task_context(**_: object) -> None:
    from apps.core.context import set_auth_method  # noqa: PLC0415 - the apps load after this module

    set_auth_method("task")
