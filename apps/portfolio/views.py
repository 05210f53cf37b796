"""The organisation-wide portfolio page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.integrations import selectors as mlflow
from apps.portfolio import selectors

PAGE_SIZE = 200


@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    """What the second line, compliance, audit and administrators oversee (403 for everyone else)."""
    accounts = selectors.accounts_awaiting_owner(viewer=request.user)
    mlflow_models, mlflow_count = mlflow.portfolio_models(viewer=request.user, limit=PAGE_SIZE)
    context = {
        "accounts": accounts[:PAGE_SIZE],
        "accounts_count": accounts.count(),
        "page_size": PAGE_SIZE,
        "mlflow_models": mlflow_models,
        "mlflow_count": mlflow_count,
    }
    return render(request, "portfolio/portfolio.html", context)
