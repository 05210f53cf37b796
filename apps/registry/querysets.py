"""What of the registry a user may see: every lookup starts from ``visible_to(user)``.

A model, version or dataset is visible exactly when its project is (``ProjectQuerySet.visible_to``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db import models

from apps.projects.models import Project

if TYPE_CHECKING:
    from apps.core.types import Viewer


_Q = TypeVar("_Q", bound=models.QuerySet)


def _in_visible_projects(queryset: _Q, user: Viewer, project_id: str) -> _Q:
    ids = Project.objects.ids_visible_to(user)
    return queryset.all() if ids is None else queryset.filter(**{f"{project_id}__in": ids})


class RegisteredModelQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> RegisteredModelQuerySet:
        return _in_visible_projects(self, user, "project_id")


class ModelVersionQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> ModelVersionQuerySet:
        return _in_visible_projects(self, user, "model__project_id")


class DatasetQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> DatasetQuerySet:
        return _in_visible_projects(self, user, "project_id")


class DatasetVersionQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> DatasetVersionQuerySet:
        return _in_visible_projects(self, user, "dataset__project_id")
