"""The bridge's pages: MLflow connections (administrators) and the intake list (project owners claim)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.forms import add_service_errors
from apps.core.permissions import acting_user, require
from apps.integrations import selectors
from apps.integrations.forms import ClaimForm, ConnectionForm
from apps.integrations.models import MlflowConnection
from apps.integrations.permissions import CONNECTIONS_DENIED, can_manage_connections, can_see_intake
from apps.integrations.services import connections, governing
from apps.projects.selectors import projects_visible_to

FIELDS = (
    "url",
    "auth_kind",
    "username",
    "secret_env",
    "secret_file",
    "webhook_secret_env",
    "webhook_secret_file",
    "project_tag",
    "protected_aliases",
    "restore_aliases",
    "write_back",
    "enabled",
)


def _connection(request: HttpRequest, name: str) -> MlflowConnection:
    # Refuse first, so a non-administrator learns nothing of which connections exist.
    require(can_manage_connections(request.user), CONNECTIONS_DENIED)
    return get_object_or_404(selectors.connections_visible_to(request.user), name=name)


@login_required
def connection_list(request: HttpRequest) -> HttpResponse:
    require(can_manage_connections(request.user), CONNECTIONS_DENIED)
    return render(
        request, "integrations/connection_list.html", {"connections": selectors.connections_visible_to(request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def connection_create(request: HttpRequest) -> HttpResponse:
    require(can_manage_connections(request.user), CONNECTIONS_DENIED)
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = connections.connection_create(actor=acting_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Connection {connection.name} added. Next: test it, then add the webhook in MLflow."
            )
            return redirect("integrations:connection_detail", name=connection.name)
    status = 400 if request.method == "POST" else 200
    return render(request, "integrations/connection_form.html", {"form": form, "connection": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def connection_edit(request: HttpRequest, name: str) -> HttpResponse:
    connection = _connection(request, name)
    initial = {field: getattr(connection, field) for field in FIELDS}
    form = ConnectionForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            connections.connection_update(actor=acting_user(request), connection=connection, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Connection saved.")
            return redirect("integrations:connection_detail", name=connection.name)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "connection": connection}
    return render(request, "integrations/connection_form.html", context, status=status)


@login_required
def connection_detail(request: HttpRequest, name: str) -> HttpResponse:
    connection = _connection(request, name)
    context: dict[str, Any] = {
        "connection": connection,
        "webhook_url": selectors.webhook_url(connection),
        "webhook_events": selectors.WEBHOOK_EVENTS,
        "protected": sorted((connection.protected_aliases or {}).items()),
    }
    return render(request, "integrations/connection_detail.html", context)


@login_required
@require_POST
def connection_test(request: HttpRequest, name: str) -> HttpResponse:
    connection = _connection(request, name)
    results = connections.connection_test(actor=acting_user(request), connection=connection)
    failed = [r["check"] for r in results if not r["ok"]]
    if failed:
        messages.error(request, f"The test found problems: {', '.join(failed)}. The checks below say what to fix.")
    else:
        messages.success(request, "Every check passed.")
    return redirect("integrations:connection_detail", name=connection.name)


@login_required
@require_POST
def connection_reconcile(request: HttpRequest, name: str) -> HttpResponse:
    connection = _connection(request, name)
    try:
        connections.connection_reconcile_request(actor=acting_user(request), connection=connection)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "A reconcile is queued; a worker reads the whole registry now.")
    return redirect("integrations:connection_detail", name=connection.name)


@login_required
def intake_list(request: HttpRequest) -> HttpResponse:
    """MLflow models no project governs yet; an owner of a project claims them into it."""
    if not can_see_intake(request.user):
        raise PermissionDenied("Sign in with an active account to see the intake list.")
    intake = selectors.intake_visible_to(request.user)
    page = Paginator(intake, 50).get_page(request.GET.get("page"))
    projects = list(selectors.claimable_projects(request.user))
    context = {"page": page, "projects": projects, "claim_form": ClaimForm(projects=projects)}
    return render(request, "integrations/intake_list.html", context)


@login_required
@require_POST
def intake_claim(request: HttpRequest, mlflow_model_id: int) -> HttpResponse:
    mlflow_model = get_object_or_404(selectors.intake_visible_to(request.user), pk=mlflow_model_id)
    form = ClaimForm(request.POST, projects=selectors.claimable_projects(request.user))
    if not form.is_valid():
        messages.error(request, "Choose the project to bring the model into.")
        return redirect("integrations:intake_list")
    project = projects_visible_to(request.user).filter(slug=form.cleaned_data["project"]).first()
    if project is None:
        messages.error(request, "There is no project of that name that you can see.")
        return redirect("integrations:intake_list")
    try:
        model = governing.model_claim(actor=acting_user(request), mlflow_model=mlflow_model, project=project)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("integrations:intake_list")
    messages.success(request, f"{mlflow_model.name} is now governed in {project.name}: its versions follow MLflow.")
    return redirect("registry:model_detail", model_id=model.pk)
