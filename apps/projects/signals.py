"""Signals projects sends, so the apps built on it can react without projects importing them."""

from __future__ import annotations

from django.dispatch import Signal

# A KPI value was recorded; sent inside the transaction that records it, with the keyword argument
# measurement=<KpiMeasurement>. Monitoring links it to the deployment in production at that time.
kpi_measured = Signal()
