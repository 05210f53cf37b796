"""Receive a batch of production data: checked in the request, stored once, profiled by a worker.

Every refusal happens before anything is stored (a 4xx with the reason, state unchanged); a batch
sent again (the same key, or the same content) is the batch already received, never a second one.
"""

from __future__ import annotations

import math
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.permissions import require
from apps.monitoring import profiling
from apps.monitoring.choices import BatchKind, MonitorStatus
from apps.monitoring.models import Batch, Monitor
from apps.monitoring.permissions import FEED_DENIED, can_feed
from apps.monitoring.services import prediction_ids
from apps.monitoring.services.common import ACTOR, PROFILE_BATCH, discard, send_after_commit, store
from apps.monitoring.services.prediction_ids import BatchIds
from apps.registry import ingest

MAX_KEY = 200


@dataclass(frozen=True)
class Sender:
    """Who a batch comes from: a person or service account (``actor``), or the monitor's source read by a worker.

    ``received_by`` is the account the batch row names; ``actor`` None writes the trail's event as
    Signet's monitoring work, with ``data`` (the source and the file) added to it.
    """

    received_by: User
    actor: User | None
    data: dict[str, Any] = field(default_factory=dict)


class BatchKeyConflict(Exception):
    """The batch key was used before for different data (the API answers 409)."""


def rows_to_parquet(rows: object, folder: Path) -> Path:
    """Write JSON rows (a list of objects, one per prediction) as a Parquet file; ValidationError if they are not."""
    if not isinstance(rows, list) or not rows:
        raise ValidationError({"rows": "Send the rows as a non-empty list of objects, one per prediction."})
    limit = settings.SIGNET_MONITORING_MAX_JSON_ROWS
    if len(rows) > limit:
        raise ValidationError({"rows": f"Send at most {limit} rows as JSON; send larger batches as a file."})
    columns = settings.SIGNET_MONITORING_MAX_COLUMNS
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValidationError({"rows": f"Row {index + 1} is not an object of column names and values."})
        if len(row) > columns:
            raise ValidationError({"rows": f"Row {index + 1} has {len(row)} columns; a batch has at most {columns}."})
        for value in row.values():
            if isinstance(value, float) and not math.isfinite(value):  # pragma: no cover - JSON has no NaN
                raise ValidationError({"rows": f"Row {index + 1} holds a value that is not a finite number."})
            if isinstance(value, (dict, list)):
                raise ValidationError({"rows": f"Row {index + 1} holds a nested value; send plain values."})
    try:
        table = pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise ValidationError({"rows": f"The rows do not form a table: {ingest.one_line(str(exc))[:300]}"}) from None
    path = folder / "rows.parquet"
    pq.write_table(table, path)
    return path


def _facts(path: Path, original_name: str) -> ingest.FileFacts:
    try:
        file_format = ingest.detect_format(original_name)
        return ingest.inspect_file(path, claimed_format=file_format, max_columns=settings.SIGNET_MONITORING_MAX_COLUMNS)
    except ingest.UnusableFile as exc:
        raise ValidationError({"file": str(exc)}) from None


def _resent(monitor: Monitor, kind: str, key: str, sha256: str) -> Batch | None:
    """The batch this one repeats, if any; BatchKeyConflict when its key names other data."""
    earlier = Batch.objects.filter(Q(key=key) | Q(kind=kind, sha256=sha256), monitor=monitor).order_by("pk").first()
    if earlier is None:
        return None
    if earlier.key == key and (earlier.sha256 != sha256 or earlier.kind != kind):
        raise BatchKeyConflict(
            f"The batch key {key[:80]!r} was used for batch {earlier.pk} with other data; send new data with a new key."
        )
    return earlier


def _check_rows(monitor: Monitor, kind: str, path: Path, now: datetime) -> int:
    try:
        if kind == BatchKind.OUTCOMES:
            return profiling.check_outcomes(path, monitor.reference_state)
        return profiling.check_predictions(path, monitor.reference_state, now=now)
    except profiling.BatchError as exc:
        raise ValidationError({"file": str(exc)}) from None


def batch_receive(
    *,
    actor: User,
    monitor: Monitor,
    kind: str,
    path: Path | None = None,
    original_name: str = "",
    rows: object = None,
    key: str = "",
) -> tuple[Batch, bool]:
    """Receive a batch (a CSV or Parquet file at ``path``, or JSON ``rows``); return it and whether it is new.

    The batch is checked completely before it is stored: its format, columns, types, ids and times
    (the engine's own checks, so the worker will not find it unusable), and, for predictions, that
    none of its ids was counted in an earlier batch of the monitor. A batch sent again (same
    ``key``, or the same content of the same kind) returns the batch received first, unchanged.
    Side effects for a new batch: the stored file, its ids in the monitor's index,
    ``monitoring.batch.received`` (and ``monitoring.monitor.feed_resumed`` after a late feed), the
    task ``profile_batch`` after commit.
    Raises PermissionDenied, ValidationError, BatchKeyConflict (nothing stored).
    """
    require(can_feed(actor, monitor.version.model.project), FEED_DENIED)
    return _receive(Sender(actor, actor), monitor, kind, path, original_name, rows, key)


