"""Reads of the registry and the catalogue, restricted to what the user may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from apps.projects.choices import ProjectRole
from apps.projects.models import Membership, Project
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
        "tags",
        Prefetch("versions", queryset=ModelVersion.objects.select_related("card", "created_by").order_by("-number")),
    )


MAX_SEARCH_WORDS = 8  # each word is one more condition; more words do not find better results
MODEL_SORTS = {"name": "name", "-created": "-created_at", "project": "project__name"}
DATASET_SORTS = {"name": "name", "-created": "-created_at", "project": "project__name"}


def model_list(
    *, user: Any, project: str = "", task: str = "", tag: str = "", q: str = "", sort: str = "name"
) -> QuerySet[RegisteredModel]:
    models = models_with_latest_version(models_visible_to(user))
    if project:
        models = models.filter(project__slug=project)
    if task:
        models = models.filter(task=task)
    if tag:
        models = models.filter(tags__name=tag.lower())
    if q:
        models = models.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return models.order_by(MODEL_SORTS.get(sort, "name"), "pk")


def dataset_list(*, user: Any, project: str = "", q: str = "", sort: str = "name") -> QuerySet[Dataset]:
    datasets = datasets_visible_to(user).select_related("project", "owner")
    if project:
        datasets = datasets.filter(project__slug=project)
    if q:
        datasets = datasets.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return datasets.order_by(DATASET_SORTS.get(sort, "name"), "pk")


def _search_projects(user: Any, words: list[str], tier: str, status: str, owner: str) -> list[Project]:
    projects = Project.objects.visible_to(user).prefetch_related("models")
    for word in words:
        projects = projects.filter(
            Q(name__icontains=word) | Q(business_objective__icontains=word) | Q(slug__icontains=word)
        )
    if owner:
        owned = Membership.objects.filter(user__username=owner, role=ProjectRole.OWNER).values("project")
        projects = projects.filter(pk__in=owned)
    return list(_narrow(projects, "", tier, status).order_by("name")[:50])


def _search_models(user: Any, words: list[str], tier: str, status: str, owner: str) -> list[RegisteredModel]:
    models = models_with_latest_version(models_visible_to(user))
    for word in words:
        tagged = RegisteredModel.tags.through.objects.filter(tag__name__iexact=word).values("registeredmodel_id")
        models = models.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(pk__in=tagged))
    if owner:
        models = models.filter(created_by__username=owner)
    return list(_narrow(models, "project__", tier, status).order_by("name")[:50])


def _search_datasets(user: Any, words: list[str], tier: str, status: str, owner: str) -> list[Dataset]:
    datasets = (
        datasets_visible_to(user)
        .select_related("project", "owner")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=DatasetVersion.objects.prefetch_related(
                    Prefetch("trained_versions", queryset=versions_visible_to(user).select_related("model"))
                ),
            )
        )
    )
    for word in words:
        datasets = datasets.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(source__icontains=word))
    if owner:
        datasets = datasets.filter(owner__username=owner)
    return list(_narrow(datasets, "project__", tier, status).order_by("name")[:50])


def _narrow(queryset: QuerySet[Any], prefix: str, tier: str, status: str) -> QuerySet[Any]:
    if tier:
        queryset = queryset.filter(**{f"{prefix}risk_tier": tier})
    if status:
        queryset = queryset.filter(**{f"{prefix}status": status})
    return queryset


def catalogue_search(
    *, user: Any, query: str, kind: str = "", tier: str = "", status: str = "", owner: str = ""
) -> dict[str, list[Any]]:
    """Find projects, models and datasets the user may see, by words in names, descriptions and tags.

    ``tier`` and ``status`` are the project's; ``owner`` is a project's owner, a model's author or a
    dataset's owner. Each kind returns at most 50 results.
    """
    words = query.split()[:MAX_SEARCH_WORDS]
    searches: dict[str, Callable[[Any, list[str], str, str, str], list[Any]]] = {
        "projects": _search_projects,
        "models": _search_models,
        "datasets": _search_datasets,
    }
    return {
        name: search(user, words, tier, status, owner) if kind in ("", name) else []
        for name, search in searches.items()
    }
