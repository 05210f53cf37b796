"""Who may start validation runs and manage suites."""

from __future__ import annotations

from typing import Any

from apps.projects import permissions as can
from apps.projects.choices import ProjectRole


def can_validate(user: Any, project: Any) -> bool:
    """The builders check their own work; validators check it independently."""
    return bool(can.roles_in(user, project) & {ProjectRole.OWNER, ProjectRole.DEVELOPER, ProjectRole.VALIDATOR})
