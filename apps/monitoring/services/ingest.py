"""Read the monitors' sources on a schedule: each new file goes the way of a batch sent through the API.

Beat sends ``monitoring_ingest`` every ``SIGNET_MONITORING_INGEST_SECONDS``; it sends a reading
(``ingest_source``) of each active monitor with a source, and a person may ask for one
(``monitor_ingest_request``). A reading holds the monitor's source lease, so two never overlap. Each
file new since the last reading (or changed: size, time or content) is copied to a temporary folder
and received by ``batches.receive``, with all its checks: its key is the file's location and SHA-256,
so a file read twice is counted once. A refused file is recorded with its reason
(``monitoring.source_file.refused``) and not read again until it changes; a file whose reading fails
otherwise (a fault, perhaps passing) is logged and tried again at the next reading. Each reading
first asks again whether the person who set the source may still feed the project. Signet's
monitoring work is the trail's actor; the batch row names the person who set the source.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.permissions import require
from apps.core.queue import enqueue
from apps.core.text import storable
from apps.monitoring.choices import MonitorStatus, SourceFileStatus
from apps.monitoring.models import Monitor, SourceFile
from apps.monitoring.permissions import FEED_DENIED, can_feed
from apps.monitoring.selectors import IN_SERVICE
from apps.monitoring.services import sources
from apps.monitoring.services.batches import MAX_KEY, BatchKeyConflict, batch_receive_from_source
from apps.monitoring.services.common import ACTOR, INGEST_SOURCE, send_after_commit

logger = logging.getLogger("apps.monitoring.services")

LOCATION = SourceFile._meta.get_field("location").max_length or 1200


class ReadingUnderWay(Exception):
    """A reading of the monitor's source holds its lease now (the API answers 409)."""


LEASE = timedelta(minutes=15)  # renewed before each file; a killed reading frees it 15 minutes after its last file


