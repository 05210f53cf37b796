"""Who may do what with the MLflow bridge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.core.permissions import is_administrator
from apps.projects.choices import ProjectRole
from apps.projects.permissions import roles_in

if TYPE_CHECKING:
    from apps.core.types import Viewer
    from apps.projects.models import Project

CONNECTIONS_DENIED = "Only administrators manage MLflow connections."
CLAIM_DENIED = "Only an owner of the project may bring an MLflow model into it."


def can_manage_connections(user: Viewer) -> bool:
    """A connection decides which server the portal trusts and what it may write there: administrators."""
    return is_administrator(user)


def can_see_intake(user: Viewer) -> bool:
    """The intake list shows MLflow model names and tags: any signed-in, active person (owners claim from it)."""
    return bool(user.is_authenticated and user.is_active)


def can_claim_into(user: Viewer, project: Project) -> bool:
    """Claiming puts a model under a project's governance: its owners."""
    return ProjectRole.OWNER in roles_in(user, project)
