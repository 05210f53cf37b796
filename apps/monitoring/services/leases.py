"""Who profiles a batch: claims by conditional update, short leases renewed by a heartbeat, the sweep.

The same scheme as validation runs (apps/validation/services/leases.py, docs/decisions/0013), with
validation's lease, heartbeat, sweep and attempt settings: a worker claims a received batch, one
whose lease expired (its worker died), or a profiled one that new outcomes made stale, with one
conditional update; a second message for the same batch finds nothing to claim.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.queue import enqueue
from apps.monitoring.choices import BatchStatus
from apps.monitoring.models import Batch
from apps.monitoring.services.common import ACTOR, PROFILE_BATCH
from apps.validation.services import lease_seconds

logger = logging.getLogger("apps.monitoring.services")


def _claimable(now: object) -> Q:
    expired = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    return (
        Q(status=BatchStatus.RECEIVED)
        | Q(status=BatchStatus.PROFILING, lease_expires_at__lt=now)
        | Q(status=BatchStatus.PROFILED, needs_refresh=True) & expired
    )


def batch_claim(batch_id: int, worker: str) -> Batch | None:
    """Take a batch to profile; None when another worker holds it or there is nothing to do.

    Side effects: ``monitoring.batch.profiling_started`` (with whose expired claim it took over).
    """
    now = timezone.now()
    with transaction.atomic():
        before = Batch.objects.filter(pk=batch_id).values_list("status", "worker").first()
        claimed = (
            Batch.objects.filter(pk=batch_id)
            .filter(_claimable(now))
            .update(
                status=BatchStatus.PROFILING,
                attempts=F("attempts") + 1,
                lease_expires_at=now + timedelta(seconds=lease_seconds()),
                worker=worker[:200],
                needs_refresh=False,
            )
        )
        if not claimed:
            return None
        batch = Batch.objects.select_related("monitor__version__model__project", "monitor__reference").get(pk=batch_id)
        audit_record(
            actor=None,
            actor_name=ACTOR,
            action=Action.MONITOR_BATCH_STARTED,
            target=batch,
            project=batch.monitor.version.model.project,
            data={
                "attempt": batch.attempts,
                "worker": batch.worker,
                **({"taken_over_from": before[1]} if before and before[0] == BatchStatus.PROFILING else {}),
            },
        )
        return batch


def batch_lease_renew(*, batch_id: int, attempt: int) -> bool:
    """Extend the claim of the attempt that holds it; False once another attempt has the batch."""
    renewed = Batch.objects.filter(pk=batch_id, attempts=attempt, status=BatchStatus.PROFILING).update(
        lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds())
    )
    return bool(renewed) or not Batch.objects.filter(pk=batch_id).exclude(attempts=attempt).exists()


def batches_sweep() -> int:
    """Re-send the messages of batches that may be lost; return how many were sent.

    A batch whose message never reached the broker goes at once; a received or stale one whose
    message waited ``SIGNET_VALIDATION_RESEND_SECONDS``, and one whose worker died (its lease
    expired), again. A duplicate message finds nothing to claim. Side effects: ``enqueued_at``.
    """
    now = timezone.now()
    due = Q(enqueued_at__isnull=True) | Q(
        enqueued_at__lt=now - timedelta(seconds=settings.SIGNET_VALIDATION_RESEND_SECONDS)
    )
    stale = Batch.objects.filter(
        (Q(status=BatchStatus.RECEIVED) | Q(status=BatchStatus.PROFILED, needs_refresh=True)) & due
        | Q(status=BatchStatus.PROFILING, lease_expires_at__lt=now) & (due | Q(enqueued_at__lt=F("lease_expires_at")))
    )
    ids = list(stale.order_by("pk").values_list("pk", flat=True)[:500])
    Batch.objects.filter(pk__in=ids).update(enqueued_at=now)
    for sent, pk in enumerate(ids):
        try:
            enqueue(PROFILE_BATCH, pk)
        except Exception:  # noqa: BLE001 - the broker went away again; what was not sent goes next time
            Batch.objects.filter(pk__in=ids[sent:]).update(enqueued_at=None)
            logger.warning("monitoring sweep: the broker is unreachable; %s batches wait", len(ids) - sent)
            return sent
    return len(ids)
