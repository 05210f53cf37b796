"""Receivers of the signals of the apps monitoring builds on; MonitoringConfig.ready connects them."""

from __future__ import annotations

from typing import Any

from apps.monitoring.services import kpi_actual_link
from apps.projects.models import KpiMeasurement


def link_kpi_actual(sender: Any, *, measurement: KpiMeasurement, **kwargs: Any) -> None:
    """On ``projects.signals.kpi_measured``: link the value to the deployment in production at its time."""
    kpi_actual_link(measurement=measurement)
