"""The hash chain: canonical form of an event, its hash, and verification of a stream of events.

Hash of event n = SHA-256(prev_hash of n as 32 raw bytes || canonical JSON of n), where the canonical
JSON has sorted keys, UTF-8, no whitespace, and the fields of ``CHAINED_FIELDS``. Event 1 chains
from 32 zero bytes. docs/audit.md states the same for anyone writing an independent verifier.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.core.ids import parse_id

GENESIS_HASH = "0" * 64

CHAINED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_roles",
    "auth_method",
    "request_id",
    "ip",
    "project_pk",
    "project_slug",
    "target_type",
    "target_id",
    "target_repr",
    "action",
    "changes",
    "data",
)


def format_time(moment: datetime) -> str:
    """Return the canonical text of a time: UTC, microseconds, ``Z``."""
    utc = moment.astimezone(UTC)
    if utc.year >= 1000:  # the same text as strftime's from year 1000 on, several times faster (verification)
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# One encoder for every event: json.dumps with options builds a new one per call.
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    """Return the canonical JSON bytes of an event's chained fields."""
    payload = {name: fields[name] for name in CHAINED_FIELDS}
    if isinstance(payload["occurred_at"], datetime):
        payload["occurred_at"] = format_time(payload["occurred_at"])
    return _encode(payload).encode("utf-8")


def compute_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """Return the hex SHA-256 of the previous hash (raw bytes) followed by the canonical JSON."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_json(fields)).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    # Where the checkpoint comes from, for messages: "the checkpoint given", "signed checkpoint 12", ...
    label: str = field(default="the checkpoint", compare=False)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse ``SEQ:HASH``; raise ValueError with a readable message otherwise."""
        seq_text, sep, hash_text = text.strip().partition(":")
        seq = parse_id(seq_text)
        if not sep or seq is None:
            raise ValueError("a checkpoint is SEQ:HASH, for example 42:3f5a…, with SEQ a positive number")
        hash_text = hash_text.lower()
        if len(hash_text) != 64 or any(c not in "0123456789abcdef" for c in hash_text):
            raise ValueError("the hash of a checkpoint is 64 hexadecimal characters")
        return cls(seq=seq, hash=hash_text)

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    head: Checkpoint | None
    broken_seq: int | None = None
    reason: str = ""
    # Signed checkpoints whose signature held, and those that could not be checked (no public key).
    signed_checkpoints: int = 0
    unchecked_signatures: int = 0


EventCheck = Callable[[Mapping[str, Any]], str | None]


def _link_problem(event: Mapping[str, Any], expected_seq: int, prev_hash: str) -> tuple[int, str] | None:
    """Return (seq, reason) when ``event`` is not the next link of the chain."""
    seq = int(event["seq"])
    if seq != expected_seq:
        reason = f"seq {expected_seq} is missing (found {seq} next)" if seq > expected_seq else f"seq {seq} repeats"
        return expected_seq, reason
    if event["prev_hash"] != prev_hash:
        return seq, "its prev_hash is not the hash of the event before it"
    if compute_hash(prev_hash, event) != event["hash"]:
        return seq, "its content does not match its hash"
    return None


def _anchor_problem(digest: str, points: Iterable[Checkpoint]) -> str | None:
    for point in points:
        if digest != point.hash:
            return f"its hash differs from {point.label}: the chain was recomputed"
    return None


