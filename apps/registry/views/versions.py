"""Registry pages of models, their versions and model cards."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.audit.selectors import timeline_for
from apps.core import panels
from apps.core.forms import add_service_errors
from apps.core.permissions import acting_user, require
from apps.projects.selectors import project_get
from apps.registry import permissions as can
from apps.registry import selectors, services
from apps.registry.cards import card_completeness, required_sections
from apps.registry.choices import CARD_SECTIONS, ModelTask, VersionStatus
from apps.registry.filters import RegisteredModelFilter
from apps.registry.forms import (
    ModelCardForm,
    ModelVersionForm,
    RegisteredModelEditForm,
    RegisteredModelForm,
)
from apps.registry.models import DatasetVersion, ModelVersion
from apps.registry.views.common import form_status, paged, query_params


@login_required
@require_http_methods(["GET", "POST"])
def model_create(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_get(user=request.user, slug=slug)
    require(can.can_register_model(request.user, project), can.BUILD_DENIED)
    form = RegisteredModelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            model = services.model_create(actor=acting_user(request), project=project, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Model {model.name} registered. Next: register its first version.")
            return redirect("registry:model_detail", model_id=model.pk)
    return render(
        request, "registry/registeredmodel_form.html", {"form": form, "project": project}, status=form_status(request)
    )


@login_required
@require_http_methods(["GET", "POST"])
def model_detail(request: HttpRequest, model_id: int) -> HttpResponse:
    model = get_object_or_404(selectors.models_listed(selectors.models_visible_to(request.user)), pk=model_id)
    initial = {
        "task": model.task,
        "description": model.description,
        "tags": ", ".join(t.name for t in model.tags.all()),
    }
    form = RegisteredModelEditForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require(can.can_edit_model(request.user, model), can.BUILD_DENIED)
        if form.is_valid():
            try:
                services.model_update(actor=acting_user(request), model=model, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Model saved.")
                return redirect("registry:model_detail", model_id=model.pk)
    listed = paged(request, model.versions.select_related("card", "created_by").order_by("-number"), VERSIONS_PER_PAGE)
    versions = listed.rows
    context = {
        # Sections other apps contribute (the model's findings, from workflows).
        **panels.context_for("registry.model", user=request.user, model=model),
        "model": model,
        "project": model.project,
        "versions": versions,
        "paged": listed,
        "completeness": {v.pk: card_completeness(v.card, model.project.risk_tier) for v in versions},
        "form": form,
        "can_build": can.can_edit_model(request.user, model),
        "timeline": timeline_for(targets={"registry.registeredmodel": [model.pk]}, limit=20),
    }
    status = form_status(request) if request.method == "POST" else listed.status
    return render(request, "registry/registeredmodel_detail.html", context, status=status)


def _version_form(
    request: HttpRequest, model: Any, data: Any = None, initial: Any = None, current: ModelVersion | None = None
) -> ModelVersionForm:
    datasets = selectors.dataset_versions_visible_to(request.user)
    parents = model.versions.all()
    if current is not None:
        # Keep the link a colleague made to data this editor cannot see, so saving does not drop it.
        if current.training_dataset_id is not None:
            datasets = datasets | DatasetVersion.objects.filter(pk=current.training_dataset_id)
        parents = parents.filter(number__lt=current.number)
    return ModelVersionForm(data, initial=initial, datasets=datasets, parents=parents)


@login_required
@require_http_methods(["GET", "POST"])
def version_create(request: HttpRequest, model_id: int) -> HttpResponse:
    model = get_object_or_404(selectors.models_visible_to(request.user).select_related("project"), pk=model_id)
    require(can.can_register_version(request.user, model), can.BUILD_DENIED)
    form = _version_form(request, model, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.version_create(actor=acting_user(request), model=model, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Version {version.number} registered. Next: fill its model card.")
            return redirect("registry:card_edit", version_id=version.pk)
    return render(
        request,
        "registry/modelversion_form.html",
        {"form": form, "model": model, "project": model.project},
        status=form_status(request),
    )


def _version_get(request: HttpRequest, version_id: int) -> ModelVersion:
    return get_object_or_404(
        selectors.versions_visible_to(request.user).select_related(
            "model__project", "card", "created_by", "parent", "training_dataset__dataset"
        ),
        pk=version_id,
    )


@login_required
@require_GET
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _version_get(request, version_id)
    project = version.model.project
    card = version.card
    sections = [(name, title, getattr(card, name)) for name, title, _help in CARD_SECTIONS]
    context = {
        "version": version,
        "model": version.model,
        "project": project,
        "card": card,
        "sections": sections,
        "completeness": card_completeness(card, project.risk_tier),
        "revisions": card.revisions.select_related("author")[:20],
        "can_build": can.can_edit_version(request.user, version),
        "is_draft": version.status == VersionStatus.DRAFT,
        # The reviews (workflows) build on the version: reached by their related name, never imported.
        "timeline": timeline_for(
            targets={
                "registry.modelversion": [version.pk],
                "workflows.review": list(version.reviews.values_list("pk", flat=True)),
            }
        ),
        # Sections other apps contribute: the review and gate (workflows), the validation runs (validation).
        **panels.context_for("registry.version", user=request.user, version=version),
    }
    return render(request, "registry/modelversion_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def version_edit(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _version_get(request, version_id)
    require(can.can_edit_version(request.user, version), can.BUILD_DENIED)
    initial: dict[str, Any] = {f: getattr(version, f) for f in services.VERSION_FIELDS if f != "metrics"}
    initial["metrics"] = json.dumps(version.metrics) if version.metrics else ""
    form = _version_form(request, version.model, request.POST or None, initial=initial, current=version)
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(actor=acting_user(request), version=version, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Version saved.")
            return redirect("registry:version_detail", version_id=version.pk)
    context = {"form": form, "model": version.model, "project": version.model.project, "version": version}
    return render(request, "registry/modelversion_form.html", context, status=form_status(request))


@login_required
@require_http_methods(["GET", "POST"])
def card_edit(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _version_get(request, version_id)
    project = version.model.project
    require(can.can_edit_card(request.user, version), can.BUILD_DENIED)
    card = version.card
    required = required_sections(project.risk_tier)
    initial = {name: getattr(card, name) for name, _t, _h in CARD_SECTIONS}
    form = ModelCardForm(request.POST or None, initial=initial, required=required)
    if request.method == "POST" and form.is_valid():
        try:
            card = services.card_update(actor=acting_user(request), card=card, sections=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            done = card_completeness(card, project.risk_tier)
            messages.success(request, f"Model card saved (revision {card.revision}, {done.percent}% complete).")
            return redirect("registry:version_detail", version_id=version.pk)
    context = {
        "form": form,
        "version": version,
        "project": project,
        "completeness": card_completeness(card, project.risk_tier),
    }
    return render(request, "registry/modelcard_form.html", context, status=form_status(request))


MODELS_PER_PAGE = 50
VERSIONS_PER_PAGE = 20


@login_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    params = {**RegisteredModelFilter.read(request.GET), **query_params(request, "sort")}
    listed = paged(
        request,
        selectors.model_list(user=request.user, filters=params, sort=params["sort"], tags=False),
        MODELS_PER_PAGE,
    )
    models = selectors.with_tag_names(listed.rows)
    selectors.latest_versions(models)
    context = {
        "models": models,
        "paged": listed,
        "params": params,
        "tasks": ModelTask.choices,
        "completeness": selectors.latest_completeness(models),
    }
    return render(request, "registry/registeredmodel_list.html", context, status=listed.status)
