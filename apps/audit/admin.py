from __future__ import annotations

from django.contrib import admin

from apps.audit.models import AuditCheckpoint, AuditEvent
from apps.core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the trail is written by the audit service and refused any change by the database."""

    list_display = ("seq", "occurred_at", "actor_name", "action", "target_type", "target_repr", "project_slug")
    list_filter = ("action", "auth_method")
    search_fields = ("action", "actor_name", "target_repr", "request_id")
    ordering = ("-seq",)


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    """Read-only: checkpoints are signed by the beat task and refused any change by the database."""

    list_display = ("seq", "signed_at", "key_id", "head_hash")
    ordering = ("-seq",)
