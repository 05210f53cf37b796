"""Validation suites, runs and their check results.

The database is the source of truth for a run, not the broker: a worker claims a run with a
conditional update and holds a lease; results are written once, with the run's final status.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.validation.choices import CheckStatus, RunStatus, RunTrigger


class ValidationSuite(models.Model):
    """A stored suite (the JSON of DESIGN.md §6) for a project, optionally run on a schedule."""

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="validation_suites")
    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.PROTECT, null=True, blank=True, related_name="validation_suites"
    )
    name = models.CharField(max_length=120)
    spec = models.JSONField()
    reference = models.ForeignKey(
        "registry.DatasetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    current_dataset = models.ForeignKey(
        "registry.Dataset",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Scheduled runs take this dataset's latest version as the current data",
    )
    schedule_hours = models.PositiveIntegerField(null=True, blank=True, help_text="Run every N hours; empty for never")
    last_scheduled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="suite_unique_name")]

    def __str__(self) -> str:
        return self.name


class ValidationRun(models.Model):
    version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="validation_runs")
    suite = models.ForeignKey(ValidationSuite, on_delete=models.PROTECT, null=True, blank=True, related_name="runs")
    spec = models.JSONField(help_text="The suite as it was when the run was created")
    reference = models.ForeignKey("registry.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    current = models.ForeignKey("registry.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices, default=RunTrigger.MANUAL)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    outcome = models.CharField(max_length=10, blank=True, help_text="The engine's overall status: pass, warn, fail")
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="When a message last went to the broker")
    error = models.TextField(blank=True, help_text="Why the run could not complete, for a person")
    curves = models.JSONField(default=dict, blank=True, help_text="Points of the charts (ROC curve)")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="run_queue")]

    def __str__(self) -> str:
        return f"Validation run {self.pk} of {self.version}"

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.ERROR)


def result_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a stored result from one of the engine's result dicts (DESIGN.md section 6), cut to fit."""
    value = item.get("value")
    return {
        "check_name": str(item.get("check") or "")[:20],
        "metric": str(item.get("metric") or "")[:60],
        "column": str(item.get("column") or "")[:256],
        "attribute": str(item.get("attribute") or "")[:256],
        "group": "" if item.get("group") is None else str(item["group"])[:256],
        "value": value if isinstance(value, (int, float)) else None,
        "status": item.get("status") if item.get("status") in CheckStatus.values else CheckStatus.ERROR,
        "threshold": item.get("threshold"),
        "message": str(item.get("message") or ""),
    }


class CheckResult(models.Model):
    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField()
    check_name = models.CharField(max_length=20, help_text="The result's 'check' (a field may not be named check)")
    metric = models.CharField(max_length=60)
    column = models.CharField(max_length=256, blank=True)
    attribute = models.CharField(max_length=256, blank=True)
    group = models.CharField(max_length=256, blank=True)
    value = models.FloatField(null=True, blank=True)
    value_text = models.CharField(max_length=200, blank=True, help_text="A value that is not a number (a digest)")
    status = models.CharField(max_length=10, choices=CheckStatus.choices)
    threshold = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="result_unique_position")]

    def __str__(self) -> str:
        return f"{self.check_name}.{self.metric} {self.status}"

    def as_dict(self) -> dict[str, object]:
        """The result in the shape of DESIGN.md §6 (fields that do not apply are null)."""
        return {
            "check": self.check_name,
            "metric": self.metric,
            "column": self.column or None,
            "attribute": self.attribute or None,
            "group": self.group or None,
            "value": self.value if self.value is not None else (self.value_text or None),
            "status": self.status,
            "threshold": self.threshold,
            "message": self.message or None,
        }
