"""Who may start validation runs and manage suites."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.projects import permissions as can
from apps.projects.choices import ProjectRole

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from apps.accounts.models import User
    from apps.projects.models import Project


def can_validate(user: User | AnonymousUser, project: Project) -> bool:
    """The builders check their own work; validators check it independently."""
    return bool(can.roles_in(user, project) & {ProjectRole.OWNER, ProjectRole.DEVELOPER, ProjectRole.VALIDATOR})
