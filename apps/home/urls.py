"""The home page keeps its historical URL name ``core:home``: portal/urls.py includes these patterns
under the ``core`` namespace, so links and redirects written before the page moved here still work."""

from __future__ import annotations

from django.urls import path

from apps.home import views

urlpatterns = [
    path("", views.home, name="home"),
]
