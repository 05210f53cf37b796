"""Periodic care of the monitors: the ones not fed for longer than expected, and raw batches past retention."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import AuditEntry, audit_record, audit_record_many
from apps.monitoring.choices import MonitorStatus
from apps.monitoring.models import Batch, Monitor
from apps.monitoring.selectors import IN_SERVICE
from apps.monitoring.services import prediction_ids
from apps.monitoring.services.breaches import monitor_url
from apps.monitoring.services.common import ACTOR, discard, label, listeners
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects.choices import ProjectRole
from apps.projects.selectors import project_people


def monitors_check_feeds() -> int:
    """Tell the listeners and IT operations of each active monitor not fed for longer than expected, once.

    A monitor is late when no batch came within ``expected_interval_minutes`` of its last one (or
    of its creation); it is told once until a batch comes again (``batch_receive`` clears it).
    Side effects: ``monitoring.monitor.feed_late``, the ``monitor.feed_late`` notification. Returns
    how many monitors were found late.
    """
    now = timezone.now()
    candidates = (
        Monitor.objects.filter(
            IN_SERVICE,
            status=MonitorStatus.ACTIVE,
            expected_interval_minutes__isnull=False,
            feed_late_since__isnull=True,
        )
        .annotate(fed=Coalesce(F("last_batch_at"), F("created_at")))
        .select_related("version__model__project", "deployment")
    )
    late = 0
    for monitor in candidates.iterator():
        assert monitor.expected_interval_minutes is not None  # filtered above
        if monitor.fed + timedelta(minutes=monitor.expected_interval_minutes) > now:
            continue
        with transaction.atomic():
            marked = Monitor.objects.filter(pk=monitor.pk, feed_late_since__isnull=True).update(feed_late_since=now)
            if not marked:
                continue  # another check, or a batch, got there first
            project = monitor.version.model.project
            since = monitor.last_batch_at
            audit_record(
                actor=None,
                actor_name=ACTOR,
                action=Action.MONITOR_FEED_LATE,
                target=monitor,
                project=project,
                data={"last_batch_at": since.isoformat() if since else None,
                      "expected_interval_minutes": monitor.expected_interval_minutes},
            )  # fmt: skip
            fed = f"its last batch came at {since:%Y-%m-%d %H:%M} UTC" if since else "it has received no batch yet"
            announce(
                event=Event.MONITOR_FEED_LATE,
                title=f"{label(monitor)}: monitor {monitor.name} is not being fed",
                body=f"The monitor expects a batch every {monitor.expected_interval_minutes} minutes; {fed}.",
                recipients=[*listeners(monitor), *project_people(project, ProjectRole.IT_OPS)],
                url=monitor_url(monitor),
                project=project,
                data={"monitor": monitor.pk},
            )
            late += 1
    return late


def batches_expire(limit: int = 1000) -> int:
    """Delete the raw files of batches past their monitor's retention (profiles stay); return how many.

    Side effects: files removed from storage, the batches' prediction ids forgotten,
    ``monitoring.batch.raw_deleted`` per batch.
    """
    now = timezone.now()
    expired: list[Batch] = []
    for monitor_id, days in Monitor.objects.values_list("pk", "retention_days"):  # a few monitors, many batches
        expired += (
            Batch.objects.filter(monitor_id=monitor_id, raw_deleted_at__isnull=True)
            .exclude(file="")
            .filter(received_at__lt=now - timedelta(days=days))
            .select_related("monitor__version__model__project")
            .order_by("pk")[: limit - len(expired)]
        )
        if len(expired) >= limit:
            break
    if not expired:
        return 0
    with transaction.atomic():
        names = [batch.file.name for batch in expired]
        Batch.objects.filter(pk__in=[b.pk for b in expired]).update(file="", raw_deleted_at=now)
        # Past the retention a batch's ids are forgotten too: the index stays the size of the raw data kept.
        prediction_ids.forget([b.pk for b in expired])
        audit_record_many(
            AuditEntry(
                actor=None,
                actor_name=ACTOR,
                action=Action.MONITOR_BATCH_RAW_DELETED,
                target=batch,
                project=batch.monitor.version.model.project,
                data={"retention_days": batch.monitor.retention_days},
            )
            for batch in expired
        )
        transaction.on_commit(lambda: discard(*names))
    return len(expired)
