"""Registry pages of the data catalogue: datasets, their versions, uploads and downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.forms import add_service_errors
from apps.core.permissions import acting_user, require
from apps.projects.selectors import project_get
from apps.registry import permissions as can
from apps.registry import selectors, services
from apps.registry.choices import FileFormat
from apps.registry.filters import DatasetFilter
from apps.registry.forms import DatasetForm, DatasetLinkForm, DatasetUploadForm
from apps.registry.uploads import too_large_message, upload_too_large
from apps.registry.views.common import form_status, query_params


@login_required
@require_GET
def dataset_list(request: HttpRequest) -> HttpResponse:
    params = {**DatasetFilter.read(request.GET), **query_params(request, "sort")}
    datasets = selectors.dataset_list(user=request.user, filters=params, sort=params["sort"])
    return render(request, "registry/dataset_list.html", {"datasets": datasets, "params": params})


@login_required
@require_http_methods(["GET", "POST"])
def dataset_edit(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = _dataset_get(request, dataset_id)
    require(can.can_edit_dataset(request.user, dataset), can.BUILD_DENIED)
    initial = {f: getattr(dataset, f) for f in services.DATASET_FIELDS}
    form = DatasetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.dataset_update(actor=acting_user(request), dataset=dataset, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Dataset saved.")
            return redirect("registry:dataset_detail", dataset_id=dataset.pk)
    context = {"form": form, "project": dataset.project, "dataset": dataset}
    return render(request, "registry/dataset_form.html", context, status=form_status(request))


@login_required
@require_http_methods(["GET", "POST"])
def dataset_create(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_get(user=request.user, slug=slug)
    require(can.can_add_dataset(request.user, project), can.BUILD_DENIED)
    form = DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dataset = services.dataset_create(actor=acting_user(request), project=project, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Dataset {dataset.name} added. Next: upload its first version.")
            return redirect("registry:dataset_detail", dataset_id=dataset.pk)
    return render(
        request, "registry/dataset_form.html", {"form": form, "project": project}, status=form_status(request)
    )


def _dataset_page(request: HttpRequest, dataset: Any, status: int = 200, **forms: Any) -> HttpResponse:
    context = {
        "dataset": dataset,
        "project": dataset.project,
        "versions": dataset.versions.select_related("created_by").prefetch_related(
            # Only the model versions this person may see: another project's model names stay hidden.
            Prefetch("trained_versions", queryset=selectors.versions_visible_to(request.user).select_related("model"))
        ),
        "can_build": can.can_add_dataset_version(request.user, dataset),
        "upload_form": forms.get("upload_form") or DatasetUploadForm(),
        "link_form": forms.get("link_form") or DatasetLinkForm(),
    }
    return render(request, "registry/dataset_detail.html", context, status=status)


def _dataset_get(request: HttpRequest, dataset_id: int) -> Any:
    return get_object_or_404(
        selectors.datasets_visible_to(request.user).select_related("project", "owner"), pk=dataset_id
    )


@login_required
@require_GET
def dataset_detail(request: HttpRequest, dataset_id: int) -> HttpResponse:
    return _dataset_page(request, _dataset_get(request, dataset_id))


@login_required
@require_POST
def dataset_version_upload(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = _dataset_get(request, dataset_id)
    require(can.can_add_dataset_version(request.user, dataset), can.BUILD_DENIED)
    form = DatasetUploadForm(request.POST, request.FILES)
    if upload_too_large(request):
        form = DatasetUploadForm()
        form.cleaned_data = {}  # an unbound form takes errors only once it has (empty) cleaned data
        form.add_error("file", too_large_message())
        return _dataset_page(request, dataset, status=413, upload_form=form)
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            version = services.dataset_version_upload(
                actor=acting_user(request),
                dataset=dataset,
                path=Path(uploaded.temporary_file_path()),
                original_name=uploaded.name,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Version {version.number} stored: {version.row_count} rows, {len(version.columns)} columns."
            )
            return redirect("registry:dataset_detail", dataset_id=dataset.pk)
    return _dataset_page(request, dataset, status=400, upload_form=form)


@login_required
@require_POST
def dataset_version_link(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = _dataset_get(request, dataset_id)
    require(can.can_add_dataset_version(request.user, dataset), can.BUILD_DENIED)
    form = DatasetLinkForm(request.POST)
    if form.is_valid():
        try:
            services.dataset_version_link(actor=acting_user(request), dataset=dataset, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("registry:dataset_detail", dataset_id=dataset.pk)
    return _dataset_page(request, dataset, status=400, link_form=form)


@login_required
@require_GET
def dataset_version_download(request: HttpRequest, version_id: int) -> FileResponse:
    """Serve a stored file only as a download, and only to those who may see its project."""
    version = get_object_or_404(
        selectors.dataset_versions_visible_to(request.user).select_related("dataset"), pk=version_id
    )
    if version.format == FileFormat.URI or not version.file:
        raise Http404("This version is stored elsewhere.")
    filename = f"{version.dataset.name}-v{version.number}.{version.format}".replace(" ", "-")
    response = FileResponse(
        version.file.open("rb"), as_attachment=True, filename=filename, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
