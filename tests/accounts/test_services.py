"""People and teams: only administrators manage them, nobody grants themselves a role, all audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from apps.accounts import services
from apps.accounts.choices import TeamFunction
from apps.accounts.models import User
from apps.audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import team_for

pytestmark = pytest.mark.django_db


def test_an_administrator_cannot_add_themselves_to_a_team(administrator: User) -> None:
    with pytest.raises(PermissionDenied, match="Nobody grants a role to themselves"):
        services.user_update(actor=administrator, user=administrator, teams=[team_for(TeamFunction.AUDIT)])
    assert not administrator.teams.exists()


def test_nobody_makes_themselves_administrator(administrator: User, developer: User) -> None:
    services.user_update(actor=administrator, user=developer, is_superuser=False)
    with pytest.raises(PermissionDenied):
        services.user_update(actor=developer, user=developer, is_superuser=True)
    developer.refresh_from_db()
    assert developer.is_superuser is False


def test_only_administrators_manage_people_and_teams(developer: User, validator: User) -> None:
    with pytest.raises(PermissionDenied, match="Only administrators"):
        services.user_update(actor=developer, user=validator, first_name="Mallory")
    with pytest.raises(PermissionDenied):
        services.team_create(actor=developer, name="Shadow", slug="shadow", function=TeamFunction.AUDIT)
    with pytest.raises(PermissionDenied):
        services.user_create(actor=developer, username="sock-puppet")


def test_changes_to_people_and_teams_are_audited_with_before_and_after(administrator: User, developer: User) -> None:
    team = team_for(TeamFunction.RISK_VALIDATION)
    services.user_update(actor=administrator, user=developer, teams=[team], first_name="Devi")
    event = AuditEvent.objects.filter(action="accounts.user.updated").latest("seq")
    assert event.actor_id == administrator.pk
    assert event.changes["first_name"] == {"before": "", "after": "Devi"}
    assert event.changes["teams"] == {"before": ["team-data_science"], "after": ["team-risk_validation"]}
    services.team_update(actor=administrator, team=team, name="Second line")
    team_event = AuditEvent.objects.filter(action="accounts.team.updated").latest("seq")
    assert team_event.changes == {"name": {"before": "Team risk_validation", "after": "Second line"}}


def test_an_admin_change_through_the_admin_site_goes_through_the_audited_service(
    administrator: User, developer: User
) -> None:
    client = signed_in(administrator)
    url = f"/admin/accounts/user/{developer.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = {
        "username": "dev",
        "first_name": "Devika",
        "last_name": "",
        "email": "dev@example.test",
        "is_active": "on",
        "teams": [str(t.pk) for t in developer.teams.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.filter(action="accounts.user.updated").latest("seq")
    assert event.changes == {"first_name": {"before": "", "after": "Devika"}}
    assert event.actor_id == administrator.pk


def test_the_admin_hides_self_granting_fields_on_ones_own_record(administrator: User) -> None:
    page = signed_in(administrator).get(f"/admin/accounts/user/{administrator.pk}/change/")
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
    assert 'name="teams"' not in page.content.decode()


def test_people_are_deactivated_never_deleted(administrator: User, developer: User) -> None:
    response = signed_in(administrator).post(f"/admin/accounts/user/{developer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=developer.pk).exists()
