from __future__ import annotations

from typing import Any

from django.db import models


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ProjectQuerySet:
        """Projects the user is a member of; every project for auditors and administrators."""
        from apps.projects.permissions import sees_every_project  # permissions imports models, which import this

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if sees_every_project(user):
            return self.all()
        from apps.projects.models import Membership  # models builds its manager from this module

        return self.filter(pk__in=Membership.objects.filter(user=user).values("project"))
