from __future__ import annotations

from django.urls import path

from apps.audit.api import views

urlpatterns = [
    path("audit-events/", views.AuditEventListView.as_view(), name="api_audit_events"),
]
