from __future__ import annotations

from django.urls import path

from apps.portfolio.api import views

urlpatterns = [path("portfolio/", views.PortfolioView.as_view(), name="api_portfolio")]
