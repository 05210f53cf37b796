from __future__ import annotations

from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Passed"
    FAILED = "failed", "Failed checks"
    ERROR = "error", "Could not run"


FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.ERROR)


class CheckStatus(models.TextChoices):
    PASS = "pass", "Pass"
    WARN = "warn", "Warning"
    FAIL = "fail", "Fail"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped"


class RunTrigger(models.TextChoices):
    MANUAL = "manual", "Started by a person"
    SCHEDULE = "schedule", "Scheduled re-validation"
