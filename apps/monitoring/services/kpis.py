"""KPI actuals: each value, by hand or through the API, linked to the deployment in production at its time."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.monitoring.models import KpiActual
from apps.monitoring.services.common import ACTOR
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects.choices import KpiDirection, ProjectRole
from apps.projects.models import Kpi, KpiMeasurement, Project
from apps.projects.selectors import project_people
from apps.workflows.models import Deployment


def deployment_in_production(project: Project, at: datetime) -> Deployment | None:
    """The newest deployment of a version of ``project`` to production recorded at or before ``at``."""
    return (
        Deployment.objects.filter(
            version__model__project=project,
            environment=settings.SIGNET_MONITORING_PRODUCTION_ENVIRONMENT,
            deployed_at__lte=at,
        )
        .select_related("version__model")
        .order_by("-deployed_at", "-pk")
        .first()
    )


def misses_target(kpi: Kpi, value: object) -> bool:
    if kpi.direction == KpiDirection.LOWER:
        return bool(value > kpi.target)  # type: ignore[operator]
    return bool(value < kpi.target)  # type: ignore[operator]


def kpi_actual_link(*, measurement: KpiMeasurement) -> KpiActual:
    """Link a KPI value just recorded to the deployment in production when it was measured.

    Called inside the transaction that records the value (``projects.signals.kpi_measured``).
    Side effects: ``monitoring.kpi_actual.linked``; a missed target, the ``kpi.missed`` notification
    to the project's business owners and owners.
    """
    kpi = measurement.kpi
    project = kpi.project
    deployment = deployment_in_production(project, measurement.measured_at)
    missed = misses_target(kpi, measurement.value)
    actual = KpiActual.objects.create(measurement=measurement, deployment=deployment, missed=missed)
    version = deployment.version if deployment else None
    audit_record(
        actor=None,
        actor_name=ACTOR,
        action=Action.MONITOR_KPI_LINKED,
        target=kpi,
        project=project,
        data={"measurement": measurement.pk, "deployment": deployment.pk if deployment else None,
              "version": version.pk if version else None, "missed": missed, "value": str(measurement.value)},
    )  # fmt: skip
    if missed:
        under = f" while {version.model.name} v{version.number} was in production" if version else ""
        announce(
            event=Event.KPI_MISSED,
            title=f"{kpi.name} missed its target in {project.name}",
            body=f"{kpi.name} was {measurement.value.normalize():f} {kpi.unit}".rstrip()
            + f" on {measurement.measured_at:%Y-%m-%d %H:%M} UTC{under}; the target is {kpi.target.normalize():f}.",
            recipients=project_people(project, ProjectRole.BUSINESS_OWNER, ProjectRole.OWNER),
            url=f"/projects/{project.slug}/",
            project=project,
            data={"kpi": kpi.pk, "measurement": measurement.pk, "value": str(measurement.value)},
        )
    return actual
