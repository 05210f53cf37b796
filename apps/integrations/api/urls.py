"""The MLflow bridge's API routes."""

from __future__ import annotations

from django.urls import path

from apps.integrations.api import views
from apps.integrations.api.webhooks import MlflowWebhookView

urlpatterns = [
    # The connections, the intake list and claims (the pages' helper). Before the webhook route, so that
    # /mlflow/connections/webhook/ is the connection "webhook"; "connections" and "intake" are no
    # connection's names (services/connections.py), so no receiver hides behind these routes.
    path("mlflow/connections/", views.ConnectionListView.as_view(), name="api_mlflow_connections"),
    path("mlflow/connections/<slug:name>/", views.ConnectionDetailView.as_view(), name="api_mlflow_connection"),
    path("mlflow/connections/<slug:name>/test/", views.ConnectionTestView.as_view(), name="api_mlflow_connection_test"),
    path(
        "mlflow/connections/<slug:name>/reconcile/",
        views.ConnectionReconcileView.as_view(),
        name="api_mlflow_connection_reconcile",
    ),
    path("mlflow/intake/", views.IntakeListView.as_view(), name="api_mlflow_intake"),
    path("mlflow/intake/<int:mlflow_model_id>/claim/", views.IntakeClaimView.as_view(), name="api_mlflow_claim"),
    # MLflow's webhooks, one receiver per connection (its name): signed by MLflow, not authenticated.
    path("mlflow/<slug:connection>/webhook/", MlflowWebhookView.as_view(), name="api_mlflow_webhook"),
]
