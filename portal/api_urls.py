"""The REST API, version 1."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.audit.api.urls")),
    path("", include("apps.projects.api.urls")),
    path("", include("apps.registry.api.urls")),
    path("", include("apps.workflows.api.urls")),
    path("", include("apps.notifications.api.urls")),
    path("", include("apps.validation.api.urls")),
    path("", include("apps.portfolio.api.urls")),
    path("", include("apps.integrations.api.urls")),
    path("", include("apps.monitoring.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up code as a script file, not inline: the CSP allows no
    # inline script. Redoc is not offered: it needs inline styles and fonts from the internet (0014).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", template_name="api/swagger_ui.html"),
        name="api_docs",
    ),
]
