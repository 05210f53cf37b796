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
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if sees_every_project(user):
            return self.all()
        # Through the reverse relation of Membership, whose module (models) builds its manager from this one.
        return self.filter(pk__in=self.filter(memberships__user=user).values("pk"))
