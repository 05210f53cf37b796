"""Top-level URL map: pages, the API under /api/v1/, health probes and the admin."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import include, path
from django.views.generic import RedirectView

from apps.accounts import views as accounts_views
from apps.core import views as core_views

admin.site.site_header = "Signet administration"
# Signet does not govern with Django's groups and model permissions (docs/decisions/0002).
admin.site.unregister(Group)
# One sign-in page for everything, so every sign-in is throttled and audited the same way.
admin.site.login = RedirectView.as_view(pattern_name="accounts:sign_in", query_string=True)  # type: ignore[assignment]
admin.site.logout = accounts_views.sign_out  # type: ignore[assignment]
admin.site.password_change = RedirectView.as_view(url="/accounts/settings/#password")  # type: ignore[assignment]

urlpatterns = [
    # The home page moved from apps.core to apps.home and keeps its name, core:home.
    path("", include(("apps.home.urls", "core"))),
    path("accounts/", include("apps.accounts.urls")),
    path("audit/", include("apps.audit.urls")),
    path("projects/", include("apps.projects.urls")),
    path("registry/", include("apps.registry.urls")),
    path("workflows/", include("apps.workflows.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("validation/", include("apps.validation.urls")),
    path("portfolio/", include("apps.portfolio.urls")),
    path("integrations/", include("apps.integrations.urls")),
    path("monitoring/", include("apps.monitoring.urls")),
    path("api/v1/", include("portal.api_urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
