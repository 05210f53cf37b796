"""Celery tasks of validation: they take ids and call the services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.validation import services


@shared_task(
    bind=True,
    soft_time_limit=settings.SIGNET_VALIDATION_TIME_LIMIT_SECONDS + services.TASK_MARGIN_SECONDS,
    time_limit=settings.SIGNET_VALIDATION_TIME_LIMIT_SECONDS + services.TASK_MARGIN_SECONDS + 30,
)
def execute_run(self, run_id: int) -> str:  # type: ignore[no-untyped-def]
    return services.run_execute(run_id, worker=str(self.request.hostname or ""))


@shared_task
def validation_sweep() -> int:
    return services.runs_sweep()


@shared_task
def validation_schedule() -> int:
    return services.scheduled_runs()
