"""Validation pages: start a run from a version, follow it live, read and export its results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.core import export
from apps.core.forms import add_service_errors
from apps.core.permissions import acting_user, require
from apps.projects.models import Project
from apps.projects.selectors import project_get
from apps.registry import selectors as registry_selectors
from apps.registry.models import DatasetVersion
from apps.validation import presenters, selectors, services
from apps.validation.filters import SuiteFilter
from apps.validation.forms import RunForm, SuiteForm
from apps.validation.models import ValidationRun, ValidationSuite
from apps.validation.permissions import can_validate

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from apps.accounts.models import User


def _project_data(user: User | AnonymousUser, project: Project) -> list[DatasetVersion]:
    return list(
        registry_selectors.dataset_versions_visible_to(user)
        .filter(dataset__project=project)
        .exclude(file="")
        .select_related("dataset")
        .order_by("dataset__name", "-number")
    )


@login_required
@require_http_methods(["GET", "POST"])
def run_create(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(
        registry_selectors.versions_visible_to(request.user).select_related("model__project"), pk=version_id
    )
    project = version.model.project
    require(can_validate(request.user, project), services.VALIDATE_DENIED)
    datasets = _project_data(request.user, project)
    suites = list(selectors.suites_visible_to(request.user).filter(project=project))
    form = RunForm(request.POST or None, datasets=datasets, suites=suites)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_pk = {d.pk: d for d in datasets}
        try:
            run = services.run_create(
                actor=acting_user(request),
                version=version,
                reference=by_pk[data["reference"]],
                current=by_pk[data["current"]],
                spec=data["spec"],
                suite=next((s for s in suites if s.pk == data["suite"]), None),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Validation run queued; this page follows it.")
            return redirect("validation:run_detail", run_id=run.pk)
    status = 400 if request.method == "POST" else 200
    context = {"version": version, "project": project, "form": form, "no_data": not datasets}
    return render(request, "validation/run_form.html", context, status=status)


def _run_get(request: HttpRequest, run_id: int) -> ValidationRun:
    return get_object_or_404(selectors.runs_visible_to(request.user), pk=run_id)


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_get(request, run_id)
    if request.htmx and not request.GET.get("full"):  # type: ignore[attr-defined]
        if not run.finished:
            return render(request, "validation/partials/_progress.html", {"run": run})
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"  # show the results once
        return response
    results = list(run.results.all())
    parts = presenters.sections(results)
    history = selectors.metric_history(run) if run.finished else {}
    context = {
        "run": run,
        "version": run.version,
        "project": run.version.model.project,
        "sections": parts,
        "summary": presenters.summary(run, parts),
        "drift": presenters.drift_bars(results),
        "groups": presenters.group_bars(results),
        "roc": presenters.roc_path(run),
        "history": {metric: [value for _run, value in points] for metric, points in history.items()},
        "history_runs": {metric: len(points) for metric, points in history.items()},
    }
    return render(request, "validation/run_detail.html", context)


@login_required
@require_GET
def run_export(request: HttpRequest, run_id: int, fmt: str) -> HttpResponseBase:
    if fmt not in ("csv", "json"):
        raise Http404
    run = _run_get(request, run_id)
    rows = [result.as_dict() for result in run.results.all()]
    if fmt == "json":
        response: HttpResponse = JsonResponse({"run": run.pk, "status": run.outcome or run.status, "results": rows})
        response["Content-Disposition"] = f'attachment; filename="validation-run-{run.pk}.json"'
        return response
    fields = ["check", "metric", "column", "attribute", "group", "value", "status", "threshold", "message"]
    return export.export_response(export.csv_lines(fields, rows), export_format="csv", stem=f"validation-run-{run.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def suite_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_get(user=request.user, slug=slug)
    may_edit = can_validate(request.user, project)
    versions = _project_data(request.user, project)
    models = list(project.models.all())
    datasets = list(registry_selectors.datasets_visible_to(request.user).filter(project=project))
    form = SuiteForm(request.POST or None, models=models, datasets=datasets, versions=versions)
    if request.method == "POST":
        require(may_edit, services.VALIDATE_DENIED)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.suite_create(
                    actor=acting_user(request),
                    project=project,
                    name=data["name"],
                    spec=data["spec"],
                    model=next((m for m in models if m.pk == data["model"]), None),
                    reference=next((v for v in versions if v.pk == data["reference"]), None),
                    current_dataset=next((d for d in datasets if d.pk == data["current_dataset"]), None),
                    schedule_hours=data["schedule_hours"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Suite saved.")
                return redirect("validation:suite_list", slug=project.slug)
    # The page's project is its own: a ?project= of another project filters nothing away from it.
    listed = SuiteFilter(request.GET, queryset=selectors.suites_visible_to(request.user).filter(project=project))
    filtered = listed.is_valid()
    context = {
        "project": project,
        "models": models,
        "suites": listed.qs if filtered else ValidationSuite.objects.none(),
        "filter_errors": [error for errors in listed.errors.values() for error in errors],
        "model_filter": listed.form.cleaned_data.get("model") if filtered else None,
        "form": form if may_edit else None,
    }
    bad = request.method == "POST" or not filtered
    return render(request, "validation/suite_list.html", context, status=400 if bad else 200)
