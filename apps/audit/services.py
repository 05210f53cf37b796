"""The only writer of the audit trail."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, transaction
from django.utils import timezone

from apps.audit.chain import GENESIS_HASH, Checkpoint, VerifyResult, compute_hash, format_time, verify
from apps.audit.models import AuditEvent
from apps.core import context
from apps.core.text import storable

# Any constant works; it only has to be the same for every writer of the chain.
_CHAIN_LOCK_KEY = 0x5167_0001
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class ProjectRef(Protocol):
    pk: Any
    slug: str


# PostgreSQL text cannot hold NUL; replaced before hashing, so the stored value equals the hashed value.
_clean_text = storable


class _Encoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds, in the chain's own format."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return format_time(o) if o.tzinfo else o.isoformat()
        return super().default(o)


def _clean_json(value: Any) -> Any:
    """Return ``value`` as plain JSON types, exactly as it will read back from the database."""
    plain = json.loads(json.dumps(value, cls=_Encoder, allow_nan=False))

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return _clean_text(node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {_clean_text(str(key)): walk(item) for key, item in node.items()}
        if isinstance(node, float) and node.is_integer():
            # PostgreSQL's jsonb gives 1e16 back as 10000000000000000 and -0.0 as 0: store the integer.
            return int(node)
        return node

    return walk(plain)


def actor_roles(actor: Any) -> list[str]:
    """Return the snapshot of the actor's teams and administrative flags kept with each event."""
    if actor is None:
        return []
    roles = [f"team:{slug}" for slug in actor.teams.order_by("slug").values_list("slug", flat=True)]
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


def _lock_chain(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    # SQLite: every transaction begins IMMEDIATE (settings), so it already holds the only write lock.


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


def audit_record(
    *,
    actor: Any,
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
    ``AuditEvent``. Raises ValueError for a malformed action name or data that is not JSON.
    """
    if not _ACTION.match(action):
        raise ValueError(f"audit action {action!r} must be dotted lowercase, like 'accounts.user.created'")
    ctx = context.current()
    fields: dict[str, Any] = {
        "occurred_at": timezone.now(),
        "actor_id": int(actor.pk) if actor is not None else None,
        "actor_name": _clean_text(
            actor_name if actor_name is not None else (actor.get_username() if actor else ""), 150
        ),
        "actor_roles": actor_roles(actor),
        "auth_method": ctx.auth_method,
        "request_id": _clean_text(ctx.request_id, 64),
        "ip": _clean_text(ctx.ip, 45),
        "project_pk": int(project.pk) if project is not None else None,
        "project_slug": _clean_text(project.slug, 100) if project is not None else "",
        "target_type": target._meta.label_lower if target is not None else "",
        "target_id": _clean_text(str(target.pk), 64) if target is not None else "",
        "target_repr": _clean_text(target_repr if target_repr is not None else (str(target) if target else ""), 255),
        "action": action,
        "changes": _clean_json(dict(changes or {})),
        "data": _clean_json(dict(data or {})),
    }
    with transaction.atomic(using=using):
        _lock_chain(using)
        head = AuditEvent.objects.using(using).order_by("-seq").values("seq", "hash").first()
        fields["seq"] = head["seq"] + 1 if head else 1
        prev_hash = head["hash"] if head else GENESIS_HASH
        event = AuditEvent(prev_hash=prev_hash, hash=compute_hash(prev_hash, fields), **fields)
        event.save(using=using, force_insert=True)
    return event


EXPORT_FORMATS = ("csv", "jsonl")


def audit_trail_export(
    *, actor: Any, filters: dict[str, Any], active_filters: dict[str, Any], export_format: str
) -> Iterator[str]:
    """Record that ``actor`` exported the trail and return the export's lines.

    Side effects: one ``audit.trail.exported`` event. Raises PermissionDenied for a user who may
    not read the trail and ValueError for an unknown format.
    """
    from apps.audit import export, selectors
    from apps.audit.permissions import can_read_audit_trail

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
        action="audit.trail.exported",
        data={"format": export_format, "filters": active_filters, "up_to_seq": up_to},
    )
    return export.csv_lines(events) if export_format == "csv" else export.jsonl_lines(events)


def audit_chain_verify(*, actor: Any, checkpoint: Checkpoint | None = None) -> VerifyResult:
    """Verify the whole chain and record the outcome in it.

    Side effects: one ``audit.chain.verified`` or ``audit.chain.broken`` event (appended after the
    walk, so it never changes what was verified). Raises PermissionDenied for a person who may not
    verify; ``actor=None`` is the scheduled task.
    """
    from apps.audit import selectors
    from apps.audit.permissions import can_verify_audit_trail

    if actor is not None and not can_verify_audit_trail(actor):
        raise PermissionDenied("Only the audit team and administrators can verify the audit trail.")
    result = verify(selectors.audit_chain(), checkpoint)
    audit_record(
        actor=actor,
        action="audit.chain.verified" if result.ok else "audit.chain.broken",
        data={
            "checked": result.checked,
            "head": str(result.head) if result.head else None,
            "broken_seq": result.broken_seq,
            "reason": result.reason,
            "checkpoint": str(checkpoint) if checkpoint else None,
        },
    )
    return result


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Return the governed fields of ``instance`` as plain values, for before/after records."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(instance, name)
        values[name] = value.pk if isinstance(value, models.Model) else value
    return _clean_json(values)
