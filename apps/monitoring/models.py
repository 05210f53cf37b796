"""Monitors of deployed versions, the batches of production data they receive, and what is made of them.

The database is the source of truth for a batch, not the broker: a worker claims a batch with a
conditional update and holds a lease, as validation runs do (apps/validation/services/leases.py).
Raw batches and their profiles are files in Django storage; the rows here say what they are.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.monitoring.choices import BatchKind, BatchStatus, MonitorStatus, SourceFileStatus, WindowSize


def default_windows() -> list[str]:
    return [WindowSize.HOUR, WindowSize.DAY, WindowSize.WEEK]


def default_notify() -> list[str]:
    return ["owner", "developer"]


class Monitor(models.Model):
    """Watches one deployment of a version against its reference, with a validation suite's checks."""

    deployment = models.ForeignKey("workflows.Deployment", on_delete=models.PROTECT, related_name="monitors")
    # The deployment's version, kept here so the gate asks one indexed question.
    version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="monitors")
    name = models.CharField(max_length=120)
    reference = models.ForeignKey("registry.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    spec = models.JSONField(help_text="The suite (DESIGN.md section 6): column mapping, checks and thresholds")
    reference_state = models.JSONField(help_text="The engine's Reference: bins and counts fixed by the reference")
    id_column = models.CharField(max_length=256, default="prediction_id")
    timestamp_column = models.CharField(max_length=256, default="timestamp")
    window_sizes = models.JSONField(default=default_windows)
    breach_window = models.CharField(max_length=10, choices=WindowSize.choices, default=WindowSize.DAY)
    notify_roles = models.JSONField(default=default_notify, help_text="Project roles told of breaches")
    gate_blocking = models.BooleanField(default=False, help_text="While a metric breaches, the gate refuses")
    expected_interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    retention_days = models.PositiveSmallIntegerField(default=90, help_text="Raw batches are kept this long")
    outcome_lookback_days = models.PositiveSmallIntegerField(
        default=30, help_text="Outcomes join predictions received this many days before them"
    )
    status = models.CharField(max_length=10, choices=MonitorStatus.choices, default=MonitorStatus.ACTIVE)
    last_batch_at = models.DateTimeField(null=True, blank=True)
    feed_late_since = models.DateTimeField(null=True, blank=True, help_text="When the owners heard it is not fed")
    # Where the worker reads batches on a schedule (docs/monitoring.md, "From a folder or a storage URI").
    source = models.CharField(
        max_length=1000,
        blank=True,
        help_text="A folder under SIGNET_MONITORING_INGEST_ROOTS, or storage://<prefix>/ in the ingest storage",
    )
    source_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_scanned_at = models.DateTimeField(null=True, blank=True, help_text="The end of the last reading")
    source_error = models.TextField(blank=True, help_text="Why the last reading of the source failed as a whole")
    # A reading of the source holds this lease, so the schedule and an on-demand reading never overlap.
    source_lease_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["deployment", "name"], name="monitor_unique_name")]
        indexes = [models.Index(fields=["version", "gate_blocking"], name="monitor_version_gate")]

    def __str__(self) -> str:
        return self.name


