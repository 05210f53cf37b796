"""The only writer of the audit trail."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import PermissionDenied
from django.db import connections, models, transaction
from django.utils import timezone

from apps.audit import export, selectors
from apps.audit.actions import Action, is_known
from apps.audit.chain import GENESIS_HASH, compute_hash
from apps.audit.models import AuditChainHead, AuditEvent
from apps.audit.permissions import can_read_audit_trail
from apps.audit.values import clean_json
from apps.core import context
from apps.core.bulk import bulk_insert, unsaved
from apps.core.permissions import user_teams
from apps.core.text import storable

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = logging.getLogger(__name__)


class ProjectRef(Protocol):
    pk: Any
    slug: str


# PostgreSQL text cannot hold NUL; replaced before hashing, so the stored value equals the hashed value.
_clean_text = storable
_clean_json = clean_json  # apps/audit/values.py


def actor_roles(actor: User | None) -> list[str]:
    """Return the snapshot of the actor's teams and administrative flags kept with each event."""
    if actor is None:
        return []
    roles = [f"team:{slug}" for slug, _ in user_teams(actor)]
    if actor.is_superuser:
        roles.append("admin")
    elif actor.is_staff:
        roles.append("staff")
    return roles


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return ``{field: {"before": x, "after": y}}`` for the fields whose values differ."""
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


_HEAD = AuditChainHead._meta.db_table
_EVENTS = AuditEvent._meta.db_table
# The chain lock is the head row's: one statement takes it and reads the head it guards (tests hold it
# from another connection with this statement).
CHAIN_LOCK_SQL = f"SELECT seq, hash FROM {_HEAD} WHERE id = 1 FOR UPDATE"  # noqa: S608 - our own table names
# A trail without its head row (a new database) gets one, from its newest event if it has any.
_SEED_HEAD = (
    f"INSERT INTO {_HEAD} (id, seq, hash)"  # noqa: S608 - our own table names
    f" SELECT 1, COALESCE(MAX(seq), 0), COALESCE((SELECT hash FROM {_EVENTS} ORDER BY seq DESC LIMIT 1), %s)"
    f" FROM {_EVENTS} ON CONFLICT (id) DO NOTHING"
)
# Move the head on, unless an event lies past it (one added without this writer): then chain after that.
_MOVE_HEAD = (
    f"UPDATE {_HEAD} SET seq = %s, hash = %s WHERE id = 1"  # noqa: S608 - our own table names
    f" AND NOT EXISTS (SELECT 1 FROM {_EVENTS} WHERE seq > %s)"
)


def _lock_chain(using: str) -> tuple[int, str] | None:
    """Take the chain lock until the transaction ends; return the recorded head on PostgreSQL.

    PostgreSQL: ``SELECT … FOR UPDATE`` of the head row, which every append moves in the same
    transaction. Once a writer waiting for it gets it, the row it reads is the one the previous holder
    committed (READ COMMITTED re-reads a locked row), so the head is current. SQLite: every transaction
    begins IMMEDIATE (settings), so it already holds the only write lock; returns None.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(CHAIN_LOCK_SQL)
        row = cursor.fetchone()
        if row is None:
            cursor.execute(_SEED_HEAD, [GENESIS_HASH])
            cursor.execute(CHAIN_LOCK_SQL)
            row = cursor.fetchone()
    return int(row[0]), str(row[1])


def audit_chain_lock(*, using: str = "default") -> None:
    """Take the chain lock now, inside the caller's transaction, before a write that changes a key.

    Lock order (docs/decisions/0015): rows first, FOR NO KEY UPDATE; the chain lock last. A write
    that changes a unique column needs FOR UPDATE on its row, which waits for the FOR KEY SHARE that
    a committing chain holder's foreign keys take: it must therefore come after the chain lock.
    Raises RuntimeError outside a transaction (the lock would end at once).
    """
    if not connections[using].in_atomic_block:
        raise RuntimeError("audit_chain_lock() is for use inside transaction.atomic()")
    _lock_chain(using)