def batch_receive_from_source(
    *, monitor: Monitor, kind: str, path: Path, name: str, location: str, key: str
) -> tuple[Batch, bool]:
    """Receive the file ``location`` of the monitor's source, copied to ``path``, as ``batch_receive`` would.

    No person sends it: the source was set through ``monitor_source_set`` (governed like setting the
    monitor up), the trail's actor is Signet's monitoring work and the batch row names who set the
    source. Side effects and errors: those of ``batch_receive`` (never PermissionDenied).
    """
    sender = Sender(
        received_by=monitor.source_set_by or monitor.created_by,
        actor=None,
        data={"source": monitor.source, "file": location[:1200]},
    )
    return _receive(sender, monitor, kind, path, name, None, key)


def _receive(
    sender: Sender,
    monitor: Monitor,
    kind: str,
    path: Path | None,
    original_name: str,
    rows: object,
    key: str,
) -> tuple[Batch, bool]:
    """Check, store and record a batch once the sender may feed the monitor (a person checked, or a source set)."""
    if kind not in BatchKind.values:
        raise ValidationError({"kind": f"A batch holds {' or '.join(BatchKind.values)}."})
    if monitor.status != MonitorStatus.ACTIVE:
        raise ValidationError({"monitor": "This monitor is paused; it takes no batches."})
    key = key.strip()
    if len(key) > MAX_KEY or any(not ch.isprintable() for ch in key):
        raise ValidationError({"key": f"A batch key is at most {MAX_KEY} printable characters."})
    where = "file" if rows is None else "rows"
    with tempfile.TemporaryDirectory(prefix="signet-batch-") as folder:
        if rows is not None:
            if path is not None:
                raise ValidationError({"rows": "Send a file or JSON rows, not both."})
            path, original_name = rows_to_parquet(rows, Path(folder)), "rows.parquet"
        if path is None:
            raise ValidationError({"file": "Send the batch as a file (CSV or Parquet) or as JSON rows."})
        facts = _facts(path, original_name or "upload")
        key = key or facts.sha256
        earlier = _resent(monitor, kind, key, facts.sha256)
        if earlier is not None:
            return earlier, False
        now = timezone.now()
        row_count = _check_rows(monitor, kind, path, now)
        ids = None
        if kind == BatchKind.PREDICTIONS:
            ids = BatchIds.of(_ids(monitor, path))
            prediction_ids.refuse_counted(monitor, ids, where)
        name = store(path, f"monitoring/{monitor.pk}/batches/{uuid.uuid4().hex}.{facts.format}")
    try:
        return _record(sender, monitor, kind, name, facts, key, row_count, original_name, now, ids), True
    except IntegrityError:
        discard(name)  # a racing request stored the same batch first, or counted some of its ids first
        earlier = _resent(monitor, kind, key, facts.sha256)
        if earlier is not None:
            return earlier, False
        if ids is not None:
            prediction_ids.refuse_counted(monitor, ids, where)
        raise  # pragma: no cover - the constraint that refused names a row that exists
    except BaseException:
        discard(name)
        raise


def _ids(monitor: Monitor, path: Path) -> list[str]:
    try:
        return profiling.prediction_ids(path, monitor.reference_state)
    except profiling.BatchError as exc:  # pragma: no cover - _check_rows read the same column first
        raise ValidationError({"file": str(exc)}) from None


def _record(
    sender: Sender,
    monitor: Monitor,
    kind: str,
    name: str,
    facts: ingest.FileFacts,
    key: str,
    row_count: int,
    original_name: str,
    now: datetime,
    ids: BatchIds | None,
) -> Batch:
    project = monitor.version.model.project
    with transaction.atomic():
        # The monitor's row first, before the trail's lock (taken by the first audit event and held to the
        # commit): the order of every writer of a monitor (the windows' worker locks it, then audits), so a
        # batch received while a window is judged waits instead of deadlocking. The filter is evaluated
        # again under the row lock: of two batches at once, one says the feed resumed.
        late = bool(
            Monitor.objects.filter(pk=monitor.pk, feed_late_since__isnull=False).update(
                last_batch_at=now, feed_late_since=None
            )
        )
        if not late:
            Monitor.objects.filter(pk=monitor.pk).update(last_batch_at=now)
        batch = Batch.objects.create(
            monitor=monitor,
            kind=kind,
            file=name,
            format=facts.format,
            original_name=Path(original_name.replace("\\", "/")).name[:200],
            sha256=facts.sha256,
            key=key,
            size=facts.size,
            row_count=row_count,
            received_by=sender.received_by,
            received_at=now,
            enqueued_at=now,
        )
        if ids is not None:
            # Before the trail's event: the chain's lock is held from it to the commit, and COPY may
            # wait here for a concurrent batch sharing ids.
            prediction_ids.record(monitor, batch, ids)
        audit_record(
            actor=sender.actor,
            actor_name=None if sender.actor else ACTOR,
            action=Action.MONITOR_BATCH_RECEIVED,
            target=batch,
            project=project,
            data={
                "monitor": monitor.pk,
                "kind": kind,
                "rows": row_count,
                "sha256": facts.sha256,
                "key": key[:200],
                **sender.data,
            },
        )
        if late:
            audit_record(
                actor=None,
                actor_name=ACTOR,
                action=Action.MONITOR_FEED_RESUMED,
                target=monitor,
                project=project,
                data={"batch": batch.pk},
            )
        send_after_commit(PROFILE_BATCH, batch.pk, batch_id=batch.pk)
    return batch
