"""Who executes a run: claims by conditional update, short leases renewed by the heartbeat, the sweep.

A worker claims a queued run, or a running one whose lease expired (its worker died), with one
conditional update, so two workers never execute the same attempt. The periodic sweep re-sends the
messages that may be lost: a second delivery finds nothing to claim.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Celery, current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.queue import enqueue
from apps.validation.choices import RunStatus
from apps.validation.models import ValidationRun
from apps.validation.services.common import EXECUTE_RUN

logger = logging.getLogger("apps.validation.services")


def lease_seconds() -> int:
    """A claim lasts this long unless renewed: the heartbeat renews it while the worker lives, so a
    dead worker's run is taken over soon after (lease + sweep interval, under a minute by default)."""
    return int(settings.SIGNET_VALIDATION_LEASE_SECONDS)


def run_lease_renew(*, run_id: int, attempt: int) -> bool:
    """Extend the lease of a running run for the attempt that holds it; False when the claim is lost.

    No audit event: like progress, the lease is bookkeeping of who executes, not a governed change.
    """
    renewed = ValidationRun.objects.filter(pk=run_id, attempts=attempt, status=RunStatus.RUNNING).update(
        lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds())
    )
    if renewed:
        return True
    # Lost only to another attempt: a run this attempt finished, or one this connection cannot see
    # (its transaction has not committed), is not another worker's.
    return not ValidationRun.objects.filter(pk=run_id).exclude(attempts=attempt).exists()


def run_claim(run_id: int, worker: str) -> ValidationRun | None:
    """Take a queued run, or a running one whose lease expired; None when someone else has it or it is done."""
    with transaction.atomic():  # the claim and its audit event together
        return _claim(run_id, worker)


def _claim(run_id: int, worker: str) -> ValidationRun | None:
    now = timezone.now()
    # Who held an expired claim, for the audit trail: a takeover says whose run it took (informative only).
    before = ValidationRun.objects.filter(pk=run_id).values_list("status", "worker").first()
    claimed = (
        ValidationRun.objects.filter(pk=run_id)
        .filter(Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING, lease_expires_at__lt=now))
        .update(
            status=RunStatus.RUNNING,
            attempts=F("attempts") + 1,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            worker=worker[:200],
            started_at=Coalesce(F("started_at"), now),
            progress=0,
            step="Starting",
        )
    )
    if not claimed:
        return None
    run = ValidationRun.objects.select_related("version__model__project", "version__card", "reference", "current").get(
        pk=run_id
    )
    audit_record(
        actor=None,
        actor_name="worker",
        action=Action.RUN_STARTED,
        target=run,
        project=run.version.model.project,
        data={
            "attempt": run.attempts,
            "worker": run.worker,
            **({"taken_over_from": before[1]} if before and before[0] == RunStatus.RUNNING else {}),
        },
    )
    return run


def runs_sweep() -> int:
    """Re-send runs whose message may be lost, oldest first; return how many messages were sent.

    A queued run whose message never reached the broker (``enqueued_at`` null: it was down) goes at
    once; any other queued run once its message has waited ``SIGNET_VALIDATION_RESEND_SECONDS``, or
    one sweep interval when the broker's queue is empty (a broker restarted without its data lost
    every message). A running run whose lease expired (its worker died) goes once per expired lease,
    and again on the same terms while nobody claims it. A duplicate message finds nothing to claim.
    Side effects: ``enqueued_at`` and ``execute_run`` messages; none while the broker is down.
    """
    now = timezone.now()
    waited = settings.SIGNET_VALIDATION_RESEND_SECONDS
    if _broker_queue_empty(current_app):
        waited = min(waited, settings.SIGNET_VALIDATION_SWEEP_SECONDS)
    due = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - timedelta(seconds=waited))
    stale = ValidationRun.objects.filter(
        Q(status=RunStatus.QUEUED) & due
        | Q(status=RunStatus.RUNNING, lease_expires_at__lt=now) & (due | Q(enqueued_at__lt=F("lease_expires_at")))
    )
    ids = list(stale.order_by("pk").values_list("pk", flat=True)[:200])
    ValidationRun.objects.filter(pk__in=ids).update(enqueued_at=now)  # the next sweep does not send them again
    for sent, pk in enumerate(ids):
        try:
            enqueue(EXECUTE_RUN, pk)
        except Exception:  # noqa: BLE001 - the broker went away again; what was not sent goes next time
            ValidationRun.objects.filter(pk__in=ids[sent:]).update(enqueued_at=None)
            logger.warning(
                "validation sweep: the broker is unreachable; %s runs wait for the next sweep", len(ids) - sent
            )
            return sent
    return len(ids)


def _broker_queue_empty(app: Celery) -> bool:
    """Whether the default queue holds no message (False when the broker cannot tell or is down)."""
    try:
        with app.connection_for_write() as broker:
            channel = broker.channel()  # one try to connect, no retries
            try:
                declared = channel.queue_declare(queue=settings.CELERY_TASK_DEFAULT_QUEUE)  # type: ignore[attr-defined]  # not in the stubs
            finally:
                channel.close()
    except Exception:  # noqa: BLE001 - any broker error: assume messages are waiting, resend later
        return False
    return int(declared.message_count) == 0