def _event_fields(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None,
    target_repr: str | None,
    project: ProjectRef | None,
    changes: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    actor_name: str | None,
    roles: list[str],
    ctx: context.ActorContext,
) -> dict[str, Any]:
    """Return the chained fields of one event but ``seq``; the one place both writers build them.

    Raises ValueError for an action missing from apps/audit/actions.py or data that is not JSON.
    """
    if not is_known(action):
        raise ValueError(f"audit action {action!r} is not in the catalogue: add it to apps/audit/actions.py")
    return {
        "occurred_at": timezone.now(),
        "actor_id": int(actor.pk) if actor is not None else None,
        "actor_name": _clean_text(
            actor_name if actor_name is not None else (actor.get_username() if actor else ""), 150
        ),
        "actor_roles": roles,
        "auth_method": ctx.auth_method,
        "request_id": _clean_text(ctx.request_id, 64),
        "ip": _clean_text(ctx.ip, 45),
        "project_pk": int(project.pk) if project is not None else None,
        "project_slug": _clean_text(project.slug, 100) if project is not None else "",
        "target_type": target._meta.label_lower if target is not None else "",
        "target_id": _clean_text(str(target.pk), 64) if target is not None else "",
        "target_repr": _clean_text(target_repr if target_repr is not None else (str(target) if target else ""), 255),
        "action": str(action),
        "changes": _clean_json(dict(changes or {})),
        "data": _clean_json(dict(data or {})),
    }


def _chain_head(using: str) -> tuple[int, str]:
    """Return the seq and hash of the newest event (0 and the genesis hash for an empty chain); hold the lock."""
    head = AuditEvent.objects.using(using).order_by("-seq").values("seq", "hash").first()
    return (head["seq"], head["hash"]) if head else (0, GENESIS_HASH)


def _move_head(using: str, event: AuditEvent) -> None:
    # The head beside the chain, under the same lock: no contention beyond what the chain has.
    if not AuditChainHead.objects.using(using).filter(pk=1).update(seq=event.seq, hash=event.hash):
        AuditChainHead.objects.using(using).create(pk=1, seq=event.seq, hash=event.hash)


def _append(using: str, locked: tuple[int, str] | None, fields: dict[str, Any]) -> AuditEvent:
    """Insert the next event of the chain, with the lock held; ``locked`` is what ``_lock_chain`` read."""
    if locked is not None:
        # PostgreSQL: the head row came with the lock; move it first, then insert (two statements).
        seq, prev_hash = locked
        fields["seq"] = seq + 1
        digest = compute_hash(prev_hash, fields)
        with connections[using].cursor() as cursor:
            cursor.execute(_MOVE_HEAD, [seq + 1, digest, seq])
            moved = cursor.rowcount == 1
        if moved:
            event = AuditEvent(prev_hash=prev_hash, hash=digest, **fields)
            event.save(using=using, force_insert=True)
            return event
        logger.error(
            "audit trail: events lie past the recorded head (seq %s), added without the audit writer;"
            " chaining after them (audit_verify names the first)",
            seq,
        )
    seq, prev_hash = _chain_head(using)
    fields["seq"] = seq + 1
    event = AuditEvent(prev_hash=prev_hash, hash=compute_hash(prev_hash, fields), **fields)
    event.save(using=using, force_insert=True)
    _move_head(using, event)
    return event


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    target_repr: str | None = None,
    project: ProjectRef | None = None,
    changes: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    actor_name: str | None = None,
    using: str = "default",
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction and return it.

    Side effects: takes the chain lock until the surrounding transaction ends, inserts one
    ``AuditEvent``. Raises ValueError for an action missing from apps/audit/actions.py or data that
    is not JSON.
    """
    fields = _event_fields(
        actor=actor,
        action=action,
        target=target,
        target_repr=target_repr,
        project=project,
        changes=changes,
        data=data,
        actor_name=actor_name,
        roles=actor_roles(actor),
        ctx=context.current(),
    )
    # No savepoint inside the caller's transaction: it would cost two statements under the lock, and
    # a failed append fails the caller's change anyway (its event is part of it).
    with transaction.atomic(using=using, savepoint=False):
        return _append(using, _lock_chain(using), fields)


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One event for ``audit_record_many``: the same arguments, with the same meaning, as ``audit_record``."""

    actor: User | None
    action: str
    target: models.Model | None = None
    target_repr: str | None = None
    project: ProjectRef | None = None
    changes: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    actor_name: str | None = None


