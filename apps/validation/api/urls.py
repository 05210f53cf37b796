from __future__ import annotations

from django.urls import path

from apps.validation.api import views

urlpatterns = [
    path("validation-runs/", views.ValidationRunListView.as_view(), name="api_validation_runs"),
    path("validation-runs/<int:run_id>/", views.ValidationRunDetailView.as_view(), name="api_validation_run"),
    path("validation-suites/", views.ValidationSuiteListView.as_view(), name="api_validation_suites"),
]
