from __future__ import annotations

from django.urls import path

from apps.portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("monitors/", views.monitor_list, name="monitor_list"),
]
