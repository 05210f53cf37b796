"""Who sees which projects: the restricted queryset every read of projects starts from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from apps.core.permissions import reads_everything

if TYPE_CHECKING:
    from apps.core.types import Viewer


def sees_every_project(user: Viewer) -> bool:
    """Members of an audit team and administrators see every project, read-only unless they hold a role."""
    return reads_everything(user)


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> ProjectQuerySet:
        """Projects the user is a member of; every project for auditors and administrators."""
        ids = self.ids_visible_to(user)
        return self.all() if ids is None else self.filter(pk__in=ids)

    def ids_visible_to(self, user: Viewer) -> models.QuerySet | None:
        """The ids of the projects ``visible_to(user)`` holds, as a subquery; None: every project.

        What the restricted querysets of the apps above filter on (``project_id IN (...)``): one
        level of subquery on the memberships, which PostgreSQL plans in a fraction of the time of a
        subquery of projects wrapping one of memberships, and no filter at all for those who see
        every project.
        """
        # Through the reverse relation: Membership's module (models) builds its manager from this one.
        memberships = self.model._meta.get_field("memberships").related_model._default_manager
        if not (user.is_authenticated and user.is_active):
            return memberships.none().values("project_id")
        if sees_every_project(user):
            return None
        return memberships.filter(user=user).values("project_id")
