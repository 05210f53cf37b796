"""One predicate per action inside a project, used by the pages and the API alike."""

from __future__ import annotations

from typing import Any

from apps.accounts.choices import TeamFunction
from apps.accounts.permissions import is_administrator
from apps.audit.permissions import can_read_audit_trail
from apps.projects.choices import BUILD_ROLES, EDIT_PROJECT_ROLES, MANAGE_MEMBER_ROLES, QUALIFY_ROLES
from apps.projects.models import Membership, Project

_CACHE_ATTR = "_signet_roles"


def roles_in(user: Any, project: Project) -> frozenset[str]:
    """Return the user's roles in the project (remembered on the project object for this request)."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    cache: dict[int, frozenset[str]] = project.__dict__.setdefault(_CACHE_ATTR, {})
    if user.pk not in cache:
        cache[user.pk] = frozenset(Membership.objects.filter(project=project, user=user).values_list("role", flat=True))
    return cache[user.pk]


def is_overseer(user: Any) -> bool:
    """Auditors and administrators see every project, read-only."""
    return can_read_audit_trail(user)


def can_view_project(user: Any, project: Project) -> bool:
    return bool(roles_in(user, project)) or is_overseer(user)


def can_propose_project(user: Any) -> bool:
    """Anyone in a team may propose a use case; people in no team, and the third line (audit), may not."""
    return bool(user.is_authenticated and user.is_active and user.teams.exclude(function=TeamFunction.AUDIT).exists())


def can_edit_project(user: Any, project: Project) -> bool:
    return bool(roles_in(user, project) & EDIT_PROJECT_ROLES)


def can_manage_members(user: Any, project: Project) -> bool:
    return bool(roles_in(user, project) & MANAGE_MEMBER_ROLES) or is_administrator(user)


def can_qualify_risk(user: Any, project: Project) -> bool:
    return bool(roles_in(user, project) & QUALIFY_ROLES)


def can_comment(user: Any, project: Project) -> bool:
    return bool(roles_in(user, project))


def can_build(user: Any, project: Project) -> bool:
    """Register models, versions, cards and datasets."""
    return bool(roles_in(user, project) & BUILD_ROLES)
