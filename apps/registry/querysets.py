"""What of the registry a user may see: every lookup starts from ``visible_to(user)``.

A model, version or dataset is visible exactly when its project is (``ProjectQuerySet.visible_to``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from apps.projects.models import Project

if TYPE_CHECKING:
    from apps.core.types import Viewer


class RegisteredModelQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> RegisteredModelQuerySet:
        return self.filter(project__in=Project.objects.visible_to(user))


class ModelVersionQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> ModelVersionQuerySet:
        return self.filter(model__project__in=Project.objects.visible_to(user))


class DatasetQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> DatasetQuerySet:
        return self.filter(project__in=Project.objects.visible_to(user))


class DatasetVersionQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> DatasetVersionQuerySet:
        return self.filter(dataset__project__in=Project.objects.visible_to(user))
