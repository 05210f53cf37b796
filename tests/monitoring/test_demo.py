"""The demo's monitoring: every deployed version monitored and fed; once profiled, only the drifting one breaches."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.test import Client

from apps.accounts.models import User
from apps.audit import selectors as audit
from apps.audit.chain import verify
from apps.audit.models import AuditEvent
from apps.monitoring import services
from apps.monitoring.demo import DAYS, ROWS
from apps.monitoring.models import Batch, BatchProfile, Breach, KpiActual, Monitor
from apps.registry.models import ModelVersion
from apps.workflows import gate
from apps.workflows.models import Finding

pytestmark = pytest.mark.django_db


def _work_as_the_worker_does() -> None:
    """Profile every batch due and compute the windows of the hours profiled, as the worker of ``make run`` does."""
    while ids := list(
        Batch.objects.filter(Q(status="received") | Q(status="profiled", needs_refresh=True)).values_list(
            "pk", flat=True
        )
    ):
        for pk in ids:
            services.batch_profile(pk, worker="test")
    for monitor in Monitor.objects.all():
        hours = {s.isoformat() for s in BatchProfile.objects.filter(monitor=monitor).values_list("start", flat=True)}
        services.windows_compute(monitor_id=monitor.pk, hours=sorted(hours))


@pytest.fixture
def seeded() -> None:
    call_command("seed_demo", "--force", stdout=StringIO())


def test_every_deployed_demo_version_has_a_monitor_fed_two_weeks_of_daily_batches(seeded: None) -> None:
    deployed = ModelVersion.objects.filter(status="deployed")
    assert {v.model.project.slug for v in deployed} == {"branch-footfall", "claims-triage"}
    assert set(Monitor.objects.values_list("version", flat=True)) == set(deployed.values_list("pk", flat=True))
    for monitor in Monitor.objects.all():
        batches = Batch.objects.filter(monitor=monitor)
        assert batches.count() == DAYS
        assert set(batches.values_list("status", flat=True)) == {"received"}  # the worker profiles them
        assert {b.row_count for b in batches} == {ROWS}
        assert set(batches.values_list("received_by__username", flat=True)) == {"itops"}
    # Told through the services: the trail has each step, and the chain holds.
    assert AuditEvent.objects.filter(action="monitoring.monitor.created").count() == 2
    assert AuditEvent.objects.filter(action="monitoring.batch.received").count() == 2 * DAYS
    assert verify(audit.audit_chain()).ok


def test_after_the_worker_the_drifting_monitor_breaches_and_the_other_does_not(seeded: None) -> None:
    _work_as_the_worker_does()
    claims = Monitor.objects.get(version__model__name="claims-router")
    footfall = Monitor.objects.get(version__model__name="footfall-forecast")
    assert set(Batch.objects.values_list("status", flat=True)) == {"profiled"}
    open_breaches = Breach.objects.filter(recovered_at__isnull=True)
    drifted = {(b.check_name, b.metric, b.column) for b in open_breaches.filter(monitor=claims)}
    assert ("drift", "psi", "claim_amount") in drifted
    assert ("drift", "psi", "channel") in drifted
    assert not open_breaches.filter(monitor=footfall).exists()
    assert not Breach.objects.filter(monitor=footfall).exists()  # not even one that recovered
    # The breach raised a finding on the version, and the gate of the blocking monitor refuses it.
    finding = Finding.objects.get(
        version=claims.version, source__startswith=f"monitor:{claims.pk}:", title__contains="claim_amount"
    )
    assert finding.status == "open"
    assert AuditEvent.objects.filter(action="monitoring.breach.opened").count() == open_breaches.count()
    answer = gate.gate_check(version=claims.version, environment="production")
    assert not answer.allowed
    assert any("breaches its monitor production" in reason for reason in answer.reasons)
    assert gate.gate_check(version=footfall.version, environment="production").allowed
    assert verify(audit.audit_chain()).ok


def test_the_demo_pages_tell_the_story_to_the_business_owner(seeded: None) -> None:
    _work_as_the_worker_does()
    client = Client()
    client.force_login(User.objects.get(username="business"))
    claims = client.get("/projects/claims-triage/").content.decode()
    tile = claims.split('id="monitoring-tile"', 1)[1].split("</section>", 1)[0]
    assert "claims-router v2" in tile
    assert "metrics breaching" in tile
    assert "The last value, 81 %" in claims
    assert "while claims-router v2 was in production, is below the target 85 %." in claims
    footfall = client.get("/projects/branch-footfall/").content.decode()
    assert "within thresholds" in footfall.split('id="monitoring-tile"', 1)[1].split("</section>", 1)[0]
    assert "meets the target 12 %" in footfall
    # KPI values over weeks: the newest of each is linked to the version in production today.
    linked = KpiActual.objects.exclude(deployment=None).values_list("deployment__version__model__name", flat=True)
    assert set(linked) == {"footfall-forecast", "claims-router"}


def test_seeding_again_changes_nothing(seeded: None) -> None:
    counts = (Monitor.objects.count(), Batch.objects.count(), KpiActual.objects.count(), AuditEvent.objects.count())
    call_command("seed_demo", "--force", stdout=StringIO())
    assert (Monitor.objects.count(), Batch.objects.count(), KpiActual.objects.count()) == counts[:3]
    assert AuditEvent.objects.count() == counts[3]
