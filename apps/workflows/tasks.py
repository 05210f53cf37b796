"""Periodic work of the approval workflows; tasks call the services."""

from __future__ import annotations

from celery import shared_task

from apps.workflows import services


@shared_task
def workflow_reminders() -> dict[str, int]:
    return services.workflow_reminders()
