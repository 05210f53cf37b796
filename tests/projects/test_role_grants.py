"""Every role ever given is kept in RoleGrant, which the independence rules read."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from apps.projects import services
from apps.projects.models import RoleGrant
from apps.projects.permissions import ever_built
from tests.factories import TeamFunction, make_user

pytestmark = pytest.mark.django_db


def _grants(project) -> list[tuple[str, str, bool]]:
    return [
        (grant.user.username, grant.role, grant.ended_at is None)
        for grant in RoleGrant.objects.filter(project=project).select_related("user").order_by("granted_at", "pk")
    ]


def _project_with_a_former_developer():
    owner = make_user("olga", TeamFunction.BUSINESS)
    former = make_user("felix", TeamFunction.RISK_VALIDATION)
    project = services.project_create(actor=owner, name="Fraud radar", business_objective="Stop fraud.")
    membership = services.membership_add(actor=owner, project=project, user=former, role="developer")
    services.membership_remove(actor=owner, membership=membership)
    return project, owner, former


def test_a_role_taken_away_stays_as_an_ended_grant_and_still_counts_as_having_built() -> None:
    project, _owner, former = _project_with_a_former_developer()
    assert _grants(project) == [("olga", "owner", True), ("felix", "developer", False)]
    assert not project.memberships.filter(user=former).exists()
    assert ever_built(former, project)


def test_a_viewer_who_never_built_is_independent() -> None:
    project, owner, _former = _project_with_a_former_developer()
    viewer = make_user("vik", TeamFunction.RISK_VALIDATION)
    services.membership_add(actor=owner, project=project, user=viewer, role="viewer")
    assert not ever_built(viewer, project)


def test_the_migration_rebuilds_the_grants_of_existing_projects_from_current_roles_and_the_trail() -> None:
    project, _owner, former = _project_with_a_former_developer()
    expected = _grants(project)
    RoleGrant.objects.all().delete()
    assert not ever_built(former, project)
    migration = importlib.import_module("apps.projects.migrations.0003_role_grants")
    with connection.schema_editor() as editor:
        migration._backfill(apps, editor)
    assert sorted(_grants(project)) == sorted(expected)
    assert ever_built(former, project)
