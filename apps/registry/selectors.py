"""Reads of the registry and the catalogue, restricted to what the user may see."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse

from apps.projects.choices import ProjectRole
from apps.projects.models import Membership, Project
from apps.registry.cards import Completeness, card_completeness
from apps.registry.choices import VersionStatus
from apps.registry.filters import DatasetFilter, RegisteredModelFilter
from apps.registry.models import Dataset, DatasetVersion, ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from apps.core.types import Viewer


def models_visible_to(user: Viewer) -> QuerySet[RegisteredModel]:
    return RegisteredModel.objects.visible_to(user)


def versions_visible_to(user: Viewer) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.visible_to(user)


def datasets_visible_to(user: Viewer) -> QuerySet[Dataset]:
    return Dataset.objects.visible_to(user)


def dataset_versions_visible_to(user: Viewer) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.visible_to(user)


# Reviews (workflows) build on versions: the registry reads them by their related name and never imports
# them. The value is workflows' ReviewStatus.OPEN (tests/registry/test_selectors.py keeps the two equal).
OPEN_REVIEW_STATUS = "open"


def version_under_review(version_id: int) -> bool:
    """Whether the version is in review or has any open review (a re-certification too)."""
    return (
        ModelVersion.objects.filter(pk=version_id)
        .filter(Q(status=VersionStatus.IN_REVIEW) | Q(reviews__status=OPEN_REVIEW_STATUS))
        .exists()
    )


def _latest() -> QuerySet[ModelVersion]:
    """The versions of the outer row's model, newest first (an index seek on (model, number))."""
    return ModelVersion.objects.filter(model=OuterRef("pk")).order_by("-number")


def models_listed(queryset: QuerySet[RegisteredModel], *, tags: bool = True) -> QuerySet[RegisteredModel]:
    """What a list shows of each model but its latest version: project, author, tags (one query a page).

    ``tags=False`` for lists that name them with ``with_tag_names`` once the page is cut (the API).
    """
    listed = queryset.select_related("project", "created_by")
    return listed.prefetch_related("tags") if tags else listed


def with_tag_names(models: list[RegisteredModel]) -> list[RegisteredModel]:
    """Give each model its ``tag_names``, sorted, in one query of names for the whole page.

    What ``prefetch_related("tags")`` gives, without a related manager and a queryset made for each
    model and a Tag built for each tag: most of the time of an API page of 50 models.
    """
    names: dict[int, list[str]] = {model.pk: [] for model in models}
    pairs = RegisteredModel.tags.through.objects.filter(registeredmodel_id__in=names).order_by("tag__name")
    for model_id, name in pairs.values_list("registeredmodel_id", "tag__name"):
        names[model_id].append(name)
    for model in models:
        model.tag_names = names[model.pk]  # type: ignore[attr-defined]
    return models


def models_with_latest_version(queryset: QuerySet[RegisteredModel]) -> QuerySet[RegisteredModel]:
    """Annotate each model with its latest version's ``latest_version_id``, ``_number`` and ``_status``.

    Three index seeks per model, instead of fetching every version to keep one. For keyset pages and
    single rows only: PostgreSQL computes these for every row an OFFSET skips, so a numbered page
    fetches its latest versions with ``latest_versions`` instead.
    """
    return models_listed(queryset, tags=False).annotate(
        latest_version_id=Subquery(_latest().values("pk")[:1]),
        latest_version_number=Subquery(_latest().values("number")[:1]),
        latest_version_status=Subquery(_latest().values("status")[:1]),
    )


def latest_versions(models: Iterable[RegisteredModel]) -> dict[int, ModelVersion]:
    """Return the latest version (with its card) of each of ``models``, by model id, in one query.

    Also sets ``model.latest_version`` on each (None for a model without versions). A plain query, not a
    prefetch: a related manager and a queryset for each model were a fifth of the models page.
    """
    models = list(models)
    newest = RegisteredModel.objects.filter(pk__in=[m.pk for m in models]).values(
        v=Subquery(_latest().values("pk")[:1])
    )
    found = {version.model_id: version for version in ModelVersion.objects.filter(pk__in=newest).select_related("card")}
    for model in models:
        version = found.get(model.pk)
        if version is not None:
            version.model = model  # the model in hand, not a query when the page names it
        model.latest_version = version  # type: ignore[attr-defined]
    return found


