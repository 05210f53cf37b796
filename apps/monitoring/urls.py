from __future__ import annotations

from django.urls import path

from apps.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("monitors/<int:monitor_id>/", views.monitor_detail, name="monitor_detail"),
    path("deployments/<int:deployment_id>/monitors/new/", views.monitor_create, name="monitor_create"),
]
