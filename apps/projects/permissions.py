"""One predicate per action inside a project, used by the pages and the API alike."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from apps.accounts.choices import TeamFunction
from apps.accounts.permissions import is_administrator, team_functions
from apps.projects.choices import (
    BUILD_ROLES,
    EDIT_PROJECT_ROLES,
    JUDGE_TEAMS,
    MANAGE_MEMBER_ROLES,
    QUALIFY_ROLES,
    ProjectRole,
)
from apps.projects.models import Membership, Project, RoleGrant

# Defined beside the queryset it decides; one of this module's predicates all the same.
from apps.projects.querysets import sees_every_project

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.core.types import Viewer

_CACHE_ATTR = "_signet_roles"


def roles_in(user: Viewer, project: Project) -> frozenset[str]:
    """Return the user's roles in the project (remembered on the project object for this request)."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    cache: dict[int, frozenset[str]] = project.__dict__.setdefault(_CACHE_ATTR, {})
    if user.pk not in cache:
        cache[user.pk] = frozenset(Membership.objects.filter(project=project, user=user).values_list("role", flat=True))
    return cache[user.pk]


def is_overseer(user: Viewer) -> bool:
    """Auditors and administrators see every project, read-only."""
    return sees_every_project(user)


def can_view_project(user: Viewer, project: Project) -> bool:
    return bool(roles_in(user, project)) or is_overseer(user)


def can_propose_project(user: Viewer) -> bool:
    """Anyone in a team may propose a use case; people in no team, and the third line (audit), may not."""
    return bool(user.is_authenticated and user.is_active and team_functions(user) - {TeamFunction.AUDIT})


def can_edit_project(user: Viewer, project: Project) -> bool:
    return bool(roles_in(user, project) & EDIT_PROJECT_ROLES)


def can_manage_members(user: Viewer, project: Project) -> bool:
    return bool(roles_in(user, project) & MANAGE_MEMBER_ROLES) or is_administrator(user)


def can_qualify_risk(user: Viewer, project: Project) -> bool:
    return bool(roles_in(user, project) & QUALIFY_ROLES)


def can_comment(user: Viewer, project: Project) -> bool:
    return bool(roles_in(user, project))


def can_build(user: Viewer, project: Project) -> bool:
    """Register models, versions, cards and datasets."""
    return bool(roles_in(user, project) & BUILD_ROLES)


def ever_built(user: User, project: Project) -> bool:
    """Whether ``user`` develops or owns the project now, ever did, or created a version of its models.

    Current roles are not enough: someone taken off the team and added back as a validator is not
    independent. ``RoleGrant`` keeps every role ever given.
    """
    return project.pk in ever_built_in(user, [project.pk])


def ever_built_in(user: User, project_ids: Collection[int]) -> set[int]:
    """Those of ``project_ids`` that ``user`` ever built (as ``ever_built``), in three queries for any number."""
    ids = list(project_ids)
    if not ids:
        return set()
    built = set(
        Membership.objects.filter(project_id__in=ids, user=user, role__in=BUILD_ROLES).values_list(
            "project_id", flat=True
        )
    )
    built |= set(
        RoleGrant.objects.filter(project_id__in=ids, user=user, role__in=BUILD_ROLES).values_list(
            "project_id", flat=True
        )
    )
    rest = [pk for pk in ids if pk not in built]
    if rest:
        # Through the registry's reverse relations: the registry builds on projects, not the other way.
        versions = Project.objects.filter(pk__in=rest, models__versions__created_by=user)
        built |= set(versions.values_list("pk", flat=True).distinct())
    return built


def judge_refusal(user: User, project: Project, role: str) -> str | None:
    """Return why ``user`` may not hold or exercise the judging ``role`` (validator, compliance), or None.

    A judge belongs to the matching team and never builds or owns the project (DESIGN section 4).
    """
    teams = team_functions(user)
    return judge_refusal_from(user, role, teams=teams, built=lambda: ever_built(user, project))


def judge_refusal_from(user: User, role: str, *, teams: frozenset[str], built: Callable[[], bool]) -> str | None:
    """``judge_refusal`` from what is already known: the user's team functions, and whether they built the project."""
    team = JUDGE_TEAMS[ProjectRole(role)]
    if user.is_service_account:
        return "A service account never holds a judging role: a person judges."
    if team not in teams:
        return f"The {ProjectRole(role).label.lower()} role is held only by members of the {team.label.lower()} team."
    if built():
        return "Someone who builds or owns this project, or once did, cannot judge it."
    return None


def judge_roles(user: Viewer, project: Project) -> frozenset[str]:
    """Return the judging roles ``user`` holds in the project and may exercise now."""
    if not user.is_authenticated:
        return frozenset()
    held = roles_in(user, project) & set(JUDGE_TEAMS)
    return frozenset(role for role in held if judge_refusal(user, project, role) is None)
