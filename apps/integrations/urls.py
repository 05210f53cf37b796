from __future__ import annotations

from django.urls import path

from apps.integrations import views

app_name = "integrations"

urlpatterns = [
    path("connections/", views.connection_list, name="connection_list"),
    path("connections/add/", views.connection_create, name="connection_create"),
    path("connections/<slug:name>/", views.connection_detail, name="connection_detail"),
    path("connections/<slug:name>/edit/", views.connection_edit, name="connection_edit"),
    path("connections/<slug:name>/test/", views.connection_test, name="connection_test"),
    path("connections/<slug:name>/reconcile/", views.connection_reconcile, name="connection_reconcile"),
    path("intake/", views.intake_list, name="intake_list"),
    path("intake/<int:mlflow_model_id>/claim/", views.intake_claim, name="intake_claim"),
]
