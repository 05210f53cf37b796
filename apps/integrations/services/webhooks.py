"""MLflow's webhooks: verified, deduplicated by delivery id, and handed to a worker (docs/decisions/0023).

``delivery_receive`` runs in the request: it checks the signature MLflow computes over the raw body
(``v1,`` + base64 HMAC-SHA256 of ``<delivery id>.<timestamp>.<body>``, keyed with the UTF-8 bytes of
the webhook's secret), a timestamp within ``TOLERANCE_SECONDS`` of now, and the shape of the event,
then stores one ``InboundDelivery`` per delivery id and enqueues ``process_delivery`` after commit. It
never calls MLflow: a webhook is a hint, and ``delivery_process`` re-reads what it names through
``sync.sync_model`` in a worker. Every refusal is a ``DeliveryRefused`` (an HTTP status, a code and a
sentence) and stores nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.queue import enqueue
from apps.integrations.choices import DeliveryState
from apps.integrations.mlflow_client import MlflowError
from apps.integrations.models import InboundDelivery, MlflowConnection
from apps.integrations.secrets import SecretMissing, webhook_secret_for
from apps.integrations.services import sync

logger = logging.getLogger(__name__)

PROCESS_DELIVERY = "apps.integrations.tasks.process_delivery"
MAX_BODY_BYTES = 256 * 1024  # MLflow's largest payload (a version with its tags and description) is a few KB
MAX_DEPTH = 8  # MLflow's payloads nest 3 deep (body, data, tags)
TOLERANCE_SECONDS = 5 * 60  # Standard Webhooks' tolerance, either side of now
MAX_NAME = 256  # MLflow's limit on model names, aliases and tag keys
MAX_STORED_TEXT = 500  # a tag value is kept this long in the stored payload (the worker re-reads the real one)

ID_HEADER = "X-MLflow-Delivery-Id"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
SIGNATURE_HEADER = "X-MLflow-Signature"
_DELIVERY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
_UNIX_SECONDS = re.compile(r"^[0-9]{1,12}$")
_VERSION = re.compile(r"^[0-9]{1,9}$")

# The events Signet governs, each with the fields of ``data`` it reads and their types.
TEXT, OPTIONAL_TEXT, VERSION, TAGS = "text", "optional text", "version", "tags"
GOVERNED: dict[str, dict[str, str]] = {
    "registered_model.created": {"name": TEXT, "tags": TAGS, "description": OPTIONAL_TEXT},
    "model_version.created": {
        "name": TEXT,
        "version": VERSION,
        "source": OPTIONAL_TEXT,
        "run_id": OPTIONAL_TEXT,
        "tags": TAGS,
        "description": OPTIONAL_TEXT,
    },
    "model_version_tag.set": {"name": TEXT, "version": VERSION, "key": TEXT, "value": OPTIONAL_TEXT},
    "model_version_tag.deleted": {"name": TEXT, "version": VERSION, "key": TEXT},
    "model_version_alias.created": {"name": TEXT, "alias": TEXT, "version": VERSION},
    "model_version_alias.deleted": {"name": TEXT, "alias": TEXT},
}
REQUIRED = {"name", "version", "key", "alias"}  # where an event has these fields, they must be there
# MLflow events Signet does not govern (mlflow/entities/webhook.py): answered 200 "ignored", so that
# MLflow does not retry them, and not stored.
IGNORED = frozenset(
    {
        "prompt.created",
        "prompt_version.created",
        "prompt_tag.set",
        "prompt_tag.deleted",
        "prompt_version_tag.set",
        "prompt_version_tag.deleted",
        "prompt_alias.created",
        "prompt_alias.deleted",
        "budget_policy.exceeded",
    }
)
# What the stored payload keeps of ``data``: what the worker needs to know which model to re-read.
STORED_FIELDS = ("name", "version", "alias", "key", "value")


@dataclass
class DeliveryRefused(Exception):
    """A delivery Signet will not take; ``status`` is the HTTP answer, ``message`` says why."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class DeliveryIgnored(Exception):
    """A genuine MLflow event Signet does not govern (a prompt's, a budget's): answered 2xx, not stored."""

    event: str

    def __str__(self) -> str:
        return f"Signet does not act on {self.event} events."


