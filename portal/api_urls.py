"""The REST API, version 1."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.audit.api.urls")),
    path("", include("apps.projects.api.urls")),
    path("", include("apps.registry.api.urls")),
    path("", include("apps.workflows.api.urls")),
    path("", include("apps.notifications.api.urls")),
    path("", include("apps.validation.api.urls")),
    path("", include("apps.portfolio.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
]
