"""The organisation-wide portfolio page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from apps.core.ids import parse_id
from apps.integrations import selectors as mlflow
from apps.integrations.models import MlflowModel
from apps.portfolio import selectors

# The page shows this many rows of each list; the MLflow models page on with ``?mlflow_after=<id>``.
SHOWN = 50


@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    """What the second line, compliance, audit and administrators oversee (403 for everyone else)."""
    accounts = selectors.accounts_awaiting_owner(viewer=request.user)
    raw_after = request.GET.get("mlflow_after")
    after = parse_id(raw_after)
    if raw_after is not None and after is None:
        return HttpResponseBadRequest("mlflow_after is the id of the last MLflow model of the previous page.")
    try:
        mlflow_models, mlflow_count = mlflow.portfolio_models(viewer=request.user, limit=SHOWN + 1, after=after)
    except MlflowModel.DoesNotExist:
        return HttpResponseBadRequest(
            "mlflow_after names no MLflow model that Signet governs; start again from the top."
        )
    context = {
        "accounts": accounts[:SHOWN],
        "accounts_count": accounts.count(),
        "page_size": SHOWN,
        "mlflow_models": mlflow_models[:SHOWN],
        "mlflow_count": mlflow_count,
        "mlflow_next": mlflow_models[SHOWN - 1].pk if len(mlflow_models) > SHOWN else None,
        "mlflow_after": after,
    }
    return render(request, "portfolio/portfolio.html", context)
