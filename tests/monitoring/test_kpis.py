"""KPI actuals: by hand and through the API, each linked to the deployment in production at its time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.monitoring.models import KpiActual
from apps.notifications.models import Notification
from apps.projects import services as projects
from apps.workflows.models import Deployment
from tests.monitoring.conftest import deployed
from tests.workflows.conftest import Flow


@pytest.fixture
def kpi(flow: Flow):
    return projects.kpi_create(
        actor=flow.owner, project=flow.project, name="Approval rate", target=Decimal("0.6"), unit=""
    )


def test_a_value_recorded_by_hand_is_linked_to_the_deployment_in_production(flow: Flow, kpi) -> None:
    before = projects.kpi_record_value(actor=flow.owner, kpi=kpi, value=Decimal("0.7"))
    deployment = deployed(flow)
    after = projects.kpi_record_value(actor=flow.business_owner, kpi=kpi, value=Decimal("0.65"))
    assert KpiActual.objects.get(measurement=before).deployment is None
    assert KpiActual.objects.get(measurement=after).deployment == deployment
    assert AuditEvent.objects.filter(action="monitoring.kpi_actual.linked").count() == 2


def test_a_value_measured_before_the_deployment_is_linked_to_what_ran_then(flow: Flow, kpi) -> None:
    deployment = deployed(flow)
    Deployment.objects.filter(pk=deployment.pk).update(deployed_at=timezone.now() - timedelta(days=3))
    old = projects.kpi_record_value(
        actor=flow.owner, kpi=kpi, value=Decimal("0.7"), measured_at=timezone.now() - timedelta(days=5)
    )
    recent = projects.kpi_record_value(
        actor=flow.owner, kpi=kpi, value=Decimal("0.7"), measured_at=timezone.now() - timedelta(days=1)
    )
    linked = {actual.measurement_id: actual.deployment for actual in KpiActual.objects.all()}
    assert (linked[old.pk], linked[recent.pk]) == (None, deployment)


def test_a_missed_target_tells_the_business_owner(flow: Flow, kpi) -> None:
    deployed(flow)
    projects.kpi_record_value(actor=flow.developer, kpi=kpi, value=Decimal("0.4"))
    told = Notification.objects.get(event="kpi.missed", recipient=flow.business_owner)
    assert "Approval rate was 0.4" in told.body
    assert "pd-model v1" in told.body
    assert "target is 0.6" in told.body
    projects.kpi_record_value(actor=flow.developer, kpi=kpi, value=Decimal("0.9"))
    assert Notification.objects.filter(event="kpi.missed", recipient=flow.business_owner).count() == 1


def test_a_value_in_the_future_is_refused(flow: Flow, kpi) -> None:
    with pytest.raises(ValidationError, match="not in the future"):
        projects.kpi_record_value(
            actor=flow.owner, kpi=kpi, value=Decimal("1"), measured_at=timezone.now() + timedelta(days=1)
        )
    assert not KpiActual.objects.exists()


def test_the_api_records_and_lists_actuals_over_time(flow: Flow, kpi, api) -> None:
    deployment = deployed(flow)
    url = f"/api/v1/projects/{flow.project.slug}/kpis/{kpi.pk}/actuals/"
    moment = timezone.now().isoformat()
    created = api(flow.developer).post(url, {"value": "0.55", "measured_at": moment}, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["value"], body["deployment"], body["version"], body["missed"]) == (
        "0.550000",
        deployment.pk,
        flow.version.pk,
        True,
    )
    listed = api(flow.auditor).get(url).json()["results"]
    assert [a["id"] for a in listed] == [body["id"]]
    assert api(flow.outsider).get(url).status_code == 404
    refused = api(flow.validator).post(url, {"value": "0.7"}, content_type="application/json")
    assert refused.status_code == 403, refused.content
    bad = api(flow.developer).post(url, {"value": "lots"}, content_type="application/json")
    assert bad.status_code == 400
    assert KpiActual.objects.count() == 1
