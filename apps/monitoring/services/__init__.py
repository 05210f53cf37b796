"""Governed changes of monitoring: set up monitors, receive batches, profile them, judge their windows.

One module per concern: ``monitors`` (set one up), ``batches`` (receive a batch in the request),
``leases`` (claims of batches by workers, their renewal and the sweep), ``profiles`` (profile a
claimed batch once; fold outcomes in), ``windows`` (compute windows), ``breaches`` (open and recover
breaches), ``feeds`` (late feeds, retention), ``kpis`` (KPI actuals), ``prediction_ids`` (each id
counted once), ``sources`` (where a monitor's batches are read from) and ``ingest`` (reading them on a
schedule). Callers import this package.
"""

from __future__ import annotations

from apps.monitoring.services.batches import BatchKeyConflict, batch_receive
from apps.monitoring.services.breaches import judge_breaches
from apps.monitoring.services.feeds import batches_expire, monitors_check_feeds
from apps.monitoring.services.ingest import monitor_ingest, monitor_ingest_request, monitors_ingest_due
from apps.monitoring.services.kpis import deployment_in_production, kpi_actual_link
from apps.monitoring.services.leases import batch_claim, batches_sweep
from apps.monitoring.services.monitors import monitor_create
from apps.monitoring.services.profiles import batch_profile
from apps.monitoring.services.sources import monitor_source_set
from apps.monitoring.services.windows import windows_compute

__all__ = [
    "BatchKeyConflict",
    "batch_claim",
    "batch_profile",
    "batch_receive",
    "batches_expire",
    "batches_sweep",
    "deployment_in_production",
    "judge_breaches",
    "kpi_actual_link",
    "monitor_create",
    "monitor_ingest",
    "monitor_ingest_request",
    "monitor_source_set",
    "monitors_check_feeds",
    "monitors_ingest_due",
    "windows_compute",
]
