"""The MLflow bridge's API routes."""

from __future__ import annotations

from django.urls import path

from apps.integrations.api.webhooks import MlflowWebhookView

urlpatterns = [
    # MLflow's webhooks, one receiver per connection (its name): signed by MLflow, not authenticated.
    path("mlflow/<slug:connection>/webhook/", MlflowWebhookView.as_view(), name="api_mlflow_webhook"),
]
