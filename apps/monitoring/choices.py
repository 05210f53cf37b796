"""The states and kinds of monitoring, in one place."""

from __future__ import annotations

from django.db import models


class MonitorStatus(models.TextChoices):
    ACTIVE = "active", "Watching"
    PAUSED = "paused", "Paused"


class BatchKind(models.TextChoices):
    PREDICTIONS = "predictions", "Predictions"
    OUTCOMES = "outcomes", "Outcomes"


class BatchStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROFILING = "profiling", "Being profiled"
    PROFILED = "profiled", "Profiled"
    QUARANTINED = "quarantined", "Quarantined"
    REFUSED = "refused", "Refused"


class SourceFileStatus(models.TextChoices):
    RECEIVED = "received", "Received as a batch"
    REFUSED = "refused", "Refused"


class WindowSize(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "Day"
    WEEK = "week", "Week"


WINDOW_SECONDS = {WindowSize.HOUR: 3600, WindowSize.DAY: 86400, WindowSize.WEEK: 7 * 86400}
BUCKET_SECONDS = 3600  # a profile covers one UTC hour of a batch; days and weeks are sums of hours

# Batches whose profiles count in the windows (a quarantined or refused batch never does).
COUNTED = (BatchStatus.PROFILING, BatchStatus.PROFILED)