def monitors_ingest_due() -> int:
    """Send a reading of each active monitor with a source whose lease is free; return how many were sent."""
    now = timezone.now()
    due = (
        Monitor.objects.filter(IN_SERVICE, status=MonitorStatus.ACTIVE)
        .exclude(source="")
        .filter(Q(source_lease_until__isnull=True) | Q(source_lease_until__lt=now))
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in due:
        try:
            enqueue(INGEST_SOURCE, pk)
        except Exception:  # noqa: BLE001 - kombu's errors while the broker is down vary; the next beat sends again
            logger.warning("monitoring ingest: the broker is unreachable; readings wait for the next beat")
            break
        sent += 1
    return sent


def monitor_ingest_request(*, actor: User, monitor: Monitor) -> None:
    """Ask for a reading of the monitor's source now (owners, developers and IT operations).

    Side effects: ``monitoring.monitor.ingest_requested``, the task ``ingest_source`` after commit.
    Raises PermissionDenied, ValidationError (no source), ReadingUnderWay (a reading holds the lease).
    """
    project = monitor.version.model.project
    require(can_feed(actor, project), FEED_DENIED)
    if not monitor.source:
        raise ValidationError({"source": "This monitor has no source to read; set one first."})
    if monitor.status != MonitorStatus.ACTIVE:
        raise ValidationError({"monitor": "This monitor is paused; it takes no batches."})
    with transaction.atomic():
        if Monitor.objects.filter(pk=monitor.pk, source_lease_until__gt=timezone.now()).exists():
            raise ReadingUnderWay("A reading of this monitor's source is under way; ask again once it has ended.")
        audit_record(
            actor=actor,
            action=Action.MONITOR_INGEST_REQUESTED,
            target=monitor,
            project=project,
            data={"source": monitor.source},
        )
        send_after_commit(INGEST_SOURCE, monitor.pk)


def monitor_ingest(monitor_id: int) -> str:
    """Read the monitor's source once, if no other reading holds it; return what was done, in words.

    Side effects: batches received (as ``batch_receive``), ``SourceFile`` rows,
    ``monitoring.source_file.refused`` per refused file, ``monitoring.monitor.source_unreadable`` /
    ``.source_readable`` when the source as a whole stops or starts being readable. Never raises for
    a bad file or source.
    """
    now = timezone.now()
    lease = Lease(monitor_id, now + LEASE)
    claimed = (
        Monitor.objects.filter(pk=monitor_id, status=MonitorStatus.ACTIVE)
        .exclude(source="")
        .filter(Q(source_lease_until__isnull=True) | Q(source_lease_until__lt=now))
        .update(source_lease_until=lease.until)
    )
    if not claimed:
        return "not read (no source, paused, or another reading holds it)"
    monitor = Monitor.objects.select_related("version__model__project", "source_set_by", "created_by").get(
        pk=monitor_id
    )
    try:
        return _read(monitor, lease)
    finally:
        lease.release()


class Lease:
    """This reading's hold on the monitor's source: its expiry is its token.

    Renewed before each file; released only if still held (a reading that outlived its lease, which
    another reading then took, leaves that one's lease alone).
    """

    def __init__(self, monitor_id: int, until: datetime) -> None:
        self.monitor_id, self.until = monitor_id, until

    def _held(self) -> QuerySet[Monitor]:
        return Monitor.objects.filter(pk=self.monitor_id, source_lease_until=self.until)

    def renew(self) -> bool:
        until = timezone.now() + LEASE
        if not self._held().update(source_lease_until=until):
            return False
        self.until = until
        return True

    def release(self) -> None:
        self._held().update(source_lease_until=None, source_scanned_at=timezone.now())


def _still_governed(monitor: Monitor) -> str:
    """Why the source may not be read now ('' if it may): its setter's roles are asked again at each reading."""
    project = monitor.version.model.project
    setter = monitor.source_set_by
    if setter is None or not can_feed(setter, project):
        return (
            "The person who set this source may no longer feed this project's monitors; "
            "an owner, developer or IT operations member must set the source again."
        )
    return ""


def _read(monitor: Monitor, lease: Lease) -> str:
    current = Monitor.objects.filter(pk=monitor.pk).values_list("status", "source").first()
    if current != (MonitorStatus.ACTIVE, monitor.source):
        return "not read (paused, or its source changed since the reading began)"
    denied = _still_governed(monitor)
    if denied:
        _source_state(monitor, denied)
        return f"source unreadable: {denied}"
    slug = monitor.version.model.project.slug
    try:
        found = list(sources.entries(monitor.source, slug))
    except sources.SourceError as exc:
        _source_state(monitor, str(exc))
        return f"source unreadable: {exc}"
    _source_state(monitor, "")
    known = {
        row.location: row
        for row in SourceFile.objects.filter(monitor=monitor, location__in=[e.location for e in found])
    }
    settled = timezone.now() - timedelta(seconds=settings.SIGNET_MONITORING_INGEST_SETTLE_SECONDS)
    read = received = refused = failed = 0
    for entry in found:
        if len(entry.location) > LOCATION:  # a storage name longer than a file name can be: never stored
            logger.warning("monitoring ingest: %s… is too long a name to record; it is not read", entry.location[:200])
            continue
        row = known.get(entry.location)
        if row is not None and row.size == entry.size and row.modified_at == entry.modified_at:
            continue  # read before, unchanged since
        if entry.modified_at is not None and entry.modified_at > settled:
            continue  # still being written, perhaps: the next reading takes it
        if read >= settings.SIGNET_MONITORING_INGEST_MAX_FILES:
            break
        if not lease.renew():  # outlived: another reading holds the source now and goes on from here
            logger.warning("monitoring ingest: the reading of monitor %s lost its lease; it stops", monitor.pk)
            break
        read += 1
        try:
            outcome = _ingest(monitor, entry, row, slug)
        except Exception:  # any fault of one file, perhaps passing: the next reading tries it again
            logger.exception(
                "monitoring ingest: reading %s failed; it is tried again at the next reading", entry.location
            )
            failed += 1
            continue
        received += outcome == SourceFileStatus.RECEIVED
        refused += outcome == SourceFileStatus.REFUSED
    summary = f"read {read} files: {received} received, {refused} refused"
    return summary + (f", {failed} failed" if failed else "")


def _ingest(monitor: Monitor, entry: sources.Entry, row: SourceFile | None, slug: str) -> str | None:
    """Read one file and record what became of it; None when its content is the one read before."""
    with tempfile.TemporaryDirectory(prefix="signet-ingest-") as folder:
        copy = Path(folder) / ("batch" + Path(entry.name).suffix.lower())
        try:
            sha256 = sources.copy_to(entry, copy, settings.SIGNET_MAX_UPLOAD_BYTES, slug)
        except sources.Unreadable as exc:
            return _refused(monitor, entry, "", str(exc))
        if row is not None and row.sha256 == sha256:
            # The same bytes (touched, or their permissions changed back): nothing new to receive.
            SourceFile.objects.filter(pk=row.pk).update(size=entry.size, modified_at=entry.modified_at)
            return None
        tail = MAX_KEY - len(sha256) - 1
        location = entry.location if len(entry.location) <= tail else "…" + entry.location[-(tail - 1) :]
        try:
            batch, _new = batch_receive_from_source(
                monitor=monitor,
                kind=entry.kind,
                path=copy,
                name=entry.name,
                location=entry.location,
                key=f"{location}@{sha256}",
            )
        except ValidationError as exc:
            return _refused(monitor, entry, sha256, _sentence(exc))
        except BatchKeyConflict as exc:  # pragma: no cover - the key holds the SHA-256 of the content
            return _refused(monitor, entry, sha256, str(exc))
    _save(monitor, entry, sha256, SourceFileStatus.RECEIVED, "", batch_id=batch.pk)
    return SourceFileStatus.RECEIVED


def _sentence(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(message for messages in exc.message_dict.values() for message in messages)
    return " ".join(exc.messages)


def _save(
    monitor: Monitor,
    entry: sources.Entry,
    sha256: str,
    status: str,
    reason: str,
    batch_id: int | None = None,
) -> SourceFile:
    values = {
        "kind": entry.kind,
        "size": entry.size,
        "modified_at": entry.modified_at,
        "sha256": sha256,
        "status": status,
        "reason": storable(reason)[:2000],
        "batch_id": batch_id,
        "read_at": timezone.now(),
    }
    saved, _created = SourceFile.objects.update_or_create(monitor=monitor, location=entry.location, defaults=values)
    return saved


def _refused(monitor: Monitor, entry: sources.Entry, sha256: str, reason: str) -> str:
    with transaction.atomic():
        saved = _save(monitor, entry, sha256, SourceFileStatus.REFUSED, reason)
        audit_record(
            actor=None,
            actor_name=ACTOR,
            action=Action.MONITOR_SOURCE_FILE_REFUSED,
            target=saved,
            project=monitor.version.model.project,
            data={"monitor": monitor.pk, "file": entry.location[:1200], "kind": entry.kind, "size": entry.size,
                  "sha256": sha256, "reason": saved.reason},
        )  # fmt: skip
    return SourceFileStatus.REFUSED


def _source_state(monitor: Monitor, error: str) -> None:
    """Record whether the source as a whole can be read, with an event when that changes."""
    error = storable(error)[:2000]
    with transaction.atomic():
        changed = Monitor.objects.filter(pk=monitor.pk).exclude(source_error=error).update(source_error=error)
        if not changed:
            return
        audit_record(
            actor=None,
            actor_name=ACTOR,
            action=Action.MONITOR_SOURCE_UNREADABLE if error else Action.MONITOR_SOURCE_READABLE,
            target=monitor,
            project=monitor.version.model.project,
            data={"source": monitor.source, **({"reason": error} if error else {})},
        )
