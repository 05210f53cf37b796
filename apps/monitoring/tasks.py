"""Celery tasks of monitoring: they take ids and call the services."""

from __future__ import annotations

from celery import shared_task

from apps.monitoring import services


@shared_task(bind=True)
def profile_batch(self, batch_id: int) -> str:  # type: ignore[no-untyped-def]
    return services.batch_profile(batch_id, worker=str(self.request.hostname or ""))


@shared_task
def compute_windows(monitor_id: int, hours: list[str]) -> int:
    return services.windows_compute(monitor_id=monitor_id, hours=hours)


@shared_task
def monitoring_sweep() -> int:
    return services.batches_sweep()


@shared_task
def monitoring_feeds() -> int:
    """Monitors not fed for longer than expected, then raw batches past their retention."""
    return services.monitors_check_feeds() + services.batches_expire()


@shared_task
def monitoring_ingest() -> int:
    """Send a reading of every active monitor's source (beat, every ``SIGNET_MONITORING_INGEST_SECONDS``)."""
    return services.monitors_ingest_due()


@shared_task
def ingest_source(monitor_id: int) -> str:
    """Read one monitor's source: each new file becomes a batch, or is recorded as refused with its reason."""
    return services.monitor_ingest(monitor_id)
