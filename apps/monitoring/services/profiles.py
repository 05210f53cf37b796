"""Profile a claimed batch once, for the attempt that holds it; fold outcomes into the predictions they label.

A predictions batch becomes one profile per UTC hour (the engine's exact counts), with the targets
of the outcome batches received since it joined by id. An outcomes batch marks the predictions it
may label as stale: each is profiled again with it, and its profiles are replaced in one
transaction, so a batch has exactly one profile per hour whatever the workers did. Only the worker
that still holds the claim writes; a killed worker's batch is claimed again once its lease expires.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.text import storable
from apps.monitoring import profiling
from apps.monitoring.choices import BatchKind, BatchStatus
from apps.monitoring.models import Batch, BatchProfile
from apps.monitoring.services import prediction_ids
from apps.monitoring.services.common import (
    ACTOR,
    COMPUTE_WINDOWS,
    PROFILE_BATCH,
    discard,
    local_files,
    send_after_commit,
    store_bytes,
)
from apps.monitoring.services.leases import batch_claim, batch_lease_renew
from apps.validation.heartbeat import Heartbeat

JOINABLE = (BatchStatus.RECEIVED, BatchStatus.PROFILING, BatchStatus.PROFILED)


def batch_profile(batch_id: int, *, worker: str | None = None) -> str:
    """Claim and profile one batch; return its status afterwards (or why nothing was done).

    Side effects: profile files and rows (replacing the batch's earlier ones),
    ``monitoring.batch.profiled`` or ``monitoring.batch.quarantined``, the task ``compute_windows``
    for the hours that changed; for an outcomes batch, ``profile_batch`` for each prediction batch
    it may label. Never raises for a bad batch.
    """
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    batch = batch_claim(batch_id, worker)
    if batch is None:
        current = Batch.objects.filter(pk=batch_id).values_list("status", flat=True).first()
        return f"not claimed ({current or 'missing'})"
    claimed = batch

    def renew() -> bool:
        return batch_lease_renew(batch_id=claimed.pk, attempt=claimed.attempts)

    interval = settings.SIGNET_VALIDATION_HEARTBEAT_SECONDS
    with Heartbeat(renew, interval=interval, name=f"batch {batch.pk} attempt {batch.attempts}") as heartbeat:
        if batch.attempts > settings.SIGNET_VALIDATION_MAX_ATTEMPTS:
            return _quarantine(batch, f"Gave up after {batch.attempts - 1} attempts: the worker stopped each time.")
        if batch.kind == BatchKind.OUTCOMES:
            return _fold_outcomes(batch)
        outcomes = list(_outcomes_for(batch).values_list("pk", "file"))
        try:
            with local_files([batch.file.name, *(name for _pk, name in outcomes)]) as (path, *outcome_paths):
                hours = profiling.profile(
                    path, batch.monitor.reference_state, now=batch.received_at, outcomes=outcome_paths
                )
        except profiling.BatchError as exc:
            return _quarantine(batch, str(exc))
        if heartbeat.lost.is_set():
            return f"not recorded (claim lost to attempt {batch.attempts + 1} or later)"
        return _record(batch, hours, max((pk for pk, _name in outcomes), default=0))


def _outcomes_for(batch: Batch):  # type: ignore[no-untyped-def]  # a queryset of outcome batches
    """The outcome batches that may label ``batch``: received since its lookback began, in arrival order."""
    since = batch.received_at - timedelta(days=batch.monitor.outcome_lookback_days)
    return (
        Batch.objects.filter(
            monitor_id=batch.monitor_id, kind=BatchKind.OUTCOMES, status__in=JOINABLE, received_at__gte=since
        )
        .exclude(file="")
        .order_by("pk")
    )


def _held(batch: Batch) -> Batch | None:
    """The batch row locked, if this attempt still holds its claim."""
    locked = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
    if locked.status != BatchStatus.PROFILING or locked.attempts != batch.attempts:
        return None
    return locked


def _release(locked: Batch, batch: Batch, status: str, action: str, data: dict[str, object]) -> None:
    """End the attempt that holds ``locked``: its new status, the lease given back, the trail's event.

    ``batch`` is the claimed row (its monitor and project are loaded); the caller's transaction holds the lock.
    """
    locked.status = status
    locked.lease_expires_at = None
    locked.save()
    audit_record(
        actor=None,
        actor_name=ACTOR,
        action=action,
        target=locked,
        project=batch.monitor.version.model.project,
        data={"attempt": locked.attempts, **data},
    )


def _record(batch: Batch, hours: list[profiling.HourProfile], outcomes_through: int) -> str:
    monitor = batch.monitor
    attempt = f"{batch.attempts}-{uuid.uuid4().hex[:8]}"
    written = [
        (
            hour,
            store_bytes(
                hour.data, f"monitoring/{monitor.pk}/profiles/{batch.pk}/{attempt}-{hour.start:%Y%m%dT%H}.json"
            ),
        )
        for hour in hours
    ]
    with transaction.atomic():
        locked = _held(batch)
        if locked is None:
            discard(*(name for _hour, name in written))
            return "not recorded (claim lost)"
        earlier = list(BatchProfile.objects.filter(batch=locked).values_list("start", "file"))
        BatchProfile.objects.filter(batch=locked).delete()
        BatchProfile.objects.bulk_create(
            BatchProfile(
                batch=locked, monitor=monitor, start=hour.start, rows=hour.rows, labelled=hour.labelled, file=name
            )
            for hour, name in written
        )
        refresh = locked.profiled_at is not None
        locked.outcomes_through = outcomes_through
        locked.first_at = min((h.start for h in hours), default=None)
        locked.last_at = max((h.start for h in hours), default=None)
        locked.profiled_at = timezone.now()
        # Outcomes that arrived while this attempt read the older ones: profile it again with them.
        newer = _outcomes_for(locked).filter(pk__gt=outcomes_through).exists()
        locked.needs_refresh = newer
        _release(
            locked,
            batch,
            BatchStatus.PROFILED,
            Action.MONITOR_BATCH_PROFILED,
            {
                "hours": len(hours),
                "rows": sum(h.rows for h in hours),
                "labelled": sum(h.labelled for h in hours),
                "outcomes_through": outcomes_through,
                "refresh": refresh,
            },
        )
        transaction.on_commit(lambda: discard(*(name for _start, name in earlier)))
        changed = sorted({*(start for start, _name in earlier), *(h.start for h in hours)})
        send_after_commit(COMPUTE_WINDOWS, monitor.pk, [hour.isoformat() for hour in changed])
        if newer:
            send_after_commit(PROFILE_BATCH, locked.pk, batch_id=locked.pk)
    return BatchStatus.PROFILED


def _quarantine(batch: Batch, reason: str) -> str:
    """Set the batch aside with the reason; its profiles, if any, no longer count."""
    with transaction.atomic():
        locked = _held(batch)
        if locked is None:
            return "not recorded (claim lost)"
        hours: list[datetime] = list(BatchProfile.objects.filter(batch=locked).values_list("start", flat=True))
        files = list(BatchProfile.objects.filter(batch=locked).values_list("file", flat=True))
        BatchProfile.objects.filter(batch=locked).delete()
        prediction_ids.forget([locked.pk])  # never counted: a corrected batch may send its ids again
        locked.reason = storable(reason)[:2000]
        _release(locked, batch, BatchStatus.QUARANTINED, Action.MONITOR_BATCH_QUARANTINED, {"reason": locked.reason})
        transaction.on_commit(lambda: discard(*files))
        if hours:
            send_after_commit(COMPUTE_WINDOWS, batch.monitor_id, [hour.isoformat() for hour in hours])
    return BatchStatus.QUARANTINED


def _fold_outcomes(batch: Batch) -> str:
    """Mark the prediction batches this outcomes batch may label as stale, and send each to be profiled again."""
    now = timezone.now()
    with transaction.atomic():
        locked = _held(batch)
        if locked is None:
            return "not recorded (claim lost)"
        since = locked.received_at - timedelta(days=batch.monitor.outcome_lookback_days)
        stale = list(
            Batch.objects.filter(
                monitor_id=locked.monitor_id,
                kind=BatchKind.PREDICTIONS,
                status=BatchStatus.PROFILED,
                received_at__gte=since,
                raw_deleted_at__isnull=True,
            ).values_list("pk", flat=True)
        )
        Batch.objects.filter(pk__in=stale).update(needs_refresh=True, enqueued_at=now)
        locked.profiled_at = now
        _release(
            locked,
            batch,
            BatchStatus.PROFILED,
            Action.MONITOR_BATCH_PROFILED,
            {"rows": locked.row_count, "predictions_to_label": len(stale)},
        )
        for pk in stale:
            send_after_commit(PROFILE_BATCH, pk, batch_id=pk)
    return BatchStatus.PROFILED
