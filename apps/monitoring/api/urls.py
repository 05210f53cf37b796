from __future__ import annotations

from django.urls import path

from apps.monitoring.api import views

urlpatterns = [
    path("monitors/", views.MonitorListView.as_view(), name="api_monitors"),
    path("monitors/<int:monitor_id>/", views.MonitorDetailView.as_view(), name="api_monitor"),
    path("monitors/<int:monitor_id>/batches/", views.BatchListView.as_view(), name="api_monitor_batches"),
    path(
        "monitors/<int:monitor_id>/source-files/", views.SourceFileListView.as_view(), name="api_monitor_source_files"
    ),
    path("monitors/<int:monitor_id>/ingest/", views.MonitorIngestView.as_view(), name="api_monitor_ingest"),
    path("monitors/<int:monitor_id>/windows/", views.WindowListView.as_view(), name="api_monitor_windows"),
    path("monitors/<int:monitor_id>/breaches/", views.BreachListView.as_view(), name="api_monitor_breaches"),
    path(
        "projects/<slug:slug>/kpis/<int:kpi_id>/actuals/",
        views.KpiActualListView.as_view(),
        name="api_project_kpi_actuals",
    ),
]
