"""The catalogue: search projects, models and datasets to find and reuse what exists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.projects.choices import ProjectStatus, RiskTier
from apps.registry import selectors
from apps.registry.views.common import query_params


@login_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """Search projects, models and datasets people may see, to find and reuse what exists."""
    params = query_params(request, "q", "kind", "tier", "status", "owner")
    if params["kind"] not in ("", "projects", "models", "datasets"):
        params["kind"] = ""
    results = selectors.catalogue_search(
        user=request.user,
        query=params["q"],
        kind=params["kind"],
        tier=params["tier"],
        status=params["status"],
        owner=params["owner"],
    )
    context = {"params": params, "results": results, "tiers": RiskTier.choices, "statuses": ProjectStatus.choices}
    return render(request, "registry/catalogue.html", context)