class Batch(models.Model):
    """One file of predictions or outcomes, received once (its key and its SHA-256 are unique)."""

    monitor = models.ForeignKey(Monitor, on_delete=models.PROTECT, related_name="batches")
    kind = models.CharField(max_length=12, choices=BatchKind.choices)
    file = models.FileField(max_length=300, blank=True, help_text="The raw batch; emptied after the retention")
    format = models.CharField(max_length=10)
    original_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    key = models.CharField(max_length=200, help_text="The sender's batch key (its SHA-256 when none was given)")
    size = models.BigIntegerField()
    row_count = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.RECEIVED)
    reason = models.TextField(blank=True, help_text="Why the batch was quarantined or refused, for a person")
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # New outcomes arrived for a profiled prediction batch: it is profiled again with them.
    needs_refresh = models.BooleanField(default=False)
    outcomes_through = models.BigIntegerField(default=0, help_text="The last outcome batch its profiles include")
    first_at = models.DateTimeField(null=True, blank=True)
    last_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    profiled_at = models.DateTimeField(null=True, blank=True)
    raw_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["monitor", "key"], name="batch_unique_key"),
            models.UniqueConstraint(fields=["monitor", "kind", "sha256"], name="batch_unique_content"),
        ]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"], name="batch_queue"),
            models.Index(fields=["monitor", "kind", "received_at"], name="batch_monitor_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} batch {self.pk} of {self.monitor}"


class PredictionId(models.Model):
    """A prediction id a monitor has counted, as a 64-bit digest: the unique index refuses counting it twice.

    Filled by COPY when a predictions batch is received, in its transaction; forgotten when the batch
    is quarantined or its raw file passes the retention (docs/monitoring.md, "Sent twice, counted once").
    """

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    digest = models.BigIntegerField(help_text="The first 8 bytes of BLAKE2b of the id as text, signed")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monitor", "digest"], name="prediction_id_counted_once")]
        indexes = [models.Index(fields=["batch"], name="prediction_id_batch")]

    def __str__(self) -> str:
        return f"Prediction {self.digest} of batch {self.batch_id}"


class SourceFile(models.Model):
    """A file the worker found in a monitor's source: the batch it became, or why it was refused.

    One row per location; a refused file is read again only once its size, time or content change.
    """

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="source_files")
    location = models.CharField(max_length=1200, help_text="The file's full path or storage:// name")
    kind = models.CharField(max_length=12, choices=BatchKind.choices)
    size = models.BigIntegerField()
    modified_at = models.DateTimeField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=SourceFileStatus.choices)
    reason = models.TextField(blank=True)
    batch = models.ForeignKey(Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    first_seen_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(default=timezone.now, help_text="When its current content was read")

    class Meta:
        ordering = ["-read_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["monitor", "location"], name="source_file_unique")]

    def __str__(self) -> str:
        return f"{self.location} ({self.get_status_display()})"


class BatchProfile(models.Model):
    """The engine's exact summary of one batch's rows in one UTC hour (a JSON file in storage)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="profiles")
    monitor = models.ForeignKey(Monitor, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    rows = models.BigIntegerField()
    labelled = models.BigIntegerField(default=0)
    file = models.FileField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start", "batch"]
        constraints = [models.UniqueConstraint(fields=["batch", "start"], name="profile_one_per_hour")]
        indexes = [models.Index(fields=["monitor", "start"], name="profile_monitor_start")]

    def __str__(self) -> str:
        return f"Profile of batch {self.batch_id} at {self.start:%Y-%m-%d %H:00}"


class WindowResult(models.Model):
    """One result (DESIGN.md section 6's shape) of a monitor's window: a metric at a point in time."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="window_results")
    size = models.CharField(max_length=10, choices=WindowSize.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    position = models.PositiveIntegerField()
    check_name = models.CharField(max_length=20)
    metric = models.CharField(max_length=60)
    column = models.CharField(max_length=256, blank=True)
    attribute = models.CharField(max_length=256, blank=True)
    group = models.CharField(max_length=256, blank=True)
    value = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10)
    threshold = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True)
    rows = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["monitor", "size", "start", "position"]
        constraints = [
            models.UniqueConstraint(fields=["monitor", "size", "start", "position"], name="window_result_unique")
        ]
        indexes = [models.Index(fields=["monitor", "size", "metric", "start"], name="window_metric_series")]

    def __str__(self) -> str:
        return f"{self.check_name}.{self.metric} {self.size} {self.start:%Y-%m-%d %H:00}: {self.status}"

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check_name,
            "metric": self.metric,
            "column": self.column or None,
            "attribute": self.attribute or None,
            "group": self.group or None,
            "value": self.value,
            "status": self.status,
            "threshold": self.threshold,
            "message": self.message or None,
        }


class Breach(models.Model):
    """A metric of a monitor out of its threshold; open until a later window has it back within."""

    monitor = models.ForeignKey(Monitor, on_delete=models.PROTECT, related_name="breaches")
    key = models.CharField(max_length=700, help_text="check:metric:column:attribute:group")
    check_name = models.CharField(max_length=20)
    metric = models.CharField(max_length=60)
    column = models.CharField(max_length=256, blank=True)
    attribute = models.CharField(max_length=256, blank=True)
    group = models.CharField(max_length=256, blank=True)
    size = models.CharField(max_length=10, choices=WindowSize.choices)
    window_start = models.DateTimeField(help_text="The window where it crossed the threshold")
    value = models.FloatField(null=True, blank=True)
    threshold = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True)
    finding = models.ForeignKey("workflows.Finding", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    recovered_at = models.DateTimeField(null=True, blank=True)
    recovered_window_start = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "key"], condition=Q(recovered_at__isnull=True), name="breach_one_open_per_metric"
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitor}: {self.check_name} {self.metric} breached"

    @property
    def is_open(self) -> bool:
        return self.recovered_at is None


class KpiActual(models.Model):
    """Which deployment was in production when a KPI value was measured (the value is the projects' row)."""

    measurement = models.OneToOneField("projects.KpiMeasurement", on_delete=models.CASCADE, related_name="actual")
    deployment = models.ForeignKey(
        "workflows.Deployment", on_delete=models.PROTECT, null=True, blank=True, related_name="kpi_actuals"
    )
    missed = models.BooleanField(default=False, help_text="The value misses the KPI's target")

    class Meta:
        ordering = ["measurement"]

    def __str__(self) -> str:
        return f"{self.measurement} under {self.deployment or 'no deployment'}"
