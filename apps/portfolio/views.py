"""The organisation-wide portfolio page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.core.ids import parse_id
from apps.core.permissions import require
from apps.integrations import selectors as mlflow
from apps.integrations.models import MlflowModel
from apps.monitoring import summaries
from apps.portfolio import selectors
from apps.portfolio.permissions import PORTFOLIO_DENIED, can_view_portfolio

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
        "monitoring": summaries.portfolio_monitoring(user=request.user),
    }
    return render(request, "portfolio/portfolio.html", context)


@login_required
@require_GET
def monitor_list(request: HttpRequest) -> HttpResponse:
    """The monitors behind one of the portfolio's monitoring numbers (``?state=``), or a 400 naming the choices."""
    require(can_view_portfolio(request.user), PORTFOLIO_DENIED)
    state = request.GET.get("state") or "monitored"
    if state not in summaries.STATES:
        return HttpResponseBadRequest(f"state is one of {', '.join(summaries.STATES)}.")
    monitors = summaries.monitors_in_state(user=request.user, state=state)
    context = {
        "state": state,
        "states": summaries.STATES,
        "title": summaries.STATES[state],
        "monitors": monitors,
        "shown_at_most": summaries.LIST_SHOWN,
    }
    return render(request, "portfolio/monitor_list.html", context)
