"""The demo organisation."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from apps.accounts.models import Team, User
from apps.audit import selectors
from apps.audit.chain import verify
from apps.audit.models import AuditEvent
from apps.monitoring.models import Batch, Monitor
from apps.projects.models import KpiMeasurement
from apps.workflows.models import Deployment

pytestmark = pytest.mark.django_db
ROLES = ["business", "developer", "validator", "itops", "compliance", "auditor", "admin", "outsider"]


def _counts() -> tuple[int, ...]:
    """What the demo creates, from people to the monitors' batches and the KPI values (and the trail of it all)."""
    return (
        User.objects.count(),
        Team.objects.count(),
        Deployment.objects.count(),
        Monitor.objects.count(),
        Batch.objects.count(),
        KpiMeasurement.objects.count(),
        AuditEvent.objects.count(),
    )


def test_seed_demo_is_refused_without_debug_or_force() -> None:
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_seed_demo_is_idempotent_and_every_persona_signs_in() -> None:
    call_command("seed_demo", "--force", stdout=StringIO())
    counts = _counts()
    call_command("seed_demo", "--force", stdout=StringIO())
    assert _counts() == counts
    assert sorted(User.objects.values_list("username", flat=True)) == sorted(ROLES)
    assert User.objects.get(username="auditor").teams.get().function == "audit"
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.get(username="outsider").teams.exists()
    for username in ROLES:
        response = Client().post("/accounts/sign-in/", {"username": username, "password": "signet-demo"})
        assert response.status_code == 302, username
    assert verify(selectors.audit_chain()).ok
