from __future__ import annotations

from typing import Any

from django.db import models


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ProjectQuerySet:
        """Projects the user is a member of; every project for auditors and administrators."""
        from apps.audit.permissions import can_read_audit_trail

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if can_read_audit_trail(user):
            return self.all()
        from apps.projects.models import Membership

        return self.filter(pk__in=Membership.objects.filter(user=user).values("project"))
