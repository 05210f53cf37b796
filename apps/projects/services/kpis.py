"""KPIs, the project's success criteria, and their values over time."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between, snapshot
from apps.core.permissions import require, unique_or_invalid
from apps.projects import permissions as can
from apps.projects.models import Kpi, KpiMeasurement, Project
from apps.projects.signals import kpi_measured


def kpi_create(
    *, actor: User, project: Project, name: str, target: Decimal, unit: str = "", direction: str = "higher"
) -> Kpi:
    """Add a success criterion. Side effects: ``projects.kpi.created``."""
    require(can.can_edit_project(actor, project), "Only the project's owners and business owners set its KPIs.")
    kpi = Kpi(project=project, name=name.strip(), target=target, unit=unit.strip(), direction=direction)
    kpi.full_clean()
    with transaction.atomic():
        with unique_or_invalid("name", "This project already has a KPI with this name."):
            kpi.save()
        audit_record(
            actor=actor,
            action=Action.KPI_CREATED,
            target=kpi,
            project=project,
            changes=changes_between({}, snapshot(kpi, ("name", "target", "unit", "direction"))),
        )
    return kpi


def kpi_record_value(*, actor: User, kpi: Kpi, value: Decimal, measured_at: datetime | None = None) -> KpiMeasurement:
    """Record the KPI's value now, or as measured at ``measured_at`` (history is kept).

    Side effects: ``projects.kpi.measured``; the ``kpi_measured`` signal in the same transaction.
    Raises PermissionDenied, ValidationError (a time in the future).
    """
    project = kpi.project
    require(
        can.can_edit_project(actor, project) or can.can_build(actor, project),
        "Only the project's owners, business owners and developers record KPI values.",
    )
    now = timezone.now()
    if measured_at is not None and measured_at > now + timedelta(minutes=5):
        raise ValidationError({"measured_at": "A KPI value is measured in the past, not in the future."})
    measurement = KpiMeasurement(kpi=kpi, value=value, recorded_by=actor, measured_at=measured_at or now)
    measurement.full_clean()
    with transaction.atomic():
        measurement.save()
        audit_record(
            actor=actor,
            action=Action.KPI_MEASURED,
            target=kpi,
            project=project,
            data={"value": str(value), "measured_at": measurement.measured_at.isoformat()},
        )
        kpi_measured.send(sender=KpiMeasurement, measurement=measurement)
    return measurement
