"""Reads of the audit trail, restricted to what the user may see."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import Q, QuerySet

from apps.audit.actions import Action
from apps.audit.chain import CHAINED_FIELDS, Checkpoint, SignedCheckpoint
from apps.audit.filters import AuditEventFilter
from apps.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from apps.audit.permissions import can_read_audit_trail

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.core.types import Viewer

CHAIN_COLUMNS = (*CHAINED_FIELDS, "prev_hash", "hash")


def audit_events_visible_to(user: Viewer) -> QuerySet[AuditEvent]:
    """Return the events ``user`` may read: all of them for auditors and administrators."""
    if can_read_audit_trail(user):
        return AuditEvent.objects.all()
    return AuditEvent.objects.none()


def audit_events_by_actor(*, actor: User, limit: int = 10) -> list[AuditEvent]:
    """Return the actor's own latest events, newest first (everyone may see what they did)."""
    return list(AuditEvent.objects.filter(actor=actor).order_by("-seq")[:limit])


def timeline_for(
    *, targets: Mapping[str, Collection[object]] | None = None, project_pk: int | None = None, limit: int = 30
) -> list[AuditEvent]:
    """Return the newest events of a page's timeline, newest first.

    ``targets`` maps a target type (``registry.modelversion``) to the ids of its objects on the page;
    ``project_pk`` takes every event of one project. The page has already checked that the reader may
    see what it shows: a timeline is part of the object, not a read of the whole trail.
    """
    where = Q(pk__in=[])
    for target_type, ids in (targets or {}).items():
        if ids:
            where |= Q(target_type=target_type, target_id__in=[str(pk) for pk in ids])
    if project_pk is not None:
        where |= Q(project_pk=project_pk)
    return list(AuditEvent.objects.filter(where).order_by("-seq")[:limit])


