"""The bridge's rows in the admin site, to read: connections change through their audited pages and API."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
from apps.integrations.models import InboundDelivery, MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion


@admin.register(MlflowConnection)
class MlflowConnectionAdmin(ReadOnlyAdmin):
    list_display = ("name", "url", "auth_kind", "enabled", "reconcile_status", "reconciled_at")


@admin.register(MlflowModel)
class MlflowModelAdmin(ReadOnlyAdmin):
    list_display = ("name", "connection", "model", "deleted_at", "seen_at")
    list_filter = ("connection",)
    search_fields = ("name",)


@admin.register(MlflowVersion)
class MlflowVersionAdmin(ReadOnlyAdmin):
    list_display = ("mlflow_model", "number", "version", "artifact_state", "deleted_at")
    list_select_related = ("mlflow_model",)


@admin.register(MlflowAlias)
class MlflowAliasAdmin(ReadOnlyAdmin):
    list_display = ("mlflow_model", "alias", "number", "changed_at")
    list_select_related = ("mlflow_model",)


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("delivery_id", "connection", "event", "state", "received_at")
    list_filter = ("state", "event")