def latest_completeness(models: list[RegisteredModel]) -> dict[int, Completeness]:
    """Return the card completeness of each model's latest version, by version id (``latest_versions`` run)."""
    return {
        model.latest_version.pk: card_completeness(model.latest_version.card, model.project.risk_tier)  # type: ignore[attr-defined]
        for model in models
        if getattr(model, "latest_version", None) is not None
    }


PANEL_MODELS = 20  # the project page lists this many models; the models page, filtered, lists them all


def project_panel(*, user: Viewer, project: Project) -> dict[str, Any]:
    """What the project page shows of the registry: its first models, their cards, and what they need next.

    Bounded whatever the project holds: ``PANEL_MODELS`` models by name, ``models_more`` when there are
    others (``models_url`` lists them all), next steps for the models shown.
    """
    models = list(models_listed(project.models.all()).order_by("name", "pk")[: PANEL_MODELS + 1])
    more = len(models) > PANEL_MODELS
    models = models[:PANEL_MODELS]
    latest_versions(models)
    completeness = latest_completeness(models)
    steps = [] if models else ["Register a first model once data science starts building."]
    for model in models:
        latest = model.latest_version  # type: ignore[attr-defined]
        done = completeness.get(latest.pk) if latest is not None else None
        if done is not None and not done.complete:
            steps.append(f"Complete the model card of {model.name} v{latest.number} ({done.percent}% written).")
    return {
        "models": models,
        "completeness": completeness,
        "model_next_steps": steps,
        "models_more": more,
        "models_url": f"{reverse('registry:model_list')}?project={project.slug}",
    }


MAX_SEARCH_WORDS = 8  # each word is one more condition; more words do not find better results
MODEL_SORTS = {"name": "name", "-created": "-created_at", "project": "project__name"}
DATASET_SORTS = {"name": "name", "-created": "-created_at", "project": "project__name"}


def model_list(
    *, user: Viewer, filters: Mapping[str, Any] | None = None, sort: str = "name", tags: bool = True
) -> QuerySet[RegisteredModel]:
    """Return the models ``user`` may see that pass ``filters`` (``RegisteredModelFilter``), sorted."""
    models = RegisteredModelFilter.apply(filters, models_listed(models_visible_to(user), tags=tags))
    return models.order_by(MODEL_SORTS.get(sort, "name"), "pk")


def dataset_list(*, user: Viewer, filters: Mapping[str, Any] | None = None, sort: str = "name") -> QuerySet[Dataset]:
    """Return the datasets ``user`` may see that pass ``filters`` (``DatasetFilter``), sorted."""
    datasets = DatasetFilter.apply(filters, datasets_visible_to(user).select_related("project", "owner"))
    return datasets.order_by(DATASET_SORTS.get(sort, "name"), "pk")


def _search_projects(user: Viewer, words: list[str], tier: str, status: str, owner: str) -> list[Project]:
    projects = Project.objects.visible_to(user).annotate(model_count=Count("models"))
    for word in words:
        projects = projects.filter(
            Q(name__icontains=word) | Q(business_objective__icontains=word) | Q(slug__icontains=word)
        )
    if owner:
        owned = Membership.objects.filter(user__username=owner, role=ProjectRole.OWNER).values("project")
        projects = projects.filter(pk__in=owned)
    return list(_narrow(projects, "", tier, status).order_by("name")[:50])


def _search_models(user: Viewer, words: list[str], tier: str, status: str, owner: str) -> list[RegisteredModel]:
    models = models_listed(models_visible_to(user))
    for word in words:
        tagged = RegisteredModel.tags.through.objects.filter(tag__name__iexact=word).values("registeredmodel_id")
        models = models.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(pk__in=tagged))
    if owner:
        models = models.filter(created_by__username=owner)
    found = list(_narrow(models, "project__", tier, status).order_by("name")[:50])
    latest_versions(found)
    return found


def _search_datasets(user: Viewer, words: list[str], tier: str, status: str, owner: str) -> list[Dataset]:
    # Only the model versions this person may see: another project's model names stay hidden.
    trained: Prefetch[Any, Any, Any] = Prefetch(
        "trained_versions", queryset=versions_visible_to(user).select_related("model")
    )
    datasets = (
        datasets_visible_to(user)
        .select_related("project", "owner")
        .prefetch_related(Prefetch("versions", queryset=DatasetVersion.objects.prefetch_related(trained)))
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
    *, user: Viewer, query: str, kind: str = "", tier: str = "", status: str = "", owner: str = ""
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