def connection_for_webhook(name: str) -> MlflowConnection:
    """The enabled connection named ``name``; DeliveryRefused (404) otherwise."""
    connection = MlflowConnection.objects.select_related("service_user").filter(name=name[:60], enabled=True).first()
    if connection is None:
        raise DeliveryRefused(404, "not_found", "No enabled MLflow connection of this name takes webhooks here.")
    return connection


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """``v1,<base64>``: MLflow's signature of a delivery (mlflow/webhooks/delivery.py)."""
    mac = hmac.new(secret.encode("utf-8"), f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def _signature_matches(secret: str, delivery_id: str, timestamp: str, body: bytes, header: str) -> bool:
    """Whether one of the header's space-separated ``v1,<base64>`` signatures is ours, in constant time."""
    expected = base64.b64decode(signature(secret, delivery_id, timestamp, body).removeprefix("v1,"))
    matched = False
    for candidate in header.split()[:8]:
        version, _, value = candidate.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        matched |= hmac.compare_digest(expected, given)
    return matched


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict from a caller that is not a request: look case-insensitively
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), "")
    return str(value).strip()


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (an object or list in an object is 2), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise DeliveryRefused(400, "invalid", "The JSON body is nested too deeply.") from None
    except ValueError:  # not UTF-8, not JSON, NaN or Infinity
        raise DeliveryRefused(400, "invalid", "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise DeliveryRefused(400, "invalid", "The body must be a JSON object with entity, action and data.")
    if _depth(payload) > MAX_DEPTH:
        raise DeliveryRefused(400, "invalid", f"The JSON body nests more than {MAX_DEPTH} levels deep.")
    return payload


def _event_of(payload: dict[str, Any]) -> str:
    entity, action = payload.get("entity"), payload.get("action")
    for field, value in (("entity", entity), ("action", action)):
        if not isinstance(value, str) or not re.fullmatch(r"[a-z_]{1,40}", value):
            raise DeliveryRefused(
                400, "invalid", f"{field}: give MLflow's event {field} as text, such as model_version."
            )
    event = f"{entity}.{action}"
    if event in IGNORED:
        raise DeliveryIgnored(event)
    if event not in GOVERNED:
        raise DeliveryRefused(400, "invalid", f"{event} is not an MLflow webhook event.")
    if not isinstance(payload.get("data"), dict):
        raise DeliveryRefused(400, "invalid", "data: give the event's data as a JSON object.")
    stamp = payload.get("timestamp")
    if stamp is not None and not isinstance(stamp, str):
        raise DeliveryRefused(400, "invalid", "timestamp: give MLflow's ISO-8601 time as text.")
    return event


def _has_nul(value: Any) -> bool:
    """Whether text (or a tag's key or value) holds a NUL, which PostgreSQL's jsonb and text refuse."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def _check_data(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``data`` Signet keeps, each checked for the type MLflow sends; DeliveryRefused otherwise."""
    kept: dict[str, Any] = {}
    for field, kind in GOVERNED[event].items():
        value = data.get(field)
        if value is None:
            if field in REQUIRED:
                raise DeliveryRefused(400, "invalid", f"data.{field}: {event} names a {field}; it is missing.")
            continue
        if kind == TEXT and not (isinstance(value, str) and 0 < len(value) <= MAX_NAME):
            raise DeliveryRefused(400, "invalid", f"data.{field}: give text of 1 to {MAX_NAME} characters.")
        if kind == OPTIONAL_TEXT and not isinstance(value, str):
            raise DeliveryRefused(400, "invalid", f"data.{field}: give text or null.")
        if kind == VERSION:
            if isinstance(value, bool) or not isinstance(value, str | int) or not _VERSION.match(str(value)):
                raise DeliveryRefused(400, "invalid", f'data.{field}: give the version number as text, such as "3".')
            value = str(int(value))
        if _has_nul(value):
            raise DeliveryRefused(400, "invalid", f"data.{field}: text must not contain NUL characters.")
        if kind == TAGS and not (
            isinstance(value, dict) and all(isinstance(v, str) and len(k) <= MAX_NAME for k, v in value.items())
        ):
            raise DeliveryRefused(400, "invalid", f"data.{field}: give the tags as an object of text values.")
        if field in STORED_FIELDS:
            kept[field] = value[:MAX_STORED_TEXT] if isinstance(value, str) else value
    return kept


def _sent_at(timestamp: str) -> datetime:
    sent = int(timestamp)
    if abs(timezone.now().timestamp() - sent) > TOLERANCE_SECONDS:
        raise DeliveryRefused(
            401,
            "stale",
            f"Stale or future timestamp: {TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS // 60} minutes from "
            "Signet's clock (a replay, or a clock to set right).",
        )
    return datetime.fromtimestamp(sent, tz=UTC)


def _duplicate(existing: InboundDelivery, digest: str) -> tuple[InboundDelivery, bool]:
    if existing.payload.get("body_sha256") != digest:
        raise DeliveryRefused(
            409, "conflict", "This delivery id was received before with another body; Signet keeps the first."
        )
    return existing, False


def delivery_receive(
    *, connection: MlflowConnection, headers: Mapping[str, str], body: bytes
) -> tuple[InboundDelivery, bool]:
    """Verify one webhook delivery of ``connection`` and store it; return it and whether it is new.

    A delivery id seen before with the same body returns the stored delivery and False, changing
    nothing (MLflow's retries resend id, timestamp and signature). Side effects for a new one: an
    ``InboundDelivery`` row, ``integrations.webhook.received`` (the bridge as actor), and
    ``process_delivery`` enqueued after commit. Raises DeliveryRefused (nothing stored) or
    DeliveryIgnored (an MLflow event Signet does not govern; nothing stored).
    """
    if len(body) > MAX_BODY_BYTES:
        raise DeliveryRefused(413, "too_large", f"The body is larger than {MAX_BODY_BYTES // 1024} KB.")
    delivery_id, timestamp = _header(headers, ID_HEADER), _header(headers, TIMESTAMP_HEADER)
    signed = _header(headers, SIGNATURE_HEADER)
    missing = [name for name, value in ((ID_HEADER, delivery_id), (TIMESTAMP_HEADER, timestamp)) if not value]
    if missing:
        raise DeliveryRefused(400, "invalid", f"MLflow sends {' and '.join(missing)}; this request has none.")
    if not _DELIVERY_ID.match(delivery_id):
        raise DeliveryRefused(400, "invalid", f"{ID_HEADER} must be an id of up to 100 letters, digits and -.")
    if not _UNIX_SECONDS.match(timestamp):
        raise DeliveryRefused(400, "invalid", f"{TIMESTAMP_HEADER} must be Unix seconds, such as 1767225600.")
    if not signed:
        raise DeliveryRefused(
            401, "unsigned", f"Unsigned delivery: Signet takes only webhooks with a secret ({SIGNATURE_HEADER})."
        )
    try:
        secret = webhook_secret_for(connection)
    except SecretMissing as exc:
        # Where Signet looked is for the operator's log, not for whoever sent this.
        logger.error("MLflow connection %s: no webhook secret to verify deliveries with: %s", connection.name, exc)
        raise DeliveryRefused(
            503, "unavailable", "Signet cannot verify this delivery: the connection's webhook secret is not set up."
        ) from None
    if not _signature_matches(secret, delivery_id, timestamp, body, signed):
        raise DeliveryRefused(401, "bad_signature", "Bad signature: it does not match this connection's secret.")
    sent_at = _sent_at(timestamp)
    payload = _parse(body)
    event = _event_of(payload)
    data = _check_data(event, payload["data"])
    digest = hashlib.sha256(body).hexdigest()
    stored = {"timestamp": str(payload.get("timestamp") or "")[:40], "data": data, "body_sha256": digest}
    with transaction.atomic():
        existing = InboundDelivery.objects.filter(connection=connection, delivery_id=delivery_id).first()
        if existing is not None:
            return _duplicate(existing, digest)
        try:
            with transaction.atomic():
                delivery = InboundDelivery.objects.create(
                    connection=connection, delivery_id=delivery_id, event=event, payload=stored, sent_at=sent_at
                )
        except IntegrityError:  # the same delivery, received at the same moment by another request
            return _duplicate(InboundDelivery.objects.get(connection=connection, delivery_id=delivery_id), digest)
        audit_record(
            actor=connection.service_user,
            actor_name=connection.actor_name,
            action=Action.MLFLOW_WEBHOOK_RECEIVED,
            target=delivery,
            target_repr=f"{event} {data.get('name', '')}"[:255],
            data={"connection": connection.name, "delivery_id": delivery_id, "event": event, **data},
        )
        transaction.on_commit(lambda: enqueue(PROCESS_DELIVERY, delivery.pk))
    return delivery, True


class DeliveryRetry(Exception):
    """MLflow could not be reached while processing a delivery: the task tries again later."""


def delivery_process(delivery_id: int, *, last_attempt: bool = True) -> str:
    """Re-read the model a delivery names (``sync.sync_model``) and mark the delivery done or failed.

    Idempotent: a delivery already done is left alone (a redelivered task), and the re-read itself
    is. Returns the delivery's state. When MLflow cannot be reached (no answer, 429, 5xx) and this is
    not ``last_attempt``, raises DeliveryRetry with the error kept on the delivery; otherwise the
    delivery is marked failed with the error. The reconcile catches what a failed delivery missed.
    """
    delivery = InboundDelivery.objects.select_related("connection").filter(pk=delivery_id).first()
    if delivery is None or delivery.state == DeliveryState.DONE:
        return delivery.state if delivery is not None else "missing"
    name = str(delivery.payload.get("data", {}).get("name", ""))
    try:
        sync.sync_model(delivery.connection, name)
    except (MlflowError, SecretMissing) as exc:
        message = str(exc)[:2000]
        if isinstance(exc, MlflowError) and exc.transient and not last_attempt:
            InboundDelivery.objects.filter(pk=delivery.pk).update(error=message)
            raise DeliveryRetry(message) from exc
        return _finish(delivery, DeliveryState.FAILED, message)
    except Exception as exc:  # a bug of Signet's: the delivery says so, the worker's log has the traceback
        _finish(delivery, DeliveryState.FAILED, f"The re-read failed in Signet ({type(exc).__name__}).")
        raise
    return _finish(delivery, DeliveryState.DONE, "")


def _finish(delivery: InboundDelivery, state: str, error: str) -> str:
    InboundDelivery.objects.filter(pk=delivery.pk).exclude(state=DeliveryState.DONE).update(
        state=state, error=error, processed_at=timezone.now()
    )
    return state
