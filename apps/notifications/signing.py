"""HMAC-SHA256 signatures of webhook payloads (docs/webhooks.md shows the receiving side)."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "Signet-Timestamp"
SIGNATURE_HEADER = "Signet-Signature"
EVENT_HEADER = "Signet-Event"
DELIVERY_HEADER = "Signet-Delivery"
SCHEME = "v1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the header value ``v1=<hex>`` signing ``<timestamp>.<body>`` with ``secret``.

    The timestamp is inside the signed bytes so a receiver can refuse an old payload replayed later.
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Check a received signature header in constant time."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    return hmac.compare_digest(signature(secret, stamp, body), header)
