"""Monitoring in the admin site: lists to read; every change goes through the services."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
from apps.monitoring.models import Batch, Breach, Monitor, SourceFile


@admin.register(Monitor)
class MonitorAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "deployment", "status", "gate_blocking", "last_batch_at", "source")
    list_filter = ("status", "gate_blocking")


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ("pk", "monitor", "kind", "status", "row_count", "received_at")
    list_filter = ("kind", "status")


@admin.register(Breach)
class BreachAdmin(ReadOnlyAdmin):
    list_display = ("monitor", "check_name", "metric", "column", "opened_at", "recovered_at")


@admin.register(SourceFile)
class SourceFileAdmin(ReadOnlyAdmin):
    list_display = ("location", "monitor", "kind", "status", "batch", "read_at")
    list_filter = ("kind", "status")
