"""Reads of the registry and the catalogue, restricted to what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from apps.projects.models import Project
from apps.registry.models import Dataset, DatasetVersion, ModelVersion, RegisteredModel


def models_visible_to(user: Any) -> QuerySet[RegisteredModel]:
    return RegisteredModel.objects.filter(project__in=Project.objects.visible_to(user))


def versions_visible_to(user: Any) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(model__project__in=Project.objects.visible_to(user))


def datasets_visible_to(user: Any) -> QuerySet[Dataset]:
    return Dataset.objects.filter(project__in=Project.objects.visible_to(user))


def dataset_versions_visible_to(user: Any) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.filter(dataset__project__in=Project.objects.visible_to(user))


def models_with_latest_version(queryset: QuerySet[RegisteredModel]) -> QuerySet[RegisteredModel]:
    """Prefetch versions newest first, so ``model.versions.all()[0]`` is the latest without a query."""
    return queryset.select_related("project", "created_by").prefetch_related(
        "tags", Prefetch("versions", queryset=ModelVersion.objects.select_related("card").order_by("-number"))
    )


def catalogue_search(
    *, user: Any, query: str, kind: str = "", tier: str = "", status: str = ""
) -> dict[str, list[Any]]:
    """Find projects, models and datasets the user may see, by words in names, descriptions and tags."""
    words = query.split()
    results: dict[str, list[Any]] = {"projects": [], "models": [], "datasets": []}
    if kind in ("", "projects"):
        projects = Project.objects.visible_to(user).prefetch_related("models")
        for word in words:
            projects = projects.filter(
                Q(name__icontains=word) | Q(business_objective__icontains=word) | Q(slug__icontains=word)
            )
        if tier:
            projects = projects.filter(risk_tier=tier)
        if status:
            projects = projects.filter(status=status)
        results["projects"] = list(projects.order_by("name")[:50])
    if kind in ("", "models"):
        models = models_with_latest_version(models_visible_to(user))
        for word in words:
            models = models.filter(
                Q(name__icontains=word) | Q(description__icontains=word) | Q(tags__name__iexact=word)
            ).distinct()
        if tier:
            models = models.filter(project__risk_tier=tier)
        results["models"] = list(models.order_by("name")[:50])
    if kind in ("", "datasets"):
        datasets = (
            datasets_visible_to(user)
            .select_related("project", "owner")
            .prefetch_related(
                Prefetch(
                    "versions",
                    queryset=DatasetVersion.objects.prefetch_related(
                        Prefetch("trained_versions", queryset=ModelVersion.objects.select_related("model"))
                    ),
                )
            )
        )
        for word in words:
            datasets = datasets.filter(
                Q(name__icontains=word) | Q(description__icontains=word) | Q(source__icontains=word)
            )
        if tier:
            datasets = datasets.filter(project__risk_tier=tier)
        results["datasets"] = list(datasets.order_by("name")[:50])
    return results