def verify(
    events: Iterable[Mapping[str, Any]],
    checkpoint: Checkpoint | Iterable[Checkpoint] | None = None,
    *,
    event_check: EventCheck | None = None,
    start: Checkpoint | None = None,
) -> VerifyResult:
    """Walk events in ``seq`` order and return the first break, if any.

    Each event is a mapping of ``CHAINED_FIELDS`` plus ``prev_hash`` and ``hash``. Checks: seq runs
    1, 2, 3 … without gaps; prev_hash is the previous event's hash; hash is what the content gives;
    with checkpoints, the chain reaches every checkpoint's seq with exactly its hash; and
    ``event_check``, when given, has nothing to say about any event (it returns a reason otherwise).
    With ``start``, the events begin right after it (seq ``start.seq + 1``, chained from its hash);
    checkpoints before ``start`` are not checked, one at ``start`` is compared with it.
    """
    anchors: dict[int, list[Checkpoint]] = {}
    for point in [checkpoint] if isinstance(checkpoint, Checkpoint) else checkpoint or []:
        anchors.setdefault(point.seq, []).append(point)
    head: Checkpoint | None = start
    if start is not None:
        for seq in [seq for seq in anchors if seq <= start.seq]:
            problem = _anchor_problem(start.hash, anchors.pop(seq)) if seq == start.seq else None
            if problem:
                return VerifyResult(False, 0, head, seq, problem)
    else:
        # Seq 0 is the genesis: a head recorded before the first event (a writer locked the chain and
        # wrote nothing) holds with the genesis hash.
        problem = _anchor_problem(GENESIS_HASH, anchors.pop(0, []))
        if problem:
            return VerifyResult(False, 0, head, 0, problem)
    expected_seq = start.seq + 1 if start else 1
    prev_hash = start.hash if start else GENESIS_HASH
    for event in events:
        broken = _link_problem(event, expected_seq, prev_hash)
        if broken is None:
            problem = _anchor_problem(event["hash"], anchors.pop(expected_seq, [])) or (
                event_check(event) if event_check is not None else None
            )
            broken = (expected_seq, problem) if problem else None
        if broken is not None:
            return VerifyResult(False, expected_seq - 1, head, broken[0], broken[1])
        prev_hash = event["hash"]
        head = Checkpoint(expected_seq, prev_hash)
        expected_seq += 1
    if anchors:
        last = expected_seq - 1
        beyond = anchors[max(anchors)][0]
        reason = (
            f"the trail is empty, but {beyond.label} says it held {beyond.seq} events: it was emptied"
            if last == 0
            else f"the chain ends at seq {last}, before {beyond.label} at seq {beyond.seq}: it was cut short"
        )
        return VerifyResult(False, last, head, last + 1, reason)
    return VerifyResult(True, expected_seq - 1, head)


_HEX = frozenset("0123456789abcdef")


def _is_hex(text: object, length: int) -> bool:
    return isinstance(text, str) and len(text) == length and set(text) <= _HEX


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint as signed: the chain had ``head_hash`` at ``seq``, said key ``key_id`` at ``signed_at``."""

    seq: int
    head_hash: str
    signed_at: str
    key_id: str
    signature: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SignedCheckpoint:
        """Read a checkpoint from JSON (a checkpoint file line, an event's data); ValueError if malformed."""
        if not isinstance(data, Mapping):
            raise ValueError("a signed checkpoint is a JSON object")
        seq = data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError("its seq is not a positive whole number")
        if not _is_hex(data.get("head_hash"), 64):
            raise ValueError("its head_hash is not 64 lowercase hexadecimal characters")
        if not _is_hex(data.get("key_id"), 16):
            raise ValueError("its key_id is not 16 lowercase hexadecimal characters")
        if not _is_hex(data.get("signature"), 128):
            raise ValueError("its signature is not 128 lowercase hexadecimal characters")
        if not isinstance(data.get("signed_at"), str):
            raise ValueError("its signed_at is not a time")
        return cls(seq, data["head_hash"], data["signed_at"], data["key_id"], data["signature"])

    @classmethod
    def from_row(cls, row: Any) -> SignedCheckpoint:
        """Read a stored ``AuditCheckpoint``."""
        return cls(row.seq, row.head_hash, format_time(row.signed_at), row.key_id, row.signature)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    def anchor(self, label: str) -> Checkpoint:
        return Checkpoint(self.seq, self.head_hash, label=label)
