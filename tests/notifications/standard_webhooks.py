"""A receiver of Standard Webhooks written from the specification alone, to check Signet's signatures.

Signet signs with the ``standardwebhooks`` package; checking its output with that same package would
pass even if both were wrong in the same way. This is the spec's own recipe, with nothing but the
standard library: the signed content is ``<webhook-id>.<webhook-timestamp>.<body>``, the key is the
base64 after ``whsec_``, the MAC HMAC-SHA256, and ``webhook-signature`` a space-separated list of
``v1,<base64 of the MAC>`` (several while a secret is being replaced).
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

TOLERANCE_SECONDS = 5 * 60  # the spec's suggested window against replays

# The worked example the specification's libraries are tested with: this secret, id, timestamp and
# body sign to this value in every language.
EXAMPLE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EXAMPLE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
EXAMPLE_TIMESTAMP = 1614265330
EXAMPLE_BODY = b'{"test": 2432232314}'
EXAMPLE_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def key(secret: str | bytes) -> bytes:
    """The HMAC key: raw bytes as given, or the base64 part of a ``whsec_`` secret decoded."""
    if isinstance(secret, bytes):
        return secret
    return base64.b64decode(secret.removeprefix("whsec_"), validate=True)


def signature(secret: str | bytes, message_id: str, timestamp: str | int, body: bytes) -> str:
    """``v1,<base64>`` over ``<id>.<timestamp>.<body>`` with HMAC-SHA256."""
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key(secret), content, hashlib.sha256).digest()).decode()


def verify(secret: str | bytes, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> bool:
    """Whether one of the ``webhook-signature`` entries is ours and the timestamp is within tolerance."""
    lower = {name.lower(): value for name, value in headers.items()}  # header names are case-insensitive
    try:
        message_id, stamp = lower["webhook-id"], lower["webhook-timestamp"]
        sent = int(stamp)
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, message_id, stamp, body)
    return any(hmac.compare_digest(expected, each) for each in lower.get("webhook-signature", "").split(" "))
