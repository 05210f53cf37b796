from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api import strict
from apps.core.api.fields import IdField, JSONObjectField, JSONObjectListField
from apps.monitoring.choices import BatchKind, WindowSize
from apps.monitoring.models import Batch, Breach, KpiActual, Monitor, SourceFile, WindowResult
from apps.projects.choices import ProjectRole


class MonitorSerializer(strict.ModelSerializer[Monitor]):
    model = strict.CharField(source="version.model.name", read_only=True)
    version_number = strict.IntegerField(source="version.number", read_only=True)
    environment = strict.CharField(source="deployment.environment", read_only=True)
    created_by = strict.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = Monitor
        fields = (
            "id", "name", "model", "version", "version_number", "deployment", "environment", "reference", "spec",
            "id_column", "timestamp_column", "window_sizes", "breach_window", "notify_roles", "gate_blocking",
            "expected_interval_minutes", "retention_days", "outcome_lookback_days", "status", "last_batch_at",
            "feed_late_since", "source", "source_scanned_at", "source_error", "created_by", "created_at",
        )  # fmt: skip
        read_only_fields = fields


class MonitorSourceSerializer(serializers.Serializer[dict[str, Any]]):
    source = strict.CharField(  # type: ignore[assignment]  # the API field "source"; DRF pops declared fields
        max_length=1000,
        allow_blank=True,
        help_text="A folder inside the allowed roots, or storage://<prefix>; '' for none",
    )


class SourceFileSerializer(strict.ModelSerializer[SourceFile]):
    class Meta:
        model = SourceFile
        fields = ("id", "monitor", "location", "kind", "size", "sha256", "status", "reason", "batch", "first_seen_at",
                  "read_at")  # fmt: skip
        read_only_fields = fields


class MonitorCreateSerializer(serializers.Serializer[dict[str, Any]]):
    deployment = IdField()
    name = strict.CharField(max_length=120)
    reference = IdField(required=False, allow_null=True, default=None, help_text="Dataset version; default: "
                        "the current data of the version's newest passing validation run")  # fmt: skip
    spec = JSONObjectField(required=False, default=None, help_text="A suite (DESIGN.md §6); default: that run's")
    id_column = strict.CharField(max_length=256, required=False, default="prediction_id")
    timestamp_column = strict.CharField(max_length=256, required=False, default="timestamp")
    window_sizes = serializers.ListField(
        child=strict.ChoiceField(choices=WindowSize.choices), required=False, max_length=3, default=None
    )
    breach_window = strict.ChoiceField(choices=WindowSize.choices, required=False, default=WindowSize.DAY)
    notify_roles = serializers.ListField(
        child=strict.ChoiceField(choices=ProjectRole.choices), required=False, max_length=7, default=None
    )
    gate_blocking = strict.BooleanField(required=False, default=False)
    expected_interval_minutes = strict.IntegerField(
        min_value=1, max_value=525_600, required=False, allow_null=True, default=None
    )
    retention_days = strict.IntegerField(min_value=1, max_value=3650, required=False, default=90)
    outcome_lookback_days = strict.IntegerField(min_value=1, max_value=3650, required=False, default=30)
    source = strict.CharField(  # type: ignore[assignment]  # the API field "source"; DRF pops declared fields
        max_length=1000, required=False, allow_blank=True, default="", help_text="Where the worker reads batches"
    )


class BatchSerializer(strict.ModelSerializer[Batch]):
    received_by = strict.CharField(source="received_by.username", read_only=True)
    raw_kept = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = (
            "id", "monitor", "kind", "format", "original_name", "sha256", "key", "size", "row_count", "status",
            "reason", "attempts", "first_at", "last_at", "received_by", "received_at", "profiled_at", "raw_kept",
        )  # fmt: skip
        read_only_fields = fields

    def get_raw_kept(self, batch: Batch) -> bool:
        return bool(batch.file)


class BatchRowsSerializer(serializers.Serializer[dict[str, Any]]):
    kind = strict.ChoiceField(choices=BatchKind.choices, required=False, default=BatchKind.PREDICTIONS)
    key = strict.CharField(max_length=200, required=False, default="", allow_blank=True)
    rows = JSONObjectListField(help_text="One object per prediction (or outcome): column name to value")


class WindowResultSerializer(strict.ModelSerializer[WindowResult]):
    check = strict.CharField(source="check_name", read_only=True)
    column = serializers.SerializerMethodField()
    attribute = serializers.SerializerMethodField()
    group = serializers.SerializerMethodField()

    class Meta:
        model = WindowResult
        fields = (
            "size", "start", "end", "check", "metric", "column", "attribute", "group", "value", "status",
            "threshold", "message", "rows",
        )  # fmt: skip
        read_only_fields = fields

    def get_column(self, obj: WindowResult) -> str | None:
        return obj.column or None

    def get_attribute(self, obj: WindowResult) -> str | None:
        return obj.attribute or None

    def get_group(self, obj: WindowResult) -> str | None:
        return obj.group or None


class BreachSerializer(strict.ModelSerializer[Breach]):
    check = strict.CharField(source="check_name", read_only=True)
    open = strict.BooleanField(source="is_open", read_only=True)

    class Meta:
        model = Breach
        fields = (
            "id", "monitor", "check", "metric", "column", "attribute", "group", "size", "window_start", "value",
            "threshold", "message", "finding", "open", "opened_at", "recovered_at", "recovered_window_start",
        )  # fmt: skip
        read_only_fields = fields


class KpiActualSerializer(strict.ModelSerializer[KpiActual]):
    kpi = strict.IntegerField(source="measurement.kpi_id", read_only=True)
    value = strict.CharField(source="measurement.value", read_only=True)
    measured_at = strict.DateTimeField(source="measurement.measured_at", read_only=True)
    recorded_by = strict.CharField(source="measurement.recorded_by.username", read_only=True)
    version = serializers.SerializerMethodField()

    class Meta:
        model = KpiActual
        fields = ("id", "kpi", "value", "measured_at", "recorded_by", "deployment", "version", "missed")
        read_only_fields = fields

    def get_version(self, actual: KpiActual) -> int | None:
        return actual.deployment.version_id if actual.deployment else None


class KpiActualCreateSerializer(serializers.Serializer[dict[str, Any]]):
    value = serializers.DecimalField(max_digits=18, decimal_places=6)
    measured_at = strict.DateTimeField(required=False, allow_null=True, default=None)
