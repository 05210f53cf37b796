"""Signatures of webhook payloads, in the Standard Webhooks format (docs/webhooks.md).

A delivery carries ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64>``,
HMAC-SHA256 of ``<id>.<timestamp>.<body>``), so any Standard Webhooks library verifies it with the
subscription's ``whsec_…`` secret. The signing itself is the ``standardwebhooks`` package's.

Receivers written before this format check ``Signet-Signature`` (``v1=<hex>`` of
``<timestamp>.<body>``, keyed with the secret's text); it is still sent, and will be dropped in a
later release. Secrets made before the change are URL-safe base64, not the standard alphabet:
``key`` reads both, and replacing such a secret gives a standard one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
EVENT_HEADER = "Signet-Event"
DELIVERY_HEADER = "Signet-Delivery"
LEGACY_TIMESTAMP_HEADER = "Signet-Timestamp"
LEGACY_SIGNATURE_HEADER = "Signet-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix Standard Webhooks gives every secret, not a secret
_URLSAFE = str.maketrans("+/", "-_")


def new_secret() -> str:
    """A secret as Standard Webhooks defines it: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def key(secret: str) -> bytes:
    """The HMAC key of a secret: its base64 part decoded (standard or URL-safe alphabet)."""
    body = secret.removeprefix(SECRET_PREFIX).rstrip("=")
    try:
        return base64.urlsafe_b64decode(body.translate(_URLSAFE) + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return secret.encode()  # not base64 at all: sign with its bytes rather than not at all


def headers(
    secret: str, *, message_id: str, timestamp: int, body: bytes, previous: str | None = None
) -> dict[str, str]:
    """The signature headers of one attempt: the standard three, and the legacy pair.

    While a replaced secret still signs (``previous``), ``webhook-signature`` carries both
    signatures, space-separated as the format allows for rotation, and the legacy header is signed
    with the old secret, the one receivers of the earlier format still hold.
    """
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    keys = [secret] if previous is None else [secret, previous]
    signed = " ".join(Webhook(key(each)).sign(message_id, moment, body.decode()) for each in keys)
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signed,
        LEGACY_TIMESTAMP_HEADER: str(timestamp),
        LEGACY_SIGNATURE_HEADER: legacy_signature(previous or secret, timestamp, body),
    }


def legacy_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex>`` signing ``<timestamp>.<body>`` with the secret's text (the format before 2026-12)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def legacy_verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Check a legacy ``Signet-Signature`` header in constant time."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    return hmac.compare_digest(legacy_signature(secret, stamp, body), header)