def audit_events_filtered(*, user: Viewer, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Apply the cleaned filters of ``AuditEventFilter`` to what ``user`` may see."""
    return AuditEventFilter.apply(audit_events_visible_to(user), filters)


@dataclass(frozen=True)
class EventPage:
    """One page of the trail, newest first, and the cursors of its neighbours (None: no such page)."""

    events: list[AuditEvent]
    newer: int | None  # show the events with seq greater than this
    older: int | None  # show the events with seq less than this


def audit_event_page(
    events: QuerySet[AuditEvent], *, before: int | None = None, after: int | None = None, size: int = 50
) -> EventPage:
    """Return ``size`` events of ``events`` newest first: below seq ``before``, above seq ``after``, or the newest.

    Keyset pagination on ``seq``: one query of ``size + 1`` rows whatever the length of the trail, no
    COUNT, and an index on (filtered column, seq) lets the database stop after the page.
    """
    if after is not None:
        rows = list(events.filter(seq__gt=after).order_by("seq")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return EventPage(rows, rows[0].seq if more_newer else None, rows[-1].seq if rows else after + 1)
    if before is not None:
        events = events.filter(seq__lt=before)
    rows = list(events.order_by("-seq")[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    newer = (rows[0].seq if rows else before - 1) if before is not None else None
    return EventPage(rows, newer, rows[-1].seq if more_older else None)


# Events per query of a walk of the chain: large enough that a million take 200 queries, small
# enough that a batch is a few megabytes whatever the length of the trail.
CHAIN_BATCH_SIZE = 5000


def audit_chain(
    *, using: str = "default", batch_size: int = CHAIN_BATCH_SIZE, after_seq: int = 0, until_seq: int | None = None
) -> Iterator[dict[str, Any]]:
    """Stream the chain (all of it, or what follows ``after_seq``, up to ``until_seq``) in ``seq`` order as mappings.

    Keyset batches (``seq > last ORDER BY seq LIMIT batch_size``) of plain tuples: memory stays at one
    batch, no model is built, and no cursor or snapshot is held open between batches. The walk ends at
    the first short batch, so it includes what was appended meanwhile.
    """
    batches = _chain_batches_postgresql if connections[using].vendor == "postgresql" else _chain_batches_orm
    for rows in batches(using, after_seq, batch_size, until_seq):
        for row in rows:
            yield dict(zip(CHAIN_COLUMNS, row, strict=True))


_JSON_NAMES = ("actor_roles", "changes", "data")
_PLAIN_COLUMNS = tuple(name for name in CHAIN_COLUMNS if name not in _JSON_NAMES)
# The C scanner of the standard library, without json.loads's layers around it (three a row add up).
_scan_json = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _chain_batches_postgresql(
    using: str, after_seq: int, batch_size: int, until_seq: int | None
) -> Iterator[list[Any]]:
    # The ORM's per-value converters cost as much as hashing a million events: the same values,
    # read plainly (psycopg2 gives aware UTC times), the three JSON columns as one JSON array to load.
    meta = AuditEvent._meta
    plain = ", ".join(str(meta.get_field(name).column) for name in _PLAIN_COLUMNS)  # type: ignore[union-attr]
    query = (
        f"SELECT {plain}, jsonb_build_array({', '.join(_JSON_NAMES)})::text"  # noqa: S608 - our own names
        f" FROM {meta.db_table} WHERE seq > %s{' AND seq <= %s' if until_seq is not None else ''}"
        " ORDER BY seq LIMIT %s"
    )
    bound = [] if until_seq is None else [until_seq]
    order = [*_PLAIN_COLUMNS, *_JSON_NAMES]
    reorder = [order.index(name) for name in CHAIN_COLUMNS]
    last = after_seq
    with connections[using].cursor() as cursor:
        while True:
            cursor.execute(query, [last, *bound, batch_size])
            rows = []
            for *values, documents in cursor.fetchall():
                values.extend(_scan_json(documents, 0)[0])
                rows.append([values[index] for index in reorder])
            yield rows
            if len(rows) < batch_size:
                return
            last = rows[-1][0]


def _chain_batches_orm(using: str, after_seq: int, batch_size: int, until_seq: int | None) -> Iterator[list[Any]]:
    events = AuditEvent.objects.using(using).order_by("seq")
    if until_seq is not None:
        events = events.filter(seq__lte=until_seq)
    last = after_seq
    while True:
        rows = list(events.filter(seq__gt=last).values_list(*CHAIN_COLUMNS)[:batch_size])
        yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1][0]


def audit_recorded_head(*, using: str = "default") -> Checkpoint | None:
    """Return the head stored beside the chain by every append, or None when none is stored."""
    row = AuditChainHead.objects.using(using).filter(pk=1).values("seq", "hash").first()
    return Checkpoint(row["seq"], row["hash"], label="the recorded head") if row else None


def audit_checkpoints(*, using: str = "default") -> list[SignedCheckpoint]:
    """Return every stored signed checkpoint, oldest first."""
    return [SignedCheckpoint.from_row(row) for row in AuditCheckpoint.objects.using(using).order_by("seq")]


def audit_checkpoint_at(*, seq: int, using: str = "default") -> SignedCheckpoint | None:
    """Return the stored signed checkpoint of ``seq``, if there is one."""
    row = AuditCheckpoint.objects.using(using).filter(seq=seq).first()
    return SignedCheckpoint.from_row(row) if row else None


def audit_head(*, using: str = "default") -> dict[str, Any] | None:
    """Return ``{"seq", "hash"}`` of the newest event, or None for an empty trail."""
    head = AuditEvent.objects.using(using).order_by("-seq").values("seq", "hash").first()
    return dict(head) if head else None


def audit_last_verification() -> AuditEvent | None:
    """Return the latest recorded verification of the chain, passed or failed.

    The newest of each action read off the (action, seq) index, in one query: with ``action IN (...)``
    PostgreSQL walked the whole trail backwards on seq when no verification was recorded (0.5 s at 1M).
    """
    newest = [
        AuditEvent.objects.filter(action=action).order_by("-seq")[:1]
        for action in (Action.CHAIN_VERIFIED, Action.CHAIN_BROKEN)
    ]
    return newest[0].union(*newest[1:], all=True).order_by("-seq").first()