# Rows per INSERT: large enough that a reconcile of thousands of events takes a handful of statements.
BULK_BATCH_SIZE = 1000


def audit_record_many(
    entries: Iterable[AuditEntry], *, using: str = "default", batch_size: int = BULK_BATCH_SIZE
) -> list[AuditEvent]:
    """Append ``entries`` to the chain, in order, inside the caller's transaction; return their events.

    Each event is the one ``audit_record`` would have written for the same entry at the same moment:
    same fields, same actor context (read once, now), same canonical hash chained from the one
    before. It costs one lock, one read of the head, one COPY (PostgreSQL; elsewhere one INSERT per
    ``batch_size`` events) and one update of the recorded head, instead of all of these per event.
    Every entry is checked before anything is written. Side effects: takes the chain lock until the
    surrounding transaction ends, inserts the events. Raises ValueError, writing nothing, when any
    entry has an action missing from apps/audit/actions.py or data that is not JSON.
    """
    ctx = context.current()
    roles_of: dict[int, list[str]] = {}

    def roles(actor: User | None) -> list[str]:
        # A snapshot per actor, as audit_record takes one per event: the same within one transaction.
        if actor is None:
            return []
        if actor.pk not in roles_of:
            roles_of[actor.pk] = actor_roles(actor)
        return list(roles_of[actor.pk])

    prepared = [
        _event_fields(
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            target_repr=entry.target_repr,
            project=entry.project,
            changes=entry.changes,
            data=entry.data,
            actor_name=entry.actor_name,
            roles=roles(entry.actor),
            ctx=ctx,
        )
        for entry in entries
    ]
    if not prepared:
        return []
    with transaction.atomic(using=using):
        _lock_chain(using)
        seq, prev_hash = _chain_head(using)
        for fields in prepared:
            seq += 1
            fields["seq"] = seq
            fields["prev_hash"] = prev_hash
            fields["hash"] = prev_hash = compute_hash(prev_hash, fields)
        events = bulk_insert(unsaved(AuditEvent, prepared), using=using, batch_size=batch_size)  # COPY on PostgreSQL
        _move_head(using, events[-1])
    return events


EXPORT_FORMATS = ("csv", "jsonl")


def audit_trail_export(
    *, actor: User, filters: dict[str, Any], active_filters: dict[str, Any], export_format: str
) -> Iterator[str]:
    """Record that ``actor`` exported the trail and return the export's lines.

    Side effects: one ``audit.trail.exported`` event. Raises PermissionDenied for a user who may
    not read the trail and ValueError for an unknown format.
    """

    if not can_read_audit_trail(actor):
        raise PermissionDenied("Only the audit team and administrators can export the audit trail.")
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    head = selectors.audit_head()
    up_to = head["seq"] if head else 0
    # The file holds exactly the events up to the head seen now, so it can be tied to a checkpoint.
    events = selectors.audit_events_filtered(user=actor, filters=filters).filter(seq__lte=up_to)
    audit_record(
        actor=actor,
        action=Action.TRAIL_EXPORTED,
        data={"format": export_format, "filters": active_filters, "up_to_seq": up_to},
    )
    return export.csv_lines(events) if export_format == "csv" else export.jsonl_lines(events)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Return the governed fields of ``instance`` as plain values, for before/after records."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(instance, name)
        values[name] = value.pk if isinstance(value, models.Model) else value
    return _clean_json(values)
