"""Who may set monitors up and feed them: one predicate per action, for the pages and the API alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.projects import permissions as can
from apps.projects.choices import ProjectRole

if TYPE_CHECKING:
    from apps.core.types import Viewer
    from apps.projects.models import Project

MONITOR_ROLES = frozenset({ProjectRole.OWNER, ProjectRole.DEVELOPER, ProjectRole.IT_OPS})
MONITOR_DENIED = "Only the project's owners, developers and IT operations set up monitors."
FEED_DENIED = "Only the project's owners, developers and IT operations send batches to its monitors."


def can_monitor(user: Viewer, project: Project) -> bool:
    """Create a monitor of a deployed version of the project."""
    return bool(can.roles_in(user, project) & MONITOR_ROLES)


def can_feed(user: Viewer, project: Project) -> bool:
    """Send prediction and outcome batches (a serving process's service account holds one of the roles)."""
    return bool(can.roles_in(user, project) & MONITOR_ROLES)
