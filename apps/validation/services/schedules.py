"""Queue the runs of scheduled suites: re-validate what serves on the latest current data."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.registry.choices import VersionStatus
from apps.registry.models import DatasetVersion, ModelVersion
from apps.validation.choices import RunTrigger
from apps.validation.models import ValidationRun, ValidationSuite
from apps.validation.services.common import enqueue_after_commit


def scheduled_runs(*, now: datetime | None = None) -> int:
    """Queue the runs of scheduled suites that are due, on the model's serving version; return how many."""
    now = now or timezone.now()
    queued = 0
    suites = ValidationSuite.objects.filter(schedule_hours__isnull=False).select_related(
        "model", "project", "reference"
    )
    for suite in suites:
        assert suite.schedule_hours is not None
        if suite.last_scheduled_at and suite.last_scheduled_at > now - timedelta(hours=suite.schedule_hours):
            continue
        version = (
            ModelVersion.objects.filter(model=suite.model, status__in=(VersionStatus.DEPLOYED, VersionStatus.APPROVED))
            .order_by("-status", "-number")  # deployed sorts after approved: prefer it
            .first()
        )
        current = (
            DatasetVersion.objects.filter(dataset=suite.current_dataset).exclude(file="").order_by("-number").first()
        )
        with transaction.atomic():
            locked = ValidationSuite.objects.select_for_update(no_key=True).get(pk=suite.pk)
            if locked.last_scheduled_at != suite.last_scheduled_at:
                continue  # another beat got there first
            locked.last_scheduled_at = now
            locked.save(update_fields=["last_scheduled_at"])
            if version is None or current is None or suite.reference is None or current.pk == suite.reference_id:
                continue  # nothing serves, no data, or no data newer than the reference: nothing to re-validate
            run = ValidationRun.objects.create(
                version=version, suite=suite, spec=suite.spec, reference=suite.reference, current=current,
                trigger=RunTrigger.SCHEDULE, enqueued_at=now,
            )  # fmt: skip
            audit_record(
                actor=None,
                actor_name="schedule",
                action=Action.RUN_CREATED,
                target=run,
                project=suite.project,
                data={"version": version.pk, "reference": suite.reference_id, "current": current.pk,
                      "suite": suite.name, "trigger": "schedule"},
            )  # fmt: skip
            enqueue_after_commit(run.pk)
            queued += 1
    return queued
