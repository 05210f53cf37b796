"""Count each prediction id of a monitor once, across its batches: a unique index of 64-bit digests.

A predictions batch whose ids overlap the ids of earlier batches of the same monitor is refused in
the request, naming a few of them and the batch each was first counted in. The check reads the
index before anything is stored; the rows go in by COPY (apps/core/bulk.py) in the transaction
that records the batch, in ascending order of digest, so two concurrent batches that share ids never
deadlock: the second waits on the first's uncommitted rows, and the unique index refuses it when
the first commits (``batch_receive`` then refuses it with the same sentence). A quarantined batch,
and a batch whose raw file passed the retention, give their ids back (``forget``).

A digest is the first 8 bytes of BLAKE2b of the id as text (an integer id as its decimal digits, so
5 and "5" are one id). Two different ids share a digest with odds of about n²/2⁶⁵ for n ids of a
monitor (1 in 370,000 at ten million ids); such a pair would be refused as a repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection

from apps.core.bulk import bulk_insert, unsaved
from apps.monitoring.models import Batch, Monitor, PredictionId

EXAMPLES = 5  # ids named in a refusal
_CHUNK = 10_000  # digests per query where the database has no arrays (SQLite)


@dataclass(frozen=True)
class BatchIds:
    """The ids of one predictions batch: their digests in ascending order, and the id of each digest."""

    digests: np.ndarray
    ids: dict[int, str]

    @classmethod
    def of(cls, ids: Iterable[str]) -> BatchIds:
        by_digest = {digest(value): value for value in ids}
        return cls(np.fromiter(sorted(by_digest), dtype=np.int64, count=len(by_digest)), by_digest)


def digest(value: str) -> int:
    """The signed 64-bit digest the index holds for the id ``value`` (its text)."""
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def _counted(monitor: Monitor, digests: np.ndarray) -> list[tuple[int, int]]:
    """(digest, batch) of the digests the monitor has counted already, in ascending order of digest."""
    if not digests.shape[0]:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT digest, batch_id FROM {PredictionId._meta.db_table} "  # noqa: S608 - the table's own name
                "WHERE monitor_id = %s AND digest = ANY(%s::bigint[]) ORDER BY digest",
                [monitor.pk, digests.tolist()],
            )
            return [(int(d), int(b)) for d, b in cursor.fetchall()]
    found: list[tuple[int, int]] = []
    values = digests.tolist()
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        found += PredictionId.objects.filter(monitor=monitor, digest__in=chunk).values_list("digest", "batch_id")
    return sorted(found)


def refuse_counted(monitor: Monitor, batch_ids: BatchIds, field: str) -> None:
    """Raise ValidationError naming a few ids of ``batch_ids`` the monitor has counted, if there are any."""
    counted = _counted(monitor, batch_ids.digests)
    if not counted:
        return
    examples = sorted(((batch_ids.ids[d], b) for d, b in counted), key=lambda pair: (pair[1], pair[0]))[:EXAMPLES]
    named = ", ".join(f"{value[:60]!r} (batch {batch})" for value, batch in examples)
    batches = sorted({b for _d, b in counted})
    raise ValidationError(
        {
            field: f"{len(counted):,} prediction {'id' if len(counted) == 1 else 'ids'} of this batch "
            f"{'was' if len(counted) == 1 else 'were'} counted before in "
            f"{'batch' if len(batches) == 1 else 'batches'} {', '.join(map(str, batches[:EXAMPLES]))}"
            f"{' and others' if len(batches) > EXAMPLES else ''} of this monitor, for example {named}. "
            "A prediction is counted once: send only new predictions (a batch sent again unchanged is "
            "recognised as the one received)."
        }
    )


def record(monitor: Monitor, batch: Batch, batch_ids: BatchIds) -> None:
    """Add the batch's ids to the index, in ascending order (inside the caller's transaction).

    Raises IntegrityError when a concurrent batch counted one of them first.
    """
    bulk_insert(
        unsaved(
            PredictionId,
            ({"monitor_id": monitor.pk, "batch_id": batch.pk, "digest": int(d)} for d in batch_ids.digests),
        )
    )


def forget(batch_ids: Sequence[int]) -> int:
    """Give back the ids of these batches (quarantined, or past their retention); return how many."""
    if not batch_ids:
        return 0
    deleted, _by_model = PredictionId.objects.filter(batch_id__in=list(batch_ids)).delete()
    return int(deleted)
